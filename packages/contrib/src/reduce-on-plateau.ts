/**
 * Reduce the scale on a plateau of the loss (optax `contrib.reduce_on_plateau`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkStateKeys,
  f32,
  type GradientTransformation,
  requireExtra,
  resolveOptions,
  treeMap,
  type Updates,
} from './core-api.js';

/** The state of {@link reduceOnPlateau} (optax `ReduceLROnPlateauState`); every value is a plain number. */
export interface ReduceLROnPlateauState {
  /** The factor the updates are multiplied by (float32). */
  scale: number;
  /** The best averaged loss so far (float32; Infinity at first). */
  bestValue: number;
  /** Accumulation windows without improvement. */
  plateauCount: number;
  /** Windows left before plateaus are counted again. */
  cooldownCount: number;
  /** Losses accumulated in the current window. */
  count: number;
  /** Their running mean (float32). */
  avgValue: number;
}

/** Options of {@link reduceOnPlateau}. */
export interface ReduceOnPlateauOptions {
  /** The scale is multiplied by this on a plateau (default 0.1), in (0, 1). */
  factor?: number;
  /** Windows without improvement that make a plateau (default 10), an integer ≥ 0. */
  patience?: number;
  /** Relative improvement needed, `avg < (1 - rtol) best - atol` (default 1e-4), in [0, 1]. */
  rtol?: number;
  /** Absolute improvement needed (default 0), ≥ 0; `rtol` and `atol` are not both 0. */
  atol?: number;
  /** Windows after a reduction during which plateaus are not counted (default 0). */
  cooldown?: number;
  /** Losses averaged into one window before it is compared (default 1), an integer ≥ 1. */
  accumulationSize?: number;
  /** The scale never goes below this (default 0), ≥ 0. */
  minScale?: number;
}

const DEFAULTS: Required<ReduceOnPlateauOptions> = {
  factor: 0.1,
  patience: 10,
  rtol: 1e-4,
  atol: 0,
  cooldown: 0,
  accumulationSize: 1,
  minScale: 0,
};

/** The loss `value` of an update as a number (a scalar tensor is read back). */
function readValue(fn: string, extras: Parameters<GradientTransformation['update']>[3]): number {
  const v = requireExtra(fn, extras, 'value');
  if (typeof v === 'number') return v;
  if (v instanceof tf.Tensor && v.size === 1) return v.dataSync()[0] as number;
  throw new Error(
    `${fn}: the extra argument \`value\` must be a number or a scalar tensor, got ${v instanceof tf.Tensor ? `a tensor of shape [${v.shape}]` : String(v)}`,
  );
}

/**
 * Multiplies the updates by a scale that is reduced by `factor` whenever the
 * loss has not improved for `patience` windows (tfjs has no ReduceLROnPlateau;
 * this is optax's). Needs the loss: `tx.update(grads, state, params, { value })`.
 *
 * $$
 * u = s\, g, \qquad s \leftarrow \max(s \cdot \mathrm{factor}, s_{\min}) \text{ after } \mathrm{patience} \text{ windows without improvement}
 * $$
 *
 * Each update adds `value` to the window's mean; when the window holds
 * `accumulationSize` values it is compared and reset:
 * ```
 * improved = avg < (1 - rtol) best - atol          best = improved ? avg : best
 * plateau  = improved ? 0 : plateau + 1
 * cooldown > 0:           plateau = 0, cooldown -= 1
 * else plateau = patience: scale = max(scale factor, minScale), plateau = 0, cooldown = cooldown option
 * u = scale · g
 * ```
 *
 * State {@link ReduceLROnPlateauState}. Defaults: `factor = 0.1,
 * patience = 10, rtol = 1e-4, atol = 0, cooldown = 0, accumulationSize = 1,
 * minScale = 0`. Needs `value`. Runs on the reference path (the scale
 * depends on the loss, read on the host). Reference: optax
 * `contrib.reduce_on_plateau` (as PyTorch's `ReduceLROnPlateau`).
 */
export function reduceOnPlateau(options?: ReduceOnPlateauOptions): GradientTransformation<ReduceLROnPlateauState> {
  const fn = 'reduceOnPlateau';
  const o = resolveOptions(fn, options, DEFAULTS);
  const factor = checkFinite(fn, 'factor', o.factor);
  if (!(factor > 0 && factor < 1)) throw new Error(`${fn}: \`factor\` must be in (0, 1), got ${factor}`);
  const rtol = checkNonNegative(fn, 'rtol', o.rtol);
  const atol = checkNonNegative(fn, 'atol', o.atol);
  if (rtol > 1) throw new Error(`${fn}: \`rtol\` must be <= 1, got ${rtol}`);
  if (rtol === 0 && atol === 0) throw new Error(`${fn}: at least one of \`rtol\` and \`atol\` must be > 0, got both 0`);
  const patience = checkInteger(fn, 'patience', o.patience);
  const cooldown = checkInteger(fn, 'cooldown', o.cooldown);
  const size = checkInteger(fn, 'accumulationSize', o.accumulationSize, 1);
  const minScale = checkNonNegative(fn, 'minScale', o.minScale);
  const keep = f32(1 - rtol);

  const windowDone = (s: ReduceLROnPlateauState): ReduceLROnPlateauState => {
    const improved = s.avgValue < f32(f32(keep * s.bestValue) - atol);
    const bestValue = improved ? s.avgValue : s.bestValue;
    const plateau = improved ? 0 : s.plateauCount + 1;
    const reset = { bestValue, count: 0, avgValue: 0 };
    if (s.cooldownCount > 0) return { ...reset, plateauCount: 0, scale: s.scale, cooldownCount: s.cooldownCount - 1 };
    const reduce = plateau === patience;
    return {
      ...reset,
      plateauCount: reduce ? 0 : plateau,
      scale: Math.max(reduce ? f32(s.scale * factor) : s.scale, f32(minScale)),
      cooldownCount: reduce ? cooldown : 0,
    };
  };

  return {
    init: () => ({ scale: 1, bestValue: Number.POSITIVE_INFINITY, plateauCount: 0, cooldownCount: 0, count: 0, avgValue: 0 }),
    update(updates, state, _params, extras) {
      checkStateKeys(fn, state, ['scale', 'bestValue', 'plateauCount', 'cooldownCount', 'count', 'avgValue']);
      const value = f32(readValue(fn, extras));
      const count = state.count + 1;
      const avgValue = f32(f32(f32(state.count * state.avgValue) + value) / count);
      let next: ReduceLROnPlateauState = { ...state, avgValue, count };
      if (count === size) next = windowDone(next);
      const scale = next.scale;
      return [tf.tidy(() => treeMap((g: tf.Tensor) => tf.mul(scale, g), updates)) as Updates, next];
    },
  };
}
