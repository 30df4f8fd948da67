/**
 * Projections onto the simplex and the ℓ1 sphere and ball:
 * `projectionSimplex`, `projectionL1Sphere`, `projectionL1Ball`
 * (optax.projections `projection_simplex`, `projection_l1_sphere`,
 * `projection_l1_ball`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeFlatten, treeMap, treeUnflatten } from '../tree.js';
import { treeNorm } from '../tree-utils.js';
import { checkFloatTree, checkPositive } from '../validate.js';

/** The projection of a vector onto the unit simplex (sort-based, Held et al.). */
function unitSimplex(values: tf.Tensor1D): tf.Tensor1D {
  const n = values.shape[0];
  const u = tf.topk(values, n, true).values;
  const cumsum = tf.cumsum(u);
  const ind = tf.range(1, n + 1, 1, 'float32');
  const cond = tf.greater(tf.add(tf.div(1, ind), tf.sub(u, tf.div(cumsum, ind))), 0);
  const idx = tf.sum(tf.cast(cond, 'int32'));
  const idxF = tf.cast(idx, 'float32');
  const tau = tf.reshape(tf.gather(cumsum, tf.reshape(tf.sub(idx, tf.scalar(1, 'int32')), [1])), []);
  return tf.relu(tf.add(tf.div(1, idxF), tf.sub(values, tf.div(tau, idxF))));
}

/**
 * The Euclidean projection of the whole tree (its leaves flattened into one
 * vector) onto the simplex `{x ≥ 0, Σ x = scale}`:
 * `x ↦ scale · Π(x / scale)` with `Π(v)_i = max(v_i - τ, 0)` and `τ` found by
 * sorting. Default `scale = 1`. Reference: Held et al., "Validation of
 * subgradient optimization" (1974); Condat, "Fast projection onto the simplex
 * and the ℓ1 ball" (2016); optax `projection_simplex`.
 */
export function projectionSimplex<T>(tree: T, scale = 1): T {
  const fn = 'projectionSimplex';
  checkFloatTree(fn, 'tree', tree);
  checkPositive(fn, 'scale', scale);
  return tf.tidy(() => {
    const { leaves, treedef } = treeFlatten<tf.Tensor>(tree);
    if (leaves.length === 0) return tree as tf.TensorContainer;
    const flat = tf.concat(leaves.map((x) => tf.reshape(x, [-1])));
    const projected = tf.mul(scale, unitSimplex(tf.div(flat, scale) as tf.Tensor1D));
    const parts = tf.split(
      projected,
      leaves.map((x) => x.size),
    );
    return treeUnflatten(
      treedef,
      parts.map((p, i) => tf.reshape(p, (leaves[i] as tf.Tensor).shape)),
    );
  }) as T;
}

/**
 * The projection onto the ℓ1 sphere `{Σ |x| = scale}`: `sign(x) · projectionSimplex(|x|, scale)`.
 * Default `scale = 1`. Reference: optax `projection_l1_sphere`.
 */
export function projectionL1Sphere<T>(tree: T, scale = 1): T {
  checkFloatTree('projectionL1Sphere', 'tree', tree);
  checkPositive('projectionL1Sphere', 'scale', scale);
  return tf.tidy(() => {
    const abs = projectionSimplex(
      treeMap((x: tf.Tensor) => tf.abs(x), tree),
      scale,
    );
    return treeMap((x: tf.Tensor, a: tf.Tensor) => tf.mul(tf.sign(x), a), tree, [abs]);
  }) as T;
}

/**
 * The projection onto the ℓ1 ball `{Σ |x| ≤ scale}`: the tree itself when
 * inside, else {@link projectionL1Sphere}. Default `scale = 1`. Reference:
 * Duchi et al., "Efficient Projections onto the ℓ1-Ball" (2008); optax `projection_l1_ball`.
 */
export function projectionL1Ball<T>(tree: T, scale = 1): T {
  checkFloatTree('projectionL1Ball', 'tree', tree);
  checkPositive('projectionL1Ball', 'scale', scale);
  return tf.tidy(() => {
    const inside = tf.lessEqual(treeNorm(tree, 1), scale);
    const sphere = projectionL1Sphere(tree, scale);
    return treeMap((x: tf.Tensor, s: tf.Tensor) => tf.where(inside, x, s), tree, [sphere]);
  }) as T;
}
