/**
 * Accumulators of past updates: `trace` (momentum) and `ema` (optax
 * `transforms/_accumulation.py`).
 *
 * @module
 */

import { type GradientTransformation, safeIncrement } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { updateMoment } from '../lang/moments.js';
import { biasCorrection, f32 } from '../lang/spec.js';
import {
  checkBoolean,
  checkDecay,
  checkNonNegative,
  checkUnitInterval,
  type OptionDefaults,
  resolveOptions,
  showValue,
} from '../validate.js';
import { type AccumulatorStorageOptions, accumulatorStorage, accumulatorStorageDefaults } from './state-dtype.js';

/** Options of {@link trace}. */
export interface TraceOptions extends AccumulatorStorageOptions {
  /** Decay of the trace of past updates (the momentum coefficient), a finite number ≥ 0. Required. */
  decay: number;
  /** Use Nesterov momentum (default false). */
  nesterov?: boolean;
}

/** The defaults of {@link trace}'s options (`undefined`: no default). */
export const traceDefaults: OptionDefaults<TraceOptions, 'decay'> = Object.freeze({
  decay: undefined,
  nesterov: false,
  ...accumulatorStorageDefaults,
});

/**
 * Accumulates a decaying sum of past updates (heavy-ball momentum):
 * ```
 * trace = g + decay · trace
 * u     = trace                    (default)
 * u     = g + decay · trace        (nesterov, with the new trace)
 * ```
 * State `{ trace }`. `decay` has no default; `nesterov` defaults to false;
 * `accumulatorDtype` keeps the trace in bfloat16, float16 or block-wise int8
 * (see {@link AccumulatorStorageOptions}).
 * Unlike {@link ema}, the incoming update is not scaled by `1 - decay`.
 * Reference: Polyak, "Some methods of speeding up the convergence of
 * iteration methods" (1964); Sutskever et al., "On the importance of
 * initialization and momentum in deep learning" (2013); optax `trace`.
 */
export function trace(options: TraceOptions): GradientTransformation<ElementwiseState> {
  const fn = 'trace';
  if (options === null || typeof options !== 'object') {
    throw new Error(`${fn}: expected an options object { decay, nesterov? }, got ${showValue(options)}`);
  }
  const o = resolveOptions(fn, options, traceDefaults);
  const decay = checkNonNegative(fn, 'decay', o.decay as number);
  const nesterov = checkBoolean(fn, 'nesterov', o.nesterov);
  const storage = accumulatorStorage(fn, o as Required<AccumulatorStorageOptions>);
  return elementwise({
    name: fn,
    key: nesterov ? `${fn}/nesterov` : fn,
    slots: [{ name: 'trace', init: 0, storage }],
    counted: false,
    needsParams: false,
    scalars: () => ({ decay }),
    body(m, x, k) {
      const u = x.u;
      const trace1 = m.add(u, m.mul(k.decay, x.trace));
      return { u: nesterov ? m.add(u, m.mul(k.decay, trace1)) : trace1, trace: trace1 };
    },
  });
}

/** Options of {@link ema}. */
export interface EmaOptions extends AccumulatorStorageOptions {
  /** Divide the average by `1 - decay^t` to remove the bias towards 0 (default true). */
  debias?: boolean;
}

/** The defaults of {@link ema}'s options (`undefined`: no default). */
export const emaDefaults: OptionDefaults<EmaOptions> = Object.freeze({ debias: true, ...accumulatorStorageDefaults });

/**
 * Keeps an exponential moving average of past updates and returns it.
 *
 * With `t = count + 1`:
 * ```
 * ema = (1 - decay) g + decay · ema
 * u   = ema / (1 - decay^t)      (debias)
 * u   = ema                      (otherwise)
 * ```
 * State `{ count, ema }` (the count is kept even without `debias`, as in
 * optax); the state holds the average before debiasing. `decay` must be in
 * [0, 1) with `debias` and in [0, 1] without; `debias` defaults to true.
 * Reference: optax `ema`.
 */
export function ema(decay: number, options: EmaOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'ema';
  const o = resolveOptions(fn, options, emaDefaults);
  const debias = checkBoolean(fn, 'debias', o.debias);
  const storage = accumulatorStorage(fn, o);
  if (debias) checkDecay(fn, 'decay', decay);
  else checkUnitInterval(fn, 'decay', decay);
  return elementwise({
    name: fn,
    key: debias ? `${fn}/debias` : fn,
    slots: [{ name: 'ema', init: 0, storage }],
    counted: true,
    needsParams: false,
    scalars: (count) => ({
      decay,
      omd: f32(1 - decay),
      bc: debias ? biasCorrection(decay, safeIncrement(count)) : 1,
    }),
    body(m, x, k) {
      const ema1 = updateMoment(m, x.u, x.ema, k.decay, k.omd);
      return { u: debias ? m.div(ema1, k.bc) : ema1, ema: ema1 };
    },
  });
}
