/**
 * Regression losses: `squaredError`, `l2Loss`, `huberLoss`, `logCosh` (optax
 * `squared_error`, `l2_loss`, `huber_loss`, `log_cosh`). Element-wise: the
 * result has the shape of the (broadcast) inputs; average it yourself.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkNumber, checkOptions, checkSameShape } from './checks.js';
import { logAddExp } from './reductions.js';

function errors(fn: string, predictions: tf.Tensor, targets: tf.Tensor | undefined, sameShape: boolean): tf.Tensor {
  checkFloat(fn, 'predictions', predictions);
  if (targets === undefined || targets === null) return predictions;
  checkFloat(fn, 'targets', targets);
  if (sameShape) checkSameShape(fn, ['predictions', 'targets'], predictions, targets);
  return tf.sub(predictions, targets);
}

/**
 * `(predictions - targets)²` element-wise; without `targets`, `predictions²`.
 * The shapes must be equal. Reference: optax `squared_error`.
 *
 * $$
 * \ell = (\hat y - y)^2
 * $$
 */
export function squaredError(predictions: tf.Tensor, targets?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.square(errors('squaredError', predictions, targets, true)));
}

/**
 * `0.5 · (predictions - targets)²` element-wise (half the squared error).
 * Reference: optax `l2_loss`.
 *
 * $$
 * \ell = \tfrac{1}{2} (\hat y - y)^2
 * $$
 */
export function l2Loss(predictions: tf.Tensor, targets?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(0.5, tf.square(errors('l2Loss', predictions, targets, true))));
}

/** Options of {@link huberLoss}. */
export interface HuberLossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/**
 * The Huber loss element-wise, with `e = |predictions - targets|`:
 * `0.5 · min(e, delta)² + delta · (e - min(e, delta))` (quadratic for
 * `e ≤ delta`, linear beyond). Default `delta = 1`. Reference: Huber,
 * "Robust Estimation of a Location Parameter" (1964); optax `huber_loss`.
 *
 * $$
 * \ell = \begin{cases} \tfrac{1}{2} e^2 & e \le \delta \\ \delta \left( e - \tfrac{1}{2} \delta \right) & e > \delta \end{cases}, \qquad e = |\hat y - y|
 * $$
 */
export function huberLoss(predictions: tf.Tensor, targets?: tf.Tensor, options?: HuberLossOptions): tf.Tensor {
  const fn = 'huberLoss';
  const delta = checkNumber(fn, 'delta', checkOptions(fn, options, ['delta']).delta ?? 1);
  return tf.tidy(() => {
    const abs = tf.abs(errors(fn, predictions, targets, false));
    const quadratic = tf.minimum(abs, delta);
    return tf.add(tf.mul(0.5, tf.square(quadratic)), tf.mul(delta, tf.sub(abs, quadratic)));
  });
}

/**
 * `log cosh(predictions - targets)` element-wise, computed stably as
 * `logaddexp(e, -e) - log 2`: about `e²/2` for small errors and `|e| - log 2`
 * for large ones. Reference: optax `log_cosh`.
 *
 * $$
 * \ell = \log \cosh(\hat y - y)
 * $$
 */
export function logCosh(predictions: tf.Tensor, targets?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const e = errors('logCosh', predictions, targets, false);
    return tf.sub(logAddExp(e, tf.neg(e)), Math.fround(Math.LN2));
  });
}
