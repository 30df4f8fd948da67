/**
 * Projections onto the ℓ2 sphere and ball: `projectionL2Sphere`,
 * `projectionL2Ball` (optax.projections `projection_l2_sphere`,
 * `projection_l2_ball`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeMap } from '../tree.js';
import { treeNorm } from '../tree-utils.js';
import { checkFloatTree, checkPositive } from '../validate.js';

/**
 * The projection onto the ℓ2 sphere of radius `scale`: `x · scale / ‖x‖`
 * (NaN for a zero tree, as in optax). Default `scale = 1`. Reference: optax `projection_l2_sphere`.
 */
export function projectionL2Sphere<T>(tree: T, scale = 1): T {
  checkFloatTree('projectionL2Sphere', 'tree', tree);
  checkPositive('projectionL2Sphere', 'scale', scale);
  return tf.tidy(() => {
    const factor = tf.div(scale, treeNorm(tree));
    return treeMap((x: tf.Tensor) => tf.mul(factor, x), tree);
  }) as T;
}

/**
 * The projection onto the ℓ2 ball of radius `scale`:
 * `x · scale / sqrt(max(‖x‖², scale²))`. Default `scale = 1`. Reference: optax `projection_l2_ball`.
 */
export function projectionL2Ball<T>(tree: T, scale = 1): T {
  checkFloatTree('projectionL2Ball', 'tree', tree);
  checkPositive('projectionL2Ball', 'scale', scale);
  return tf.tidy(() => {
    const factor = tf.div(scale, tf.sqrt(tf.maximum(treeNorm(tree, 2, true), Math.fround(scale) ** 2)));
    return treeMap((x: tf.Tensor) => tf.mul(factor, x), tree);
  }) as T;
}
