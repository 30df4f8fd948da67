/**
 * Per-example gradient clipping for differentially private training:
 * `perExampleGlobalNormClip`, `perExampleLayerNormClip` (optax
 * `per_example_global_norm_clip`, `per_example_layer_norm_clip`). Functions
 * of a tree of per-example gradients (batch on axis 0 of every leaf), not
 * transformations.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTensor, treeFlatten, treeLeaves, treeMap, treeUnflatten } from '../tree.js';
import { checkFloatTree, checkNonNegative } from '../validate.js';

function checkBatched(fn: string, grads: unknown): tf.Tensor[] {
  checkFloatTree(fn, 'grads', grads);
  const leaves = treeLeaves<tf.Tensor>(grads);
  const n = leaves[0]?.shape[0];
  if (leaves.length === 0 || leaves.some((g) => g.rank < 1 || g.shape[0] !== n)) {
    throw new Error(
      `${fn}: every leaf of \`grads\` must have the batch on axis 0, the same size in each; got shapes ${leaves.map((g) => `[${g.shape.join(', ')}]`).join(', ')}`,
    );
  }
  return leaves;
}

/** Σ_i m_i g_i, the first axis contracted with the multipliers. */
function weightedSum(multipliers: tf.Tensor, g: tf.Tensor): tf.Tensor {
  const flat = tf.reshape(g, [g.shape[0] as number, -1]);
  return tf.reshape(tf.matMul(tf.reshape(multipliers, [1, -1]), flat), g.shape.slice(1));
}

function clipLeaves(leaves: tf.Tensor[], clip: number): [tf.Tensor[], tf.Tensor] {
  const sq = leaves.map((g) => tf.sum(tf.reshape(tf.square(g), [g.shape[0] as number, -1]), 1));
  const norms = tf.sqrt(sq.reduce((a, b) => tf.add(a, b)));
  const raw = tf.minimum(tf.div(clip, norms), 1);
  const multipliers = tf.where(tf.isNaN(raw), tf.onesLike(raw), raw);
  const numClipped = tf.sum(tf.cast(tf.less(multipliers, 1), 'int32'));
  return [leaves.map((g) => weightedSum(multipliers, g)), numClipped];
}

/**
 * Clips each example's gradient to global norm `l2NormClip` and sums over
 * the batch: with `n_i = ‖(g_i)‖` over every leaf of example `i`,
 * $$
 * m_i = \min\!\Big(\frac{C}{n_i}, 1\Big), \qquad \mathrm{out} = \sum_i m_i\, g_i, \qquad C = \mathrm{l2NormClip}
 * $$
 *
 * ```
 * m_i = min(l2NormClip / n_i, 1)   (1 where that is NaN)
 * out = Σ_i m_i g_i,   numClipped = #{i : m_i < 1}
 * ```
 * Returns `[sum, numClipped]` (a tree without the batch axis, an int32
 * scalar). Reference: Abadi et al., "Deep Learning with Differential
 * Privacy" (2016); optax `per_example_global_norm_clip`.
 */
export function perExampleGlobalNormClip<T>(grads: T, l2NormClip: number): [unknown, tf.Tensor] {
  const fn = 'perExampleGlobalNormClip';
  const leaves = checkBatched(fn, grads);
  checkNonNegative(fn, 'l2NormClip', l2NormClip);
  return tf.tidy(() => {
    const { treedef } = treeFlatten(grads);
    const [sums, numClipped] = clipLeaves(leaves, l2NormClip);
    return [treeUnflatten(treedef, sums), numClipped] as never;
  });
}

/**
 * Clips each example's gradient leaf by leaf (each layer to its share of
 * `globalL2NormClip`) and sums over the batch. With `uniform` (default) every
 * one of the `L` leaves gets `globalL2NormClip · sqrt(1 / L)`; otherwise a
 * leaf of `s` elements per example gets `globalL2NormClip · sqrt(s / S)`
 * (`S` all elements per example); `uniform` is the third argument or
 * `{ uniform }`. Returns `[sums, numClipped]`, two trees
 * with the structure of `grads` (int32 scalars in the second). Reference:
 * optax `per_example_layer_norm_clip`.
 *
 * $$
 * \mathrm{out}_\ell = \sum_i \min\!\Big(\frac{C_\ell}{\lVert g_{i,\ell} \rVert}, 1\Big)\, g_{i,\ell}, \qquad C_\ell = C \sqrt{1 / L} \;\; \text{or} \;\; C \sqrt{s_\ell / S}
 * $$
 */
export function perExampleLayerNormClip<T>(
  grads: T,
  globalL2NormClip: number,
  uniformOrOptions: boolean | { uniform?: boolean } = true,
): [unknown, unknown] {
  const fn = 'perExampleLayerNormClip';
  const uniform = typeof uniformOrOptions === 'object' && uniformOrOptions !== null ? (uniformOrOptions.uniform ?? true) : uniformOrOptions;
  const leaves = checkBatched(fn, grads);
  checkNonNegative(fn, 'globalL2NormClip', globalL2NormClip);
  if (typeof uniform !== 'boolean') throw new Error(`${fn}: \`uniform\` must be a boolean, got ${String(uniform)}`);
  const perExample = (g: tf.Tensor) => g.size / (g.shape[0] as number);
  const total = leaves.reduce((n, g) => n + perExample(g), 0);
  return tf.tidy(() => {
    const results = new Map<tf.Tensor, [tf.Tensor, tf.Tensor]>();
    for (const g of leaves) {
      const share = uniform ? (1 / leaves.length) ** 0.5 : (perExample(g) / total) ** 0.5;
      const [[sum], count] = clipLeaves([g], globalL2NormClip * share);
      results.set(g, [sum as tf.Tensor, count]);
    }
    const pick = (k: 0 | 1) => treeMap((g: unknown) => (isTensor(g) ? (results.get(g) as [tf.Tensor, tf.Tensor])[k] : g), grads);
    return [pick(0), pick(1)] as never;
  });
}
