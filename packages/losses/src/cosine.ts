/**
 * Cosine losses: `cosineSimilarity`, `cosineDistance` (optax
 * `cosine_similarity`, `cosine_distance`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Axis, canonicalAxes, checkFloat, checkNumber, checkOptions, checkWhere } from './checks.js';
import { maskedSum } from './reductions.js';

/** Options of {@link cosineSimilarity} and {@link cosineDistance}. */
export interface CosineOptions {
  /** Lower bound on each squared norm before the square root (default 0). */
  epsilon?: number;
  /** The axis (or axes; `null`: all) holding the vectors (default -1). */
  axis?: Axis;
  /** Which elements take part (a bool tensor broadcastable to the inputs); default all. */
  where?: tf.Tensor;
}

const KEYS = ['epsilon', 'axis', 'where'] as const;

function similarity(fn: string, predictions: tf.Tensor, targets: tf.Tensor, options?: CosineOptions): tf.Tensor {
  const o = checkOptions(fn, options, KEYS);
  checkFloat(fn, 'predictions', predictions);
  checkFloat(fn, 'targets', targets);
  const epsilon = checkNumber(fn, 'epsilon', o.epsilon ?? 0);
  const rank = Math.max(predictions.rank, targets.rank);
  const axes = canonicalAxes(fn, o.axis, rank);
  const where = checkWhere(fn, o.where);
  const unit = (x: tf.Tensor) => tf.div(x, tf.sqrt(tf.maximum(maskedSum(tf.square(x), axes, where, true), epsilon)));
  const a = unit(predictions);
  const b = unit(targets);
  const prod = tf.mul(a, b);
  return maskedSum(prod, axes, where);
}

/**
 * The cosine similarity of `predictions` and `targets` along `axis`:
 * `Σ (a / ‖a‖)(b / ‖b‖)`, with each `‖x‖ = sqrt(max(Σ x², epsilon))` (so a
 * zero vector gives NaN unless `epsilon > 0`). Defaults `epsilon = 0`,
 * `axis = -1`. Reference: optax `cosine_similarity`.
 *
 * $$
 * \cos(a, b) = \sum \frac{a}{\lVert a \rVert} \frac{b}{\lVert b \rVert}, \qquad \lVert x \rVert = \sqrt{\max\left(\textstyle\sum x^2, \epsilon\right)}
 * $$
 */
export function cosineSimilarity(predictions: tf.Tensor, targets: tf.Tensor, options?: CosineOptions): tf.Tensor {
  return tf.tidy(() => similarity('cosineSimilarity', predictions, targets, options));
}

/**
 * `1 - cosineSimilarity(predictions, targets, options)`. Reference: optax `cosine_distance`.
 *
 * $$
 * \ell = 1 - \frac{\langle a, b \rangle}{\lVert a \rVert\, \lVert b \rVert}
 * $$
 */
export function cosineDistance(predictions: tf.Tensor, targets: tf.Tensor, options?: CosineOptions): tf.Tensor {
  return tf.tidy(() => tf.sub(1, similarity('cosineDistance', predictions, targets, options)));
}
