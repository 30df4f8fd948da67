/**
 * Projections onto boxes: `projectionNonNegative`, `projectionBox`,
 * `projectionHypercube`, `projectionLinfBall` (optax.projections
 * `projection_non_negative`, `projection_box`, `projection_hypercube`,
 * `projection_linf_ball`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTensor, treeMap } from '../tree.js';
import { checkFinite, checkFloatTree } from '../validate.js';

/** A bound of {@link projectionBox}: a number for every element, or a tree with the structure of the input. */
export type Bound = number | unknown;

/** `max(x, 0)` element-wise on every leaf. Reference: optax `projection_non_negative`. */
export function projectionNonNegative<T>(tree: T): T {
  checkFloatTree('projectionNonNegative', 'tree', tree);
  return tf.tidy(() => treeMap((x: tf.Tensor) => tf.relu(x), tree)) as T;
}

function boundLeaves(fn: string, arg: string, bound: Bound, tree: unknown): unknown {
  if (typeof bound === 'number') return treeMap((x: tf.Tensor) => tf.fill(x.shape, bound), tree);
  if (isTensor(bound) && isTensor(tree)) return bound;
  checkFloatTree(fn, arg, bound);
  return bound;
}

/**
 * `clip(x, lower, upper)` element-wise: the projection onto the box
 * `lower ≤ x ≤ upper`. `lower` and `upper` are numbers or trees with the
 * structure of `tree` (broadcast leaf by leaf). Reference: optax `projection_box`.
 */
export function projectionBox<T>(tree: T, lower: Bound, upper: Bound): T {
  const fn = 'projectionBox';
  checkFloatTree(fn, 'tree', tree);
  if (typeof lower === 'number') checkFinite(fn, 'lower', lower);
  if (typeof upper === 'number') checkFinite(fn, 'upper', upper);
  return tf.tidy(() => {
    const lo = boundLeaves(fn, 'lower', lower, tree);
    const hi = boundLeaves(fn, 'upper', upper, tree);
    return treeMap((x: tf.Tensor, l: tf.Tensor, h: tf.Tensor) => tf.minimum(tf.maximum(x, l), h), tree, [lo, hi], {
      names: ['tree', 'lower', 'upper'],
    });
  }) as T;
}

/** The projection onto the hypercube `[0, scale]^n`: `projectionBox(tree, 0, scale)` (default scale 1). Reference: optax `projection_hypercube`. */
export function projectionHypercube<T>(tree: T, scale: Bound = 1): T {
  return projectionBox(tree, 0, scale);
}

/** The projection onto the ∞-norm ball of radius `scale`: `clip(x, -scale, scale)` (default 1). Reference: optax `projection_linf_ball`. */
export function projectionLinfBall<T>(tree: T, scale = 1): T {
  checkFinite('projectionLinfBall', 'scale', scale);
  return projectionBox(tree, -scale, scale);
}
