/**
 * Polyak step sizes: `scaleByPolyak` and `polyakSgd` (optax `scale_by_polyak`,
 * `polyak_sgd`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, ScalarOrSchedule, UpdateExtras } from '../base.js';
import { chain } from '../combine.js';
import { treeMap } from '../tree.js';
import { treeNorm } from '../tree-utils.js';
import {
  checkFinite,
  checkFloatTree,
  checkNonNegative,
  checkScalarOrSchedule,
  type OptionDefaults,
  requireExtra,
  resolveOptions,
} from '../validate.js';
import { type ScaleByLearningRateState, scaleByLearningRate } from './scaling.js';

/** The variants of {@link scaleByPolyak}: `'sps'` as published, `'sps+'` with the gap clipped at 0. */
export type PolyakVariant = 'sps' | 'sps+';

/** Options of {@link scaleByPolyak}. */
export interface ScaleByPolyakOptions {
  /** A lower bound `f*` on the objective (default 0), a finite number. */
  fMin?: number;
  /** The largest step size (default 1), ≥ 0. */
  maxLearningRate?: number;
  /** Added to the squared norm in the denominator (default 0), ≥ 0. */
  eps?: number;
  /** `'sps'` (default) or `'sps+'` (the gap `f - f*` clipped at 0). */
  variant?: PolyakVariant;
}

/** The defaults of {@link scaleByPolyak}'s options. */
export const scaleByPolyakDefaults: OptionDefaults<ScaleByPolyakOptions> = Object.freeze({
  fMin: 0,
  maxLearningRate: 1,
  eps: 0,
  variant: 'sps',
});

/** float64 machine epsilon, the threshold optax compares `‖g‖² + eps` with. */
const FLOAT64_EPS = 2 ** -52;

/**
 * Scales the updates by Polyak's step size, from the loss `value` passed in
 * the update's extra arguments (`tx.update(g, s, p, { value })`):
 * $$
 * u = \min\!\left( \frac{f - f^\star}{\lVert g \rVert^2 + \epsilon}, \eta_{\max} \right) g
 * $$
 *
 * ```
 * gap  = value - fMin                 ('sps+': max(gap, 0))
 * step = ‖g‖² + eps <= 2^-52 ? 0 : min(gap / (‖g‖² + eps), maxLearningRate)
 * u    = step · g
 * ```
 * `value` is required (a number or a scalar tensor). Stateless (`{}`). Does
 * not fuse (the step needs the loss and a global norm): it runs on the
 * reference path. Defaults `fMin = 0, maxLearningRate = 1, eps = 0,
 * variant = 'sps'`. Reference: Loizou et al., "Stochastic Polyak Step-size
 * for SGD" (2021); optax `scale_by_polyak`.
 */
export function scaleByPolyak(options?: ScaleByPolyakOptions): GradientTransformation<Record<string, never>> {
  const fn = 'scaleByPolyak';
  const o = resolveOptions(fn, options, scaleByPolyakDefaults);
  const fMin = checkFinite(fn, 'fMin', o.fMin);
  const maxLearningRate = checkNonNegative(fn, 'maxLearningRate', o.maxLearningRate);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  if (o.variant !== 'sps' && o.variant !== 'sps+') {
    throw new Error(`${fn}: \`variant\` must be 'sps' or 'sps+', got ${JSON.stringify(o.variant)}`);
  }
  const plus = o.variant === 'sps+';
  return {
    init: () => ({}),
    update(updates, state, _params, extras?: UpdateExtras) {
      checkFloatTree(fn, 'updates', updates);
      const value = requireExtra(fn, extras, 'value');
      if (typeof value !== 'number' && !(value instanceof tf.Tensor && value.size === 1)) {
        throw new Error(`${fn}: the extra argument \`value\` must be a number or a scalar tensor, got ${String(value)}`);
      }
      const out = tf.tidy(() => {
        const sqNorm = treeNorm(updates, 2, true);
        let gap = tf.sub(tf.reshape(tf.cast(value, 'float32'), []), tf.scalar(fMin));
        if (plus) gap = tf.relu(gap);
        const denom = tf.add(sqNorm, tf.scalar(eps));
        const step = tf.where(tf.lessEqual(denom, FLOAT64_EPS), tf.scalar(0), tf.minimum(tf.div(gap, denom), maxLearningRate));
        return treeMap((g: tf.Tensor) => tf.mul(step, g), updates);
      });
      return [out, state];
    },
  };
}

/** Options of {@link polyakSgd}: those of {@link scaleByPolyak} and the `scaling` of the SGD step. */
export interface PolyakSgdOptions extends ScaleByPolyakOptions {
  /** Scales the step, `s` in the formula (default 1); a number or a schedule. */
  scaling?: ScalarOrSchedule;
}

/** The defaults of {@link polyakSgd}'s options. */
export const polyakSgdDefaults: OptionDefaults<PolyakSgdOptions> = Object.freeze({ ...scaleByPolyakDefaults, scaling: 1 });

/** The state of {@link polyakSgd}: `[scaleByLearningRate's state, scaleByPolyak's state]`. */
export type PolyakSgdState = [ScaleByLearningRateState, Record<string, never>];

/**
 * SGD with Polyak's step size:
 * `u = -s · min((f - f*) / (‖s g‖² + eps), maxLearningRate) · g`, i.e.
 * `chain(scaleByLearningRate(scaling), scaleByPolyak(...))` (optax's
 * `chain(sgd(scaling), scale_by_polyak(...))`: the norm is of the scaled
 * gradient). Needs the loss: `update(g, s, p, { value })`. Does not fuse.
 * Defaults `maxLearningRate = 1, scaling = 1, fMin = 0, eps = 0,
 * variant = 'sps'`. Reference: Loizou et al. (2021); Berrada et al.,
 * "Training Neural Networks for and by Interpolation" (2020); optax `polyak_sgd`.
 *
 * $$
 * u = -s\, \min\!\left( \frac{f - f^\star}{\lVert s\, g \rVert^2 + \epsilon}, \eta_{\max} \right) g
 * $$
 */
export function polyakSgd(options?: PolyakSgdOptions): GradientTransformation<PolyakSgdState> {
  const fn = 'polyakSgd';
  const o = resolveOptions(fn, options, polyakSgdDefaults);
  checkScalarOrSchedule(fn, 'scaling', o.scaling);
  return chain(
    scaleByLearningRate(o.scaling),
    scaleByPolyak({ fMin: o.fMin, maxLearningRate: o.maxLearningRate, eps: o.eps, variant: o.variant }),
  );
}
