/**
 * Segmentation losses: `diceLoss`, `multiclassGeneralizedDiceLoss`,
 * `binaryDiceLoss` (optax `dice_loss`, `multiclass_generalized_dice_loss`,
 * `binary_dice_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat, checkNumber, checkOptions, checkSameShape } from './checks.js';

/** How {@link diceLoss} reduces the per-class losses: their mean (default), sum, or none (`[batch, classes]`). */
export type DiceReduction = 'mean' | 'sum' | 'none';

/** Options of {@link diceLoss}. */
export interface DiceLossOptions {
  /** Per-class weights, a rank-1 tensor; default none. */
  classWeights?: tf.Tensor;
  /** Added to the numerator and denominator (default 1). */
  smooth?: number;
  /** Weight of the false positives (default 0.5; with `beta`, 0.5/0.5 is Dice, other values Tversky). */
  alpha?: number;
  /** Weight of the false negatives (default 0.5). */
  beta?: number;
  /** Turn logits into probabilities (default true): softmax over the classes, or a sigmoid for one class. */
  applySoftmax?: boolean;
  /** Reduction over the classes (default `'mean'`). */
  reduction?: DiceReduction;
  /** Drop class 0 (default false). */
  ignoreBackground?: boolean;
  /** The spatial axes summed over (default: all but the first and the last). */
  axis?: number[] | null;
}

const DICE_KEYS = ['classWeights', 'smooth', 'alpha', 'beta', 'applySoftmax', 'reduction', 'ignoreBackground', 'axis'] as const;

function dice(fn: string, predictions: tf.Tensor, targets: tf.Tensor, options: DiceLossOptions | undefined): tf.Tensor {
  const o = checkOptions(fn, options, DICE_KEYS);
  checkFloat(fn, 'predictions', predictions);
  checkFloat(fn, 'targets', targets);
  const smooth = checkNumber(fn, 'smooth', o.smooth ?? 1);
  const alpha = checkNumber(fn, 'alpha', o.alpha ?? 0.5);
  const beta = checkNumber(fn, 'beta', o.beta ?? 0.5);
  const reduction = o.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`${fn}: \`reduction\` must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  let p = predictions;
  let t = targets;
  if (p.rank === t.rank - 1) p = tf.expandDims(p, -1);
  if (t.rank === p.rank - 1) t = tf.expandDims(t, -1);
  checkSameShape(fn, ['predictions', 'targets'], p, t);
  const classes = p.shape[p.rank - 1] as number;
  if (o.applySoftmax === false) {
    const sums = tf.sum(p, -1);
    const bad = tf.any(tf.greater(tf.abs(tf.sub(sums, 1)), tf.add(1e-8, 1e-5))).dataSync()[0];
    if (bad) throw new Error(`${fn}: with applySoftmax false, \`predictions\` must sum to 1 over the class axis`);
  }
  const probs = o.applySoftmax === false ? p : classes === 1 ? tf.sigmoid(p) : tf.softmax(p, -1);
  const axes = o.axis ?? Array.from({ length: probs.rank - 2 }, (_, i) => i + 1);
  const intersection = tf.sum(tf.mul(probs, t), axes);
  const predSum = tf.sum(probs, axes);
  const targetSum = tf.sum(t, axes);
  const numerator = tf.add(intersection, smooth);
  const denominator = tf.add(
    tf.add(tf.add(intersection, tf.mul(alpha, tf.sub(predSum, intersection))), tf.mul(beta, tf.sub(targetSum, intersection))),
    smooth,
  );
  let loss = tf.sub(1, tf.div(numerator, denominator));
  if (o.classWeights !== undefined) {
    checkFloat(fn, 'classWeights', o.classWeights);
    if (o.classWeights.rank !== 1) throw new Error(`${fn}: \`classWeights\` must have rank 1, got [${o.classWeights.shape.join(', ')}]`);
    loss = tf.mul(loss, o.classWeights);
  }
  if (o.ignoreBackground === true && classes > 1)
    loss = tf.slice(
      loss,
      Array(loss.rank)
        .fill(0)
        .map((_, i) => (i === loss.rank - 1 ? 1 : 0)),
      loss.shape.map((d, i) => (i === loss.rank - 1 ? d - 1 : d)),
    );
  if (reduction === 'mean') return tf.mean(loss, -1);
  if (reduction === 'sum') return tf.sum(loss, -1);
  return loss;
}

