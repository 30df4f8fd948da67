/**
 * Masked reductions and the softmax family, as jax computes them
 * (`jnp.sum(..., where=)`, `jax.nn.log_softmax(..., where=)`,
 * `jax.scipy.special.logsumexp`). Call inside `tf.tidy`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** `Σ x` over `axes`, counting only where `where` is true (as `jnp.sum(x, axes, where=where)`). */
export function maskedSum(x: tf.Tensor, axes: number[], where?: tf.Tensor, keepDims = false): tf.Tensor {
  const v = where === undefined ? x : tf.where(tf.broadcastTo(where, x.shape), x, tf.zerosLike(x));
  return tf.sum(v, axes, keepDims);
}

/** `max x` over `axes` where `where` is true, −∞ for an empty selection (as `jnp.max(..., initial=-inf, where=)`). */
export function maskedMax(x: tf.Tensor, axes: number[], where?: tf.Tensor, keepDims = false): tf.Tensor {
  const v = where === undefined ? x : tf.where(tf.broadcastTo(where, x.shape), x, tf.fill(x.shape, -Infinity));
  if (v.size === 0) return tf.fill(reducedShape(x.shape, axes, keepDims), -Infinity);
  return tf.max(v, axes, keepDims);
}

function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** `log softmax(x)` over `axes` (−∞ outside `where`), as `jax.nn.log_softmax`. */
export function logSoftmax(x: tf.Tensor, axes: number[], where?: tf.Tensor): tf.Tensor {
  const xMax = maskedMax(x, axes, where, true);
  const safe = where === undefined ? x : tf.where(tf.broadcastTo(where, x.shape), x, tf.fill(x.shape, -Infinity));
  const shifted = tf.sub(safe, xMax);
  const out = tf.sub(shifted, tf.log(maskedSum(tf.exp(shifted), axes, where, true)));
  return where === undefined ? out : tf.where(tf.broadcastTo(where, out.shape), out, tf.fill(out.shape, -Infinity));
}

/** `softmax(x)` over `axes` (0 outside `where`), as `jax.nn.softmax`. */
export function softmax(x: tf.Tensor, axes: number[], where?: tf.Tensor): tf.Tensor {
  const xMax = maskedMax(x, axes, where, true);
  const safe = where === undefined ? x : tf.where(tf.broadcastTo(where, x.shape), x, tf.fill(x.shape, -Infinity));
  const e = tf.exp(tf.sub(safe, xMax));
  const out = tf.div(e, maskedSum(e, axes, where, true));
  return where === undefined ? out : tf.where(tf.broadcastTo(where, out.shape), out, tf.zerosLike(out));
}

/**
 * `log Σ b·exp(a)` over `axes` where `where` is true, as
 * `jax.scipy.special.logsumexp(a, axes, b=b, where=where)`: shifted by the
 * largest finite term; NaN where a weighted sum is negative.
 */
export function logSumExp(a: tf.Tensor, axes: number[], options: { b?: tf.Tensor; where?: tf.Tensor; keepDims?: boolean } = {}): tf.Tensor {
  const { b, where, keepDims = false } = options;
  let x = where === undefined ? a : tf.where(tf.broadcastTo(where, a.shape), a, tf.zerosLike(a));
  if (b !== undefined) x = tf.where(tf.notEqual(tf.broadcastTo(b, x.shape), 0), x, tf.fill(x.shape, -Infinity));
  const m = maskedMax(x, axes, where, true);
  const amax = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
  let e = tf.exp(tf.sub(x, amax));
  if (b !== undefined) e = tf.mul(e, b);
  const sum = maskedSum(e, axes, where, keepDims);
  const out = tf.add(tf.log(tf.abs(sum)), keepDims ? amax : tf.squeeze(amax, axes));
  return b === undefined ? out : tf.where(tf.less(sum, 0), tf.fill(out.shape, Number.NaN), out);
}

/** `log(exp(a) + exp(b))` element-wise, as `jnp.logaddexp`. */
export function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const amax = tf.maximum(a, b);
  const delta = tf.sub(a, b);
  const stable = tf.add(amax, tf.log1p(tf.exp(tf.neg(tf.abs(delta)))));
  return tf.where(tf.isNaN(delta), tf.add(a, b), stable);
}

/** `log sigmoid(x) = -softplus(-x)`, with `softplus(x) = logaddexp(x, 0)` as jax computes it. */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  const nx = tf.neg(x);
  return tf.neg(logAddExp(nx, tf.zerosLike(nx)));
}
