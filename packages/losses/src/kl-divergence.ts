/**
 * Kullback-Leibler divergences: `klDivergence`, `klDivergenceWithLogTargets`,
 * `generalizedKlDivergence`, `convexKlDivergence` (optax `kl_divergence`,
 * `kl_divergence_with_log_targets`, `generalized_kl_divergence`,
 * `convex_kl_divergence`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Axis, canonicalAxes, checkFloat, checkOptions, checkWhere } from './checks.js';
import { maskedSum } from './reductions.js';

/** Options of the KL divergences. */
export interface KlDivergenceOptions {
  /** The axis (or axes; `null`: all) of the distributions (default -1). */
  axis?: Axis;
  /** Which elements take part (a bool tensor broadcastable to the inputs); default all. */
  where?: tf.Tensor;
}

function reduce(fn: string, loss: tf.Tensor, options: KlDivergenceOptions | undefined): tf.Tensor {
  const o = checkOptions(fn, options, ['axis', 'where']);
  return maskedSum(loss, canonicalAxes(fn, o.axis, loss.rank), checkWhere(fn, o.where));
}

function klTerms(fn: string, logPredictions: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  checkFloat(fn, 'logPredictions', logPredictions);
  checkFloat(fn, 'targets', targets);
  const logTargets = tf.where(tf.equal(targets, 0), tf.zerosLike(targets), tf.log(targets));
  return tf.mul(targets, tf.sub(logTargets, logPredictions));
}

/**
 * `KL(targets ‖ predictions) = Σ targets · (log targets - logPredictions)`
 * over `axis`, with `0 · log 0 = 0`; `logPredictions` are log-probabilities.
 * Defaults `axis = -1`. Reference: Kullback & Leibler (1951); optax `kl_divergence`.
 *
 * $$
 * \mathrm{KL}(y \,\Vert\, q) = \sum y\, (\log y - \log q), \qquad 0 \log 0 = 0
 * $$
 */
export function klDivergence(logPredictions: tf.Tensor, targets: tf.Tensor, options?: KlDivergenceOptions): tf.Tensor {
  const fn = 'klDivergence';
  return tf.tidy(() => reduce(fn, klTerms(fn, logPredictions, targets), options));
}

/**
 * {@link klDivergence} with the targets given as log-probabilities:
 * `Σ exp(logTargets) · (logTargets - logPredictions)`. Reference: optax
 * `kl_divergence_with_log_targets`.
 *
 * $$
 * \mathrm{KL}(y \,\Vert\, q) = \sum e^{\log y}\, (\log y - \log q)
 * $$
 */
export function klDivergenceWithLogTargets(logPredictions: tf.Tensor, logTargets: tf.Tensor, options?: KlDivergenceOptions): tf.Tensor {
  const fn = 'klDivergenceWithLogTargets';
  checkFloat(fn, 'logPredictions', logPredictions);
  checkFloat(fn, 'logTargets', logTargets);
  return tf.tidy(() => reduce(fn, tf.mul(tf.exp(logTargets), tf.sub(logTargets, logPredictions)), options));
}

/**
 * The generalized KL divergence, for unnormalized non-negative measures:
 * `klDivergence + Σ (exp(logPredictions) - targets)`. Reference: optax
 * `generalized_kl_divergence`.
 *
 * $$
 * \ell = \sum y\, (\log y - \log q) + \sum (q - y), \qquad \log q = \mathrm{logPredictions}
 * $$
 */
export function generalizedKlDivergence(logPredictions: tf.Tensor, targets: tf.Tensor, options?: KlDivergenceOptions): tf.Tensor {
  return tf.tidy(() => generalized('generalizedKlDivergence', logPredictions, targets, options));
}

function generalized(fn: string, logPredictions: tf.Tensor, targets: tf.Tensor, options?: KlDivergenceOptions): tf.Tensor {
  const kl = reduce(fn, klTerms(fn, logPredictions, targets), options);
  return tf.add(kl, reduce(fn, tf.sub(tf.exp(logPredictions), targets), options));
}

/**
 * The older name of {@link generalizedKlDivergence} (the same values).
 * Reference: optax `convex_kl_divergence` (deprecated there).
 *
 * $$
 * \ell = \sum y\, (\log y - \log q) + \sum (q - y), \qquad \log q = \mathrm{logPredictions}
 * $$
 */
export function convexKlDivergence(logPredictions: tf.Tensor, targets: tf.Tensor, options?: KlDivergenceOptions): tf.Tensor {
  return tf.tidy(() => generalized('convexKlDivergence', logPredictions, targets, options));
}