/**
 * The Dice (Tversky) loss per example, with probabilities `q` (from logits
 * unless `applySoftmax: false`) and targets `y` summed over the spatial axes:
 * $$
 * I = \sum q\, y, \qquad \ell_c = 1 - \frac{I + s}{I + \alpha \left( \sum q - I \right) + \beta \left( \sum y - I \right) + s}
 * $$
 * per class, weighted by `classWeights`, reduced over the classes. Shapes
 * `[batch, ...spatial, classes]` (a missing class axis is added). Defaults
 * `smooth = 1, alpha = beta = 0.5, applySoftmax = true, reduction = 'mean',
 * ignoreBackground = false`. Reference: Milletari et al., "V-Net" (2016);
 * optax `dice_loss`.
 */
export function diceLoss(predictions: tf.Tensor, targets: tf.Tensor, options?: DiceLossOptions): tf.Tensor {
  return tf.tidy(() => dice('diceLoss', predictions, targets, options));
}

/** Options of {@link multiclassGeneralizedDiceLoss}. */
export type GeneralizedDiceLossOptions = Pick<DiceLossOptions, 'smooth' | 'applySoftmax' | 'ignoreBackground'>;

/**
 * The generalized Dice loss: {@link diceLoss} with class weights
 * `w_c ∝ 1 / (f_c² + 1e-7)` (`f_c` the class's target total over the batch,
 * normalized to average 1), averaged over examples and classes. Reference:
 * Sudre et al., "Generalised Dice Overlap as a Deep Learning Loss Function"
 * (2017); optax `multiclass_generalized_dice_loss`.
 *
 * $$
 * w_c \propto \frac{1}{f_c^2 + 10^{-7}}, \qquad \ell = \operatorname{mean} \sum_c w_c \left( 1 - \frac{I_c + s}{I_c + \alpha \left( \sum q_c - I_c \right) + \beta \left( \sum y_c - I_c \right) + s} \right)
 * $$
 */
export function multiclassGeneralizedDiceLoss(predictions: tf.Tensor, targets: tf.Tensor, options?: GeneralizedDiceLossOptions): tf.Tensor {
  const fn = 'multiclassGeneralizedDiceLoss';
  const o = checkOptions(fn, options, ['smooth', 'applySoftmax', 'ignoreBackground']);
  checkFloat(fn, 'predictions', predictions);
  checkFloat(fn, 'targets', targets);
  checkSameShape(fn, ['predictions', 'targets'], predictions, targets);
  return tf.tidy(() => {
    const freq = tf.sum(
      targets,
      Array.from({ length: targets.rank - 1 }, (_, i) => i),
    );
    const raw = tf.div(1, tf.add(tf.square(freq), 1e-7));
    const classWeights = tf.mul(tf.div(raw, tf.sum(raw)), raw.size);
    return tf.mean(dice(fn, predictions, targets, { ...o, classWeights, reduction: 'none' }));
  });
}

/** Options of {@link binaryDiceLoss}. */
export interface BinaryDiceLossOptions {
  /** Added to the numerator and denominator (default 1). */
  smooth?: number;
  /** Turn logits into probabilities with a sigmoid (default true). */
  applySigmoid?: boolean;
}

/**
 * The Dice loss of a binary segmentation (one channel): {@link diceLoss} with a sigmoid. Reference: optax `binary_dice_loss`.
 *
 * $$
 * \ell = 1 - \frac{I + s}{I + \alpha \left( \sum q - I \right) + \beta \left( \sum y - I \right) + s}, \qquad q = \sigma(z), \quad I = \sum q\, y
 * $$
 */
export function binaryDiceLoss(predictions: tf.Tensor, targets: tf.Tensor, options?: BinaryDiceLossOptions): tf.Tensor {
  const fn = 'binaryDiceLoss';
  const o = checkOptions(fn, options, ['smooth', 'applySigmoid']);
  checkFloat(fn, 'predictions', predictions);
  checkFloat(fn, 'targets', targets);
  return tf.tidy(() => {
    let p = predictions;
    let t = targets;
    if (p.rank === t.rank && p.shape[p.rank - 1] !== 1) {
      p = tf.expandDims(p, -1);
      t = tf.expandDims(t, -1);
    }
    return dice(fn, p, t, { smooth: o.smooth, applySoftmax: o.applySigmoid ?? true, reduction: 'mean' });
  });
}
