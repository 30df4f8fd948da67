/**
 * Self-supervised losses: `ntxent`, `tripletMarginLoss` (optax `ntxent`,
 * `triplet_margin_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkNumber, checkOptions, checkTensor } from './checks.js';
import { cosineSimilarity } from './cosine.js';

/**
 * The normalized temperature-scaled cross-entropy (NT-Xent, SimCLR's loss)
 * of a batch of embeddings `[N, D]` with labels `[N]` (equal labels mark
 * positive pairs): for each positive pair `(i, j)`, `i ≠ j`,
 * `-log(exp(s_ij) / (exp(s_ij) + Σ_{k: label_k ≠ label_i} exp(s_ik)))` with
 * `s = cosine similarity / temperature`, averaged over the positive pairs.
 * `temperature` (default 0.07) is the third argument or `{ temperature }`. Reference: Chen et al., "A Simple Framework
 * for Contrastive Learning of Visual Representations" (2020); optax `ntxent`.
 *
 * $$
 * \ell = -\frac{1}{|P|} \sum_{(i, j) \in P} \log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k\,:\, y_k \ne y_i} e^{s_{ik}}}, \qquad s_{ij} = \frac{\cos(x_i, x_j)}{\tau}
 * $$
 */
export function ntxent(
  embeddings: tf.Tensor,
  labels: tf.Tensor,
  temperatureOrOptions: number | { temperature?: number } = 0.07,
): tf.Tensor {
  const fn = 'ntxent';
  const temperature =
    typeof temperatureOrOptions === 'number'
      ? temperatureOrOptions
      : (checkOptions(fn, temperatureOrOptions, ['temperature']).temperature ?? 0.07);
  checkFloat(fn, 'embeddings', embeddings);
  checkTensor(fn, 'labels', labels);
  checkNumber(fn, 'temperature', temperature);
  if (embeddings.rank !== 2) throw new Error(`${fn}: \`embeddings\` must have shape [N, D], got [${embeddings.shape.join(', ')}]`);
  if (labels.shape[0] !== embeddings.shape[0]) {
    throw new Error(
      `${fn}: \`labels\` and \`embeddings\` must have the same leading dimension, got ${labels.shape[0]} and ${embeddings.shape[0]}`,
    );
  }
  return tf.tidy(() => {
    const n = embeddings.shape[0] as number;
    const e1 = tf.expandDims(embeddings, 0);
    const e2 = tf.expandDims(embeddings, 1);
    const xcs = tf.div(
      cosineSimilarity(
        tf.broadcastTo(e1, [n, n, embeddings.shape[1] as number]),
        tf.broadcastTo(e2, [n, n, embeddings.shape[1] as number]),
        { epsilon: 2 ** -23 },
      ),
      temperature,
    );
    const same = tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0));
    const diffs = tf.logicalNot(same);
    const matches = tf.logicalAnd(same, tf.logicalNot(tf.cast(tf.eye(n), 'bool')));
    const ninf = tf.fill([n, n], -Infinity);
    const xDiffs = tf.where(diffs, xcs, ninf);
    const xMatches = tf.where(matches, xcs, ninf);
    const xMax = tf.max(tf.concat([xDiffs, xMatches], 1), 1, true);
    const shiftDiffs = tf.sub(xDiffs, xMax);
    const shiftMatches = tf.sub(xMatches, xMax);
    const denom = tf.add(tf.sum(tf.exp(shiftDiffs), 1, true), tf.exp(shiftMatches));
    const logSoftm = tf.sub(shiftMatches, tf.log(denom));
    const total = tf.sum(tf.where(matches, logSoftm, tf.zerosLike(logSoftm)));
    return tf.div(tf.neg(total), tf.sum(tf.cast(matches, 'float32')));
  });
}

/** Options of {@link tripletMarginLoss}. */
export interface TripletMarginLossOptions {
  /** The axis of the embedding (default -1). */
  axis?: number;
  /** The order `p` of the distance (default 2). */
  normDegree?: number;
  /** The margin (default 1). */
  margin?: number;
  /** Added inside the root (default 1e-6). */
  eps?: number;
}

/**
 * The triplet margin loss, `max(d(a, p) - d(a, n) + margin, 0)` with
 * `d(x, y) = (Σ (x - y)^p + eps)^(1/p)` along `axis`. Defaults `axis = -1,
 * normDegree = 2, margin = 1, eps = 1e-6`. Reference: Schroff et al.,
 * "FaceNet" (2015); optax `triplet_margin_loss`.
 *
 * $$
 * \ell = \max\big( d(a, p) - d(a, n) + m, 0 \big), \qquad d(x, y) = \Big( \sum (x - y)^k + \epsilon \Big)^{1/k}, \quad k = \mathrm{normDegree}
 * $$
 */
export function tripletMarginLoss(
  anchors: tf.Tensor,
  positives: tf.Tensor,
  negatives: tf.Tensor,
  options?: TripletMarginLossOptions,
): tf.Tensor {
  const fn = 'tripletMarginLoss';
  const o = checkOptions(fn, options, ['axis', 'normDegree', 'margin', 'eps']);
  checkFloat(fn, 'anchors', anchors);
  checkFloat(fn, 'positives', positives);
  checkFloat(fn, 'negatives', negatives);
  const axis = o.axis ?? -1;
  const p = checkNumber(fn, 'normDegree', o.normDegree ?? 2);
  const margin = checkNumber(fn, 'margin', o.margin ?? 1);
  const eps = checkNumber(fn, 'eps', o.eps ?? 1e-6);
  return tf.tidy(() => {
    const power = (x: tf.Tensor) => (p === 2 ? tf.square(x) : tf.pow(x, p));
    const dist = (y: tf.Tensor) => tf.pow(tf.add(tf.sum(power(tf.sub(anchors, y)), axis), eps), 1 / p);
    return tf.maximum(tf.add(tf.sub(dist(positives), dist(negatives)), margin), 0);
  });
}
