/**
 * Binary losses on logits: `sigmoidBinaryCrossEntropy`, `sigmoidFocalLoss`
 * (optax `sigmoid_binary_cross_entropy`, `sigmoid_focal_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkNumber, checkOptions, checkTensor } from './checks.js';
import { logSigmoid, logSumExp } from './reductions.js';

function asFloatLabels(fn: string, labels: tf.Tensor): tf.Tensor {
  checkTensor(fn, 'labels', labels);
  return labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
}

function crossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.sub(tf.neg(tf.mul(labels, logSigmoid(logits))), tf.mul(tf.sub(1, labels), logSigmoid(tf.neg(logits))));
}

/**
 * The binary cross-entropy of sigmoid probabilities, element-wise and from
 * logits (stable for large |logits|):
 * `-labels · log σ(logits) - (1 - labels) · log σ(-logits)`. `labels` are
 * probabilities in [0, 1] (any dtype; cast to float32). Reference: optax
 * `sigmoid_binary_cross_entropy`.
 *
 * $$
 * \ell = -y \log \sigma(z) - (1 - y) \log \sigma(-z)
 * $$
 */
export function sigmoidBinaryCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const fn = 'sigmoidBinaryCrossEntropy';
  checkFloat(fn, 'logits', logits);
  return tf.tidy(() => crossEntropy(logits, asFloatLabels(fn, labels)));
}

/** Options of {@link sigmoidFocalLoss}. */
export interface SigmoidFocalLossOptions {
  /** Weight of the positive class, `alpha` for positives and `1 - alpha` for negatives; none by default. */
  alpha?: number | null;
  /** The focusing exponent (default 2): 0 gives the cross-entropy. */
  gamma?: number;
}

/**
 * The focal loss element-wise: the sigmoid cross-entropy weighted by
 * `(1 - p_t)^gamma`, with `p_t` the probability of the true class
 * (`1 - p_t` computed in log space as `logsumexp([log p, log(1-p)], b = [1 - labels, labels])`);
 * with `alpha`, times `alpha · labels + (1 - alpha)(1 - labels)`. Defaults
 * `alpha = none, gamma = 2`. Reference: Lin et al., "Focal Loss for Dense
 * Object Detection" (2017); optax `sigmoid_focal_loss`.
 *
 * $$
 * \ell = \alpha_t\, (1 - p_t)^{\gamma}\, \mathrm{BCE}(z, y), \qquad p_t = y\, \sigma(z) + (1 - y)\big(1 - \sigma(z)\big), \quad \alpha_t = \alpha y + (1 - \alpha)(1 - y)
 * $$
 */
export function sigmoidFocalLoss(logits: tf.Tensor, labels: tf.Tensor, options?: SigmoidFocalLossOptions): tf.Tensor {
  const fn = 'sigmoidFocalLoss';
  const o = checkOptions(fn, options, ['alpha', 'gamma']);
  const gamma = checkNumber(fn, 'gamma', o.gamma ?? 2);
  const alpha = o.alpha === undefined || o.alpha === null ? null : checkNumber(fn, 'alpha', o.alpha);
  checkFloat(fn, 'logits', logits);
  return tf.tidy(() => {
    const y = asFloatLabels(fn, labels);
    const ce = crossEntropy(logits, y);
    const logs = tf.stack([logSigmoid(logits), logSigmoid(tf.neg(logits))], -1);
    const weights = tf.stack([tf.sub(1, tf.broadcastTo(y, logits.shape)), tf.broadcastTo(y, logits.shape)], -1);
    const logOneMinusPt = logSumExp(logs, [logs.rank - 1], { b: weights });
    const loss = tf.mul(ce, tf.exp(tf.mul(gamma, logOneMinusPt)));
    if (alpha === null) return loss;
    return tf.mul(tf.add(tf.mul(alpha, y), tf.mul(1 - alpha, tf.sub(1, y))), loss);
  });
}
