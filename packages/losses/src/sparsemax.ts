/**
 * The multiclass sparsemax loss: `multiclassSparsemaxLoss` (optax
 * `multiclass_sparsemax_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkTensor } from './checks.js';

/** sparsemax over the last axis of a `[B, K]` tensor: the projection of each row onto the simplex. */
function sparsemax(scores: tf.Tensor2D): tf.Tensor2D {
  const k = scores.shape[1];
  const u = tf.topk(scores, k, true).values;
  const cumsum = tf.cumsum(u, 1);
  const ind = tf.range(1, k + 1, 1, 'float32');
  const cond = tf.greater(tf.add(tf.div(1, ind), tf.sub(u, tf.div(cumsum, ind))), 0);
  const idx = tf.sum(tf.cast(cond, 'int32'), 1, true);
  const tau = tf.sum(tf.mul(cumsum, tf.oneHot(tf.reshape(tf.sub(idx, tf.scalar(1, 'int32')), [-1]), k, 1, 0, 'float32')), 1, true);
  const idxF = tf.cast(idx, 'float32');
  return tf.relu(tf.add(tf.div(1, idxF), tf.sub(scores, tf.div(tau, idxF))));
}

/**
 * The sparsemax loss per example for `scores` `[B, K]` and int32 `labels`
 * `[B]`: with `p = sparsemax(scores)` and `z = scores - scores[label]`,
 * `Σ_{p_k > 0} p_k z_k + (1 - ‖p‖²) / 2`. Reference: Martins & Astudillo,
 * "From Softmax to Sparsemax" (2016); optax `multiclass_sparsemax_loss`.
 *
 * $$
 * \ell = \sum_{k\,:\, p_k > 0} p_k z_k + \tfrac{1}{2} \left( 1 - \lVert p \rVert^2 \right), \qquad p = \operatorname{sparsemax}(s), \quad z = s - s_y
 * $$
 */
export function multiclassSparsemaxLoss(scores: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const fn = 'multiclassSparsemaxLoss';
  checkFloat(fn, 'scores', scores);
  checkTensor(fn, 'labels', labels, ['int32']);
  if (scores.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== scores.shape[0]) {
    throw new Error(
      `${fn}: expected \`scores\` [batch, classes] and \`labels\` [batch], got [${scores.shape.join(', ')}] and [${labels.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const p = sparsemax(scores as tf.Tensor2D);
    const hit = tf.oneHot(labels, scores.shape[1] as number, 1, 0, 'float32');
    const labelScore = tf.sum(tf.mul(scores, hit), 1, true);
    const z = tf.where(tf.cast(hit, 'bool'), tf.zerosLike(scores), tf.sub(scores, labelScore));
    const first = tf.sum(tf.mul(p, tf.where(tf.notEqual(p, 0), z, tf.zerosLike(z))), 1);
    return tf.add(first, tf.mul(0.5, tf.sub(1, tf.sum(tf.mul(p, p), 1))));
  });
}
