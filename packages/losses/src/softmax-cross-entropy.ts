/**
 * Softmax cross-entropies: `softmaxCrossEntropy`, `safeSoftmaxCrossEntropy`,
 * `softmaxCrossEntropyWithIntegerLabels`, `polyLossCrossEntropy` (optax
 * `softmax_cross_entropy`, `safe_softmax_cross_entropy`,
 * `softmax_cross_entropy_with_integer_labels`, `poly_loss_cross_entropy`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Axis, canonicalAxes, checkFloat, checkNumber, checkOptions, checkTensor, checkWhere } from './checks.js';
import { logSoftmax, logSumExp, maskedSum, softmax } from './reductions.js';

/** Options of the softmax cross-entropies: the class axis and a mask. */
export interface SoftmaxOptions {
  /** The class axis (or axes; `null`: all), default -1. */
  axis?: Axis;
  /**
   * Which classes take part (a bool tensor of the logits' shape, or of the
   * shape without the class axis, then expanded there); default all.
   */
  where?: tf.Tensor;
}

/** optax expands a `where` of lower rank at the class axis. */
function classMask(fn: string, where: tf.Tensor | undefined, logits: tf.Tensor, axes: number[]): tf.Tensor | undefined {
  const w = checkWhere(fn, where);
  if (w === undefined || w.rank === logits.rank) return w;
  return [...axes].sort((a, b) => a - b).reduce((m, axis) => tf.expandDims(m, axis), w);
}

function crossEntropy(fn: string, logits: tf.Tensor, labels: tf.Tensor, options: SoftmaxOptions | undefined): tf.Tensor {
  const o = checkOptions(fn, options, ['axis', 'where']);
  checkFloat(fn, 'logits', logits);
  checkFloat(fn, 'labels', labels);
  const axes = canonicalAxes(fn, o.axis, logits.rank);
  const where = classMask(fn, o.where, logits, axes);
  return tf.neg(maskedSum(tf.mul(labels, logSoftmax(logits, axes, where)), axes, where));
}

/**
 * The cross-entropy of `labels` (a probability distribution per example)
 * against `softmax(logits)` over the class axis: `-Σ labels · log_softmax(logits)`.
 * A `-∞` logit with a zero label gives NaN here; {@link safeSoftmaxCrossEntropy}
 * gives 0 there. Defaults `axis = -1`, no mask. Reference: optax `softmax_cross_entropy`.
 *
 * $$
 * \ell = -\sum_k y_k \log \operatorname{softmax}(z)_k
 * $$
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, options?: SoftmaxOptions): tf.Tensor {
  return tf.tidy(() => crossEntropy('softmaxCrossEntropy', logits, labels, options));
}

/**
 * {@link softmaxCrossEntropy} over the last axis, where a class with label 0
 * adds exactly 0 (so `-∞` logits for impossible classes are safe):
 * `-Σ_{labels ≠ 0} labels · log_softmax(logits)`. Reference: optax `safe_softmax_cross_entropy`.
 *
 * $$
 * \ell = -\sum_{k\,:\, y_k \ne 0} y_k \log \operatorname{softmax}(z)_k
 * $$
 */
export function safeSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const fn = 'safeSoftmaxCrossEntropy';
  checkFloat(fn, 'logits', logits);
  checkFloat(fn, 'labels', labels);
  return tf.tidy(() => {
    const logp = logSoftmax(logits, [logits.rank - 1]);
    const weighted = tf.where(tf.notEqual(labels, 0), tf.mul(labels, logp), tf.zerosLike(logp));
    return tf.neg(tf.sum(weighted, -1));
  });
}

/** Moves the class axes of `x` to the end, flattened into one (as optax does for a tuple `axis`). */
function classesLast(x: tf.Tensor, axes: number[]): tf.Tensor {
  const batch = Array.from({ length: x.rank }, (_, i) => i).filter((i) => !axes.includes(i));
  const moved = tf.transpose(x, [...batch, ...axes]);
  return tf.reshape(moved, [...batch.map((i) => x.shape[i] as number), -1]);
}

