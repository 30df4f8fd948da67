/**
 * Connectionist temporal classification: `ctcLoss`, `ctcLossWithForwardProbs`
 * (optax `ctc_loss`, `ctc_loss_with_forward_probs`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkNumber, checkOptions, checkTensor } from './checks.js';
import { logAddExp, logSoftmax } from './reductions.js';

/** Options of {@link ctcLoss}. */
export interface CtcLossOptions {
  /** The class index of the blank symbol (default 0). */
  blankId?: number;
  /** The log-probability standing for log 0 (default -1e5). */
  logEpsilon?: number;
}

/** The per-sequence loss and the forward log-probabilities (`[T, B, N + 1]` for blanks, `[T, B, N]` for labels). */
export interface CtcForward {
  perSeqLoss: tf.Tensor;
  logalphaPhi: tf.Tensor;
  logalphaEmit: tf.Tensor;
}

/** `phi` with every column after the first log-added to `added`. */
function addToPhi(phi: tf.Tensor, added: tf.Tensor): tf.Tensor {
  const n = phi.shape[1] as number;
  return tf.concat([tf.slice(phi, [0, 0], [-1, 1]), logAddExp(tf.slice(phi, [0, 1], [-1, n - 1]), added)], 1);
}

/**
 * {@link ctcLoss} with the forward variables: `logalphaPhi[t, b, n]` is the
 * log-probability of having emitted the first `n` labels and being in a blank
 * at time `t`, `logalphaEmit[t, b, n]` of having just emitted label `n`.
 * Reference: optax `ctc_loss_with_forward_probs`.
 *
 * $$
 * \ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_{t} p_t(\pi_t), \qquad \alpha_t(n) = \log P(\text{first } n \text{ labels emitted by frame } t)
 * $$
 */
export function ctcLossWithForwardProbs(
  logits: tf.Tensor,
  logitPaddings: tf.Tensor,
  labels: tf.Tensor,
  labelPaddings: tf.Tensor,
  options?: CtcLossOptions,
): CtcForward {
  const fn = 'ctcLossWithForwardProbs';
  const o = checkOptions(fn, options, ['blankId', 'logEpsilon']);
  checkFloat(fn, 'logits', logits);
  checkFloat(fn, 'logitPaddings', logitPaddings);
  checkTensor(fn, 'labels', labels, ['int32']);
  checkFloat(fn, 'labelPaddings', labelPaddings);
  if (logits.rank !== 3) throw new Error(`${fn}: \`logits\` must have shape [batch, time, classes], got [${logits.shape.join(', ')}]`);
  if (labels.rank !== 2) throw new Error(`${fn}: \`labels\` must have shape [batch, maxLabelLength], got [${labels.shape.join(', ')}]`);
  const [b, t, k] = logits.shape as [number, number, number];
  const n = labels.shape[1] as number;
  if (labels.shape[0] !== b) throw new Error(`${fn}: \`labels\` must have batch size ${b}, got ${labels.shape[0]}`);
  if (logitPaddings.shape.join() !== [b, t].join())
    throw new Error(`${fn}: \`logitPaddings\` must have shape [${b}, ${t}], got [${logitPaddings.shape.join(', ')}]`);
  if (labelPaddings.shape.join() !== labels.shape.join())
    throw new Error(`${fn}: \`labelPaddings\` must have the shape of \`labels\` [${labels.shape.join(', ')}]`);
  const blank = o.blankId ?? 0;
  if (!Number.isInteger(blank) || blank < 0 || blank >= k)
    throw new Error(`${fn}: \`blankId\` must be a class index in [0, ${k}), got ${String(blank)}`);
  const logEps = checkNumber(fn, 'logEpsilon', o.logEpsilon ?? -1e5);
  return tf.tidy(() => {
    const logprobs = logSoftmax(logits, [2]);
    const labelLens = tf.sub(tf.scalar(n, 'int32'), tf.cast(tf.sum(labelPaddings, 1), 'int32'));
    const same =
      n > 1 ? tf.cast(tf.equal(tf.slice(labels, [0, 0], [-1, n - 1]), tf.slice(labels, [0, 1], [-1, n - 1])), 'float32') : tf.zeros([b, 0]);
    const repeat = tf.concat([same, tf.zeros([b, 1])], 1);
    const phiT = tf.unstack(tf.transpose(tf.slice(logprobs, [0, 0, blank], [-1, -1, 1]), [1, 0, 2]));
    const oneHot = tf.oneHot(labels, k, 1, 0, 'float32');
    const emitT = tf.unstack(tf.transpose(tf.matMul(logprobs, oneHot, false, true), [1, 0, 2]));
    const padT = tf.unstack(tf.transpose(logitPaddings));
    let phi = tf.concat([tf.zeros([b, 1]), tf.fill([b, n], logEps)], 1);
    let emit = tf.fill([b, n], logEps);
    const phis: tf.Tensor[] = [];
    const emits: tf.Tensor[] = [];
    const repeatEps = tf.mul(logEps, repeat);
    const notRepeatEps = tf.mul(logEps, tf.sub(1, repeat));
    for (let i = 0; i < t; i++) {
      const e = emitT[i] as tf.Tensor;
      const p = phiT[i] as tf.Tensor;
      const pad = tf.reshape(padT[i] as tf.Tensor, [b, 1]);
      const prevPhi = addToPhi(phi, tf.add(emit, repeatEps));
      const nextEmit = logAddExp(tf.add(tf.slice(prevPhi, [0, 0], [-1, n]), e), tf.add(emit, e));
      const nextPhi = addToPhi(tf.add(prevPhi, p), tf.add(tf.add(emit, p), notRepeatEps));
      const keep = tf.sub(1, pad);
      const newEmit = tf.add(tf.mul(pad, emit), tf.mul(keep, nextEmit));
      const newPhi = tf.add(tf.mul(pad, phi), tf.mul(keep, nextPhi));
      phi = newPhi;
      emit = newEmit;
      phis.push(phi);
      emits.push(emit);
    }
    const last = addToPhi(phi, emit);
    phis[t - 1] = last;
    const perSeqLoss = tf.neg(tf.sum(tf.mul(last, tf.oneHot(labelLens, n + 1, 1, 0, 'float32')), 1));
    return { perSeqLoss, logalphaPhi: tf.stack(phis), logalphaEmit: tf.stack(emits) };
  });
}

/**
 * The CTC loss per sequence, `-log p(labels | logits)` summed over every
 * alignment of the labels to the frames, by the forward algorithm in log
 * space. `logits` `[B, T, K]`, `logitPaddings` `[B, T]` (1 for a padded
 * frame), `labels` `[B, N]` int32, `labelPaddings` `[B, N]` (1 for a padded
 * label; padding must come last). Returns `[B]`. Defaults `blankId = 0,
 * logEpsilon = -1e5`. Reference: Graves et al., "Connectionist Temporal
 * Classification" (2006); optax `ctc_loss`.
 *
 * $$
 * \ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_{t} p_t(\pi_t)
 * $$
 */
export function ctcLoss(
  logits: tf.Tensor,
  logitPaddings: tf.Tensor,
  labels: tf.Tensor,
  labelPaddings: tf.Tensor,
  options?: CtcLossOptions,
): tf.Tensor {
  const { perSeqLoss, logalphaPhi, logalphaEmit } = ctcLossWithForwardProbs(logits, logitPaddings, labels, labelPaddings, options);
  tf.dispose([logalphaPhi, logalphaEmit]);
  return perSeqLoss;
}
