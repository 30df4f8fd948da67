/**
 * Fenchel-Young losses: `makeFenchelYoungLoss` (optax `make_fenchel_young_loss`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFloat } from './checks.js';

/** A max function over the last axis: `[..., n]` to `[...]` (e.g. `x => tf.logSumExp(x, -1)`). */
export type MaxFun = (scores: tf.Tensor, ...args: unknown[]) => tf.Tensor;

/**
 * Builds the Fenchel-Young loss of a max function `Ω*`:
 * `loss(scores, targets) = Ω*(scores) - ⟨targets, scores⟩` over the last axis
 * (leading axes are batch axes). With `Ω* = logsumexp` it is the softmax
 * cross-entropy. `maxFun` must work on the last axis of a batch (optax
 * vectorizes a per-vector function; tfjs has no vmap). Extra arguments are
 * passed to `maxFun`. Reference: Blondel et al., "Learning with Fenchel-Young
 * Losses" (2020); optax `make_fenchel_young_loss`.
 *
 * $$
 * \ell(\theta, y) = \Omega^*(\theta) - \langle y, \theta \rangle
 * $$
 */
export function makeFenchelYoungLoss(maxFun: MaxFun): (scores: tf.Tensor, targets: tf.Tensor, ...args: unknown[]) => tf.Tensor {
  const fn = 'makeFenchelYoungLoss';
  if (typeof maxFun !== 'function') throw new Error(`${fn}: \`maxFun\` must be a function, got ${String(maxFun)}`);
  return (scores, targets, ...args) => {
    checkFloat('fenchelYoungLoss', 'scores', scores);
    checkFloat('fenchelYoungLoss', 'targets', targets);
    return tf.tidy(() => {
      const maxValue = maxFun(scores, ...args);
      const expected = scores.shape.slice(0, -1);
      if (!(maxValue instanceof tf.Tensor) || maxValue.shape.join() !== expected.join()) {
        throw new Error(
          `${fn}: \`maxFun\` must map scores [${scores.shape.join(', ')}] to shape [${expected.join(', ')}] (a max over the last axis)`,
        );
      }
      return tf.sub(maxValue, tf.sum(tf.mul(targets, scores), -1));
    });
  };
}