/**
 * The softmax cross-entropy with int32 class indices:
 * `logsumexp(logits) - logits[label]` over the class axis. With several class
 * axes the classes are flattened in row-major order and `labels` index the
 * flattened classes. With `where`, an example with no class selected gives 0.
 * A label in `[-K, 0)` counts from the end (as a numpy index); one outside `[-K, K)` gives NaN (jax's gather fills with NaN). Defaults
 * `axis = -1`. Reference: optax `softmax_cross_entropy_with_integer_labels`.
 *
 * $$
 * \ell = \log \sum_k e^{z_k} - z_y
 * $$
 */
export function softmaxCrossEntropyWithIntegerLabels(logits: tf.Tensor, labels: tf.Tensor, options?: SoftmaxOptions): tf.Tensor {
  const fn = 'softmaxCrossEntropyWithIntegerLabels';
  const o = checkOptions(fn, options, ['axis', 'where']);
  checkFloat(fn, 'logits', logits);
  checkTensor(fn, 'labels', labels, ['int32']);
  if (o.axis === null) throw new Error(`${fn}: \`axis\` must be an axis or a list of axes, got null`);
  const axes = canonicalAxes(fn, o.axis, logits.rank);
  return tf.tidy(() => {
    const mask = classMask(fn, o.where, logits, axes);
    const x = classesLast(logits, axes);
    const where = mask === undefined ? undefined : classesLast(tf.cast(tf.broadcastTo(mask, logits.shape), 'float32'), axes);
    const numClasses = x.shape[x.rank - 1] as number;
    // A label in [-K, 0) counts from the end, as a numpy index does.
    const index = tf.where(tf.less(labels, 0), tf.add(labels, tf.scalar(numClasses, 'int32')), labels);
    const hit = tf.equal(tf.expandDims(index, -1), tf.range(0, numClasses, 1, 'int32'));
    const labelLogits = tf.sum(tf.where(hit, x, tf.zerosLike(x)), -1);
    const inRange = tf.logicalAnd(tf.greaterEqual(index, 0), tf.less(index, numClasses));
    const picked = tf.where(inRange, labelLogits, tf.fill(labelLogits.shape, Number.NaN));
    const whereBool = where === undefined ? undefined : tf.notEqual(where, 0);
    const out = tf.sub(logSumExp(x, [x.rank - 1], { where: whereBool }), picked);
    if (whereBool === undefined) return out;
    return tf.where(tf.any(whereBool, -1), out, tf.zerosLike(out));
  });
}

/** Options of {@link polyLossCrossEntropy}. */
export interface PolyLossOptions extends SoftmaxOptions {
  /** The weight of the first polynomial term (default 2). */
  epsilon?: number;
}

/**
 * The Poly-1 loss: the softmax cross-entropy plus `epsilon · Σ labels (1 - softmax(logits))`
 * over the class axis. Defaults `epsilon = 2, axis = -1`. Reference: Leng et al.,
 * "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
 * Functions" (2022); optax `poly_loss_cross_entropy`.
 *
 * $$
 * \ell = -\sum_k y_k \log \operatorname{softmax}(z)_k + \epsilon \sum_k y_k \big( 1 - \operatorname{softmax}(z)_k \big)
 * $$
 */
export function polyLossCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, options?: PolyLossOptions): tf.Tensor {
  const fn = 'polyLossCrossEntropy';
  const o = checkOptions(fn, options, ['epsilon', 'axis', 'where']);
  const epsilon = checkNumber(fn, 'epsilon', o.epsilon ?? 2);
  return tf.tidy(() => {
    const ce = crossEntropy(fn, logits, labels, { axis: o.axis, where: o.where });
    const axes = canonicalAxes(fn, o.axis, logits.rank);
    const where = classMask(fn, o.where, logits, axes);
    const oneMinusPt = maskedSum(tf.mul(labels, tf.sub(1, softmax(logits, axes, where))), axes, where);
    return tf.add(ce, tf.mul(epsilon, oneMinusPt));
  });
}
