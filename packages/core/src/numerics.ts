/**
 * Gradient-safe norms and optax's deprecated global norm: `safeNorm`,
 * `safeRootMeanSquares`, `globalNorm` (optax `safe_norm`,
 * `safe_root_mean_squares`, `global_norm`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTensor, treeLeaves } from './tree.js';
import { treeNorm } from './tree-utils.js';
import { checkFinite, showValue } from './validate.js';

/** A vector norm's order for {@link safeNorm}: 2 (default), 1, `Infinity`, `-Infinity`, 0 or any other number `p`. */
export type SafeNormOrd = number | null | undefined;

/** The axes of `x` a norm reduces (all of them by default), checked. */
function normAxes(fn: string, x: tf.Tensor, axis: number | readonly number[] | null | undefined): number[] {
  const axes = axis === null || axis === undefined ? x.shape.map((_, i) => i) : typeof axis === 'number' ? [axis] : [...axis];
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -x.rank || a >= x.rank)
      throw new Error(`${fn}: \`axis\` ${showValue(a)} is out of range for rank ${x.rank}`);
  }
  return axes.map((a) => (a + x.rank) % x.rank);
}

/**
 * `f(x)` as a constant for the gradient tape: tfjs would backpropagate zeros
 * through a comparison into the norm beneath it (and `0 · ∞` at a zero norm
 * is NaN), where jax passes no gradient through a comparison at all.
 */
function constantOf(x: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  return tf.customGrad(((v: tf.Tensor) => ({ value: f(v), gradFunc: () => tf.zerosLike(v) })) as never)(x);
}

/** `jnp.linalg.norm(x, ord, axis, keepdims=true)` for the vector norms (the Frobenius norm when `ord` is 2 over several axes). */
function vectorNorm(fn: string, x: tf.Tensor, ord: SafeNormOrd, axes: number[]): tf.Tensor {
  const p = ord ?? 2;
  if (axes.length > 1 && p !== 2) {
    throw new Error(
      `${fn}: \`ord\` ${showValue(ord)} over ${axes.length} axes is a matrix norm, which gradtx does not offer (only ord 2, the Frobenius norm)`,
    );
  }
  if (p === 2) return tf.sqrt(tf.sum(tf.mul(x, x), axes, true));
  if (p === 1) return tf.sum(tf.abs(x), axes, true);
  if (p === Infinity) return tf.max(tf.abs(x), axes, true);
  if (p === -Infinity) return tf.min(tf.abs(x), axes, true);
  if (p === 0) return tf.sum(tf.cast(tf.notEqual(x, 0), 'float32'), axes, true);
  if (typeof p !== 'number' || Number.isNaN(p)) throw new Error(`${fn}: \`ord\` must be a number, got ${showValue(ord)}`);
  return tf.pow(tf.sum(tf.pow(tf.abs(x), p), axes, true), 1 / p);
}

/**
 * A norm whose gradient is safe at small norms: with `n = ‖x‖_ord` over
 * `axis` (all axes by default),
 * ```
 * safeNorm(x) = minNorm               where n ≤ minNorm
 *             = ‖x'‖_ord              elsewhere, x' = x with the entries of those slices replaced by 1
 * ```
 * equal to `max(n, minNorm)` in value, but its gradient is 0 (not NaN) where
 * the norm is clamped. `ord` is a vector norm's order (2 by default, or the
 * Frobenius norm over several axes); `keepdims` keeps the reduced axes as 1.
 * Reference: optax `safe_norm`.
 */
export function safeNorm(
  x: tf.Tensor,
  minNorm: number,
  ord?: SafeNormOrd,
  axis?: number | readonly number[] | null,
  keepdims = false,
): tf.Tensor {
  const fn = 'safeNorm';
  checkFinite(fn, 'minNorm', minNorm);
  const axes = normAxes(fn, x, axis);
  return tf.tidy(() => {
    const small = constantOf(x, (v) => tf.lessEqual(vectorNorm(fn, v, ord, axes), minNorm));
    const masked = tf.where(tf.broadcastTo(small, x.shape), tf.onesLike(x), x);
    const out = tf.where(small, tf.fill(small.shape, minNorm), vectorNorm(fn, masked, ord, axes));
    return keepdims ? out : tf.squeeze(out, axes.length === x.rank ? undefined : axes);
  });
}

/**
 * Root mean square with a gradient that is safe at small values:
 * ```
 * rms = sqrt(mean(x²))     safeRootMeanSquares(x) = minRms where rms ≤ minRms, else rms
 * ```
 * (over all of `x`; where clamped, `x` is replaced by ones before the
 * second evaluation, so the gradient is 0 rather than NaN). Reference:
 * optax `safe_root_mean_squares`.
 */
export function safeRootMeanSquares(x: tf.Tensor, minRms: number): tf.Scalar {
  checkFinite('safeRootMeanSquares', 'minRms', minRms);
  return tf.tidy(() => {
    const small = constantOf(x, (v) => tf.lessEqual(tf.sqrt(tf.mean(tf.mul(v, v))), minRms));
    const masked = tf.where(tf.broadcastTo(small, x.shape), tf.onesLike(x), x);
    return tf.where(small, tf.scalar(minRms), tf.sqrt(tf.mean(tf.mul(masked, masked)))) as tf.Scalar;
  });
}

/**
 * The global L2 norm of a tree, `sqrt(Σ_leaves Σ x²)`: optax's deprecated
 * `global_norm`, the same as {@link treeNorm}`(tree)`. Reference: optax
 * `global_norm`.
 */
export function globalNorm(updates: unknown): tf.Tensor {
  return treeNorm(updates);
}

/**
 * Whether every element of every tensor leaf of `tree` is finite, as a
 * `bool` scalar tensor (`jnp.all(isfinite)` over the tree). Zero-size leaves
 * are skipped and a tree without elements is finite, as in jnp (tfjs's
 * `all` of nothing is false).
 *
 * @internal
 */
export function treeAllFinite(tree: unknown): tf.Tensor {
  const leaves = treeLeaves(tree).filter((t): t is tf.Tensor => isTensor(t) && t.size > 0);
  if (leaves.length === 0) return tf.scalar(true, 'bool');
  return tf.tidy(() => tf.all(tf.stack(leaves.map((t) => tf.all(tf.isFinite(t))))));
}
