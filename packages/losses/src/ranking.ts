/**
 * Ranking: `rankingSoftmaxLoss` (optax `ranking_softmax_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkOptions, checkTensor, checkWhere } from './checks.js';
import { logSoftmax, maskedSum } from './reductions.js';

/** Options of {@link rankingSoftmaxLoss}. */
export interface RankingSoftmaxLossOptions {
  /** Which items are valid (a bool tensor of the logits' shape); default all. */
  where?: tf.Tensor;
  /** Per-item weights multiplying the labels; default none. */
  weights?: tf.Tensor;
  /** How the per-list losses are reduced (default `'mean'`; `null` keeps one loss per list, 0 for a list with no valid item). */
  reduceFn?: 'mean' | 'sum' | null;
}

/**
 * The listwise softmax loss over the last axis (items):
 * `-Σ labels · log_softmax(logits)`, with invalid items (`where` false) given
 * `-∞` logits and zero labels, then reduced over the lists (the mean over
 * lists with a valid item; a NaN mean from no valid list becomes 0).
 * Default `reduceFn = 'mean'`. Reference: Cao et al., "Learning to Rank:
 * From Pairwise Approach to Listwise Approach" (2007); optax `ranking_softmax_loss`.
 *
 * $$
 * \ell = -\sum_i y_i \log \operatorname{softmax}(z)_i \quad \text{(per list, over its valid items)}
 * $$
 */
export function rankingSoftmaxLoss(logits: tf.Tensor, labels: tf.Tensor, options?: RankingSoftmaxLossOptions): tf.Tensor {
  const fn = 'rankingSoftmaxLoss';
  const o = checkOptions(fn, options, ['where', 'weights', 'reduceFn']);
  checkFloat(fn, 'logits', logits);
  checkTensor(fn, 'labels', labels);
  if (o.weights !== undefined) checkFloat(fn, 'weights', o.weights);
  const reduceFn = o.reduceFn === undefined ? 'mean' : o.reduceFn;
  if (reduceFn !== 'mean' && reduceFn !== 'sum' && reduceFn !== null) {
    throw new Error(`${fn}: \`reduceFn\` must be 'mean', 'sum' or null, got ${JSON.stringify(reduceFn)}`);
  }
  return tf.tidy(() => {
    const where = checkWhere(fn, o.where);
    let y = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    let x = logits;
    if (where !== undefined) {
      y = tf.where(where, y, tf.zerosLike(y));
      x = tf.where(where, x, tf.fill(x.shape, -Infinity));
    }
    if (o.weights !== undefined) y = tf.mul(y, o.weights);
    const last = x.rank - 1;
    const loss = tf.neg(maskedSum(tf.mul(y, logSoftmax(x, [last])), [last], where));
    const listValid = where === undefined ? undefined : tf.any(where, -1);
    if (reduceFn === null) return listValid === undefined ? loss : tf.where(listValid, loss, tf.zerosLike(loss));
    const axes = Array.from({ length: loss.rank }, (_, i) => i);
    if (reduceFn === 'sum') return maskedSum(loss, axes, listValid);
    const count = listValid === undefined ? tf.scalar(loss.size) : tf.sum(tf.cast(listValid, 'float32'));
    const mean = tf.div(maskedSum(loss, axes, listValid), count);
    const inputValid = tf.logicalNot(tf.any(tf.isNaN(loss)));
    return tf.where(tf.logicalAnd(tf.isNaN(mean), inputValid), tf.zerosLike(mean), mean);
  });
}
