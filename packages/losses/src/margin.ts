/**
 * Margin losses: `hingeLoss`, `perceptronLoss`, `sparsemaxLoss` (binary),
 * `multiclassHingeLoss`, `multiclassPerceptronLoss` (optax `hinge_loss`,
 * `perceptron_loss`, `sparsemax_loss`, `multiclass_hinge_loss`,
 * `multiclass_perceptron_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkSameShape, checkTensor } from './checks.js';

/**
 * The binary hinge loss element-wise, `max(0, 1 - predictorOutputs · targets)`,
 * with targets in {-1, 1}. Reference: optax `hinge_loss`.
 *
 * $$
 * \ell = \max(0, 1 - \hat y\, y), \qquad y \in \lbrace -1, 1 \rbrace
 * $$
 */
export function hingeLoss(predictorOutputs: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  checkTensor('hingeLoss', 'predictorOutputs', predictorOutputs);
  checkTensor('hingeLoss', 'targets', targets);
  return tf.tidy(() => tf.maximum(0, tf.sub(1, tf.mul(predictorOutputs, targets))));
}

/**
 * The binary perceptron loss element-wise, `max(0, -predictorOutputs · targets)`,
 * targets in {-1, 1}; the shapes must be equal. Reference: optax `perceptron_loss`.
 *
 * $$
 * \ell = \max(0, -\hat y\, y), \qquad y \in \lbrace -1, 1 \rbrace
 * $$
 */
export function perceptronLoss(predictorOutputs: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  checkTensor('perceptronLoss', 'predictorOutputs', predictorOutputs);
  checkTensor('perceptronLoss', 'targets', targets);
  checkSameShape('perceptronLoss', ['predictorOutputs', 'targets'], predictorOutputs, targets);
  return tf.tidy(() => tf.maximum(0, tf.neg(tf.mul(predictorOutputs, targets))));
}

/** `sparse_plus(x)`: 0 for `x ≤ -1`, `x` for `x ≥ 1`, `(x + 1)² / 4` between. */
function sparsePlus(x: tf.Tensor): tf.Tensor {
  return tf.where(tf.lessEqual(x, -1), tf.zerosLike(x), tf.where(tf.greaterEqual(x, 1), x, tf.div(tf.square(tf.add(x, 1)), 4)));
}

/**
 * The binary sparsemax loss element-wise, `sparse_plus(labels ? -logits : logits)`
 * with labels in {0, 1} (nonzero counts as 1). Reference: Martins & Astudillo,
 * "From Softmax to Sparsemax" (2016); optax `sparsemax_loss`.
 *
 * $$
 * \ell = \mathrm{sparse\_plus}\big((1 - 2y)\, z\big), \qquad \mathrm{sparse\_plus}(x) = \begin{cases} 0 & x \le -1 \\ \tfrac{1}{4} (x + 1)^2 & -1 < x < 1 \\ x & x \ge 1 \end{cases}
 * $$
 */
export function sparsemaxLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  checkFloat('sparsemaxLoss', 'logits', logits);
  checkTensor('sparsemaxLoss', 'labels', labels);
  return tf.tidy(() => {
    const z = tf.where(tf.broadcastTo(tf.notEqual(labels, 0), logits.shape), tf.neg(logits), logits);
    return sparsePlus(z);
  });
}

function oneHotOf(fn: string, scores: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  checkFloat(fn, 'scores', scores);
  checkTensor(fn, 'labels', labels, ['int32']);
  if (scores.rank < 1) throw new Error(`${fn}: \`scores\` must have rank >= 1 (classes on the last axis), got a scalar`);
  return tf.oneHot(labels, scores.shape[scores.rank - 1] as number, 1, 0, 'float32');
}

/**
 * The multiclass hinge loss over the last axis:
 * `max_k (scores_k + 1 - [k = label]) - scores_label`. `labels` are int32
 * class indices (an out-of-range index has no one-hot entry, as in jax).
 * Reference: Crammer & Singer (2001); optax `multiclass_hinge_loss`.
 *
 * $$
 * \ell = \max_k \big( s_k + 1 - [k = y] \big) - s_y
 * $$
 */
export function multiclassHingeLoss(scores: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const oneHot = oneHotOf('multiclassHingeLoss', scores, labels);
    return tf.sub(tf.max(tf.sub(tf.add(scores, 1), oneHot), -1), tf.sum(tf.mul(scores, oneHot), -1));
  });
}

/**
 * The multiclass perceptron loss over the last axis, `max_k scores_k - scores_label`.
 * Reference: optax `multiclass_perceptron_loss`.
 *
 * $$
 * \ell = \max_k s_k - s_y
 * $$
 */
export function multiclassPerceptronLoss(scores: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const oneHot = oneHotOf('multiclassPerceptronLoss', scores, labels);
    return tf.sub(tf.max(scores, -1), tf.sum(tf.mul(scores, oneHot), -1));
  });
}
