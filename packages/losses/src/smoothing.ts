/**
 * Label smoothing: `smoothLabels` (optax `smooth_labels`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Axis, canonicalAxes, checkFloat, checkNumber, checkOptions, checkWhere } from './checks.js';

/** Options of {@link smoothLabels}. */
export interface SmoothLabelsOptions {
  /** The class axis (or axes; `null`: all), default -1. */
  axis?: Axis;
  /** Which classes count (a bool tensor); the number of classes is then the count of true entries. */
  where?: tf.Tensor;
}

/**
 * Smooths one-hot labels towards the uniform distribution:
 * `(1 - alpha) · labels + alpha / K`, with `K` the number of classes along
 * `axis` (or the number selected by `where`). Reference: Szegedy et al.,
 * "Rethinking the Inception Architecture" (2016); optax `smooth_labels`.
 *
 * $$
 * \tilde y = (1 - \alpha)\, y + \frac{\alpha}{K}
 * $$
 */
export function smoothLabels(labels: tf.Tensor, alpha: number, options?: SmoothLabelsOptions): tf.Tensor {
  const fn = 'smoothLabels';
  const o = checkOptions(fn, options, ['axis', 'where']);
  checkFloat(fn, 'labels', labels);
  const a = checkNumber(fn, 'alpha', alpha);
  const axes = canonicalAxes(fn, o.axis, labels.rank);
  return tf.tidy(() => {
    const where = checkWhere(fn, o.where);
    // Without a mask the class count is a plain number and `alpha / K` is taken in doubles, as optax does.
    const share =
      where === undefined
        ? a / axes.reduce((n, i) => n * (labels.shape[i] as number), 1)
        : tf.div(a, tf.sum(tf.cast(where, 'float32'), axes, true));
    return tf.add(tf.mul(1 - a, labels), share);
  });
}
