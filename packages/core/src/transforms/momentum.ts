/**
 * Accumulators of past updates: `trace` (momentum) and `ema` (optax
 * `transforms/_accumulation.py`).
 *
 * @module
 */

import { type Exact, type GradientTransformation, type NoOptions, safeIncrement } from '../base.js';
import { elementwise } from '../elementwise.js';
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
import {
  type AccumulatorStorageOptions,
  accumulatorStorage,
  accumulatorStorageDefaults,
  type DtypeOf,
  type StateDtype,
  type StoredSlot,
} from './state-dtype.js';

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
 * The state of {@link trace} (optax's `TraceState`), with the trace stored
 * as `D` (its `accumulatorDtype`).
 */
export interface TraceState<D extends StateDtype = 'float32'> {
  /** The momentum trace: a tree with the params' structure, or its packed codes (see {@link StoredSlot}). */
  trace: StoredSlot<D>;
}

/**
 * Accumulates a decaying sum of past updates (heavy-ball momentum):
 * $$
 * m \leftarrow g + \beta m, \qquad u = \begin{cases} m & \text{default} \\ g + \beta m & \text{nesterov (with the new } m) \end{cases}
 * $$
 * State `{ trace }`. `decay` has no default; `nesterov` defaults to false;
 * `accumulatorDtype` keeps the trace in bfloat16, float16 or block-wise int8
 * (see {@link AccumulatorStorageOptions}).
 * Unlike {@link ema}, the incoming update is not scaled by `1 - decay`.
 * Reference: Polyak, "Some methods of speeding up the convergence of
 * iteration methods" (1964); Sutskever et al., "On the importance of
 * initialization and momentum in deep learning" (2013); optax `trace`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(trace({ decay: 0.9, nesterov: true }), scaleByLearningRate(0.1)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function trace<const O extends TraceOptions>(
  options: Exact<O, TraceOptions>,
): GradientTransformation<TraceState<DtypeOf<O, 'accumulatorDtype'>>>;
export function trace(options: TraceOptions): GradientTransformation<TraceState<StateDtype>> {
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

/** The state of {@link ema} (optax's `EmaState`), with the average stored as `D` (its `accumulatorDtype`). */
export interface EmaState<D extends StateDtype = 'float32'> {
  /** The number of updates so far. */
  count: number;
  /** The moving average: a tree with the params' structure, or its packed codes (see {@link StoredSlot}). */
  ema: StoredSlot<D>;
}

/**
 * Keeps an exponential moving average of past updates and returns it.
 *
 * With `t = count + 1`:
 * $$
 * e \leftarrow (1 - \beta)\, g + \beta e, \qquad u = \begin{cases} \dfrac{e}{1 - \beta^t} & \text{debias} \\ e & \text{otherwise} \end{cases}
 * $$
 * State `{ count, ema }` (the count is kept even without `debias`, as in
 * optax); the state holds the average before debiasing. `decay` must be in
 * [0, 1) with `debias` and in [0, 1] without; `debias` defaults to true.
 * Reference: optax `ema`.
 */
export function ema<const O extends EmaOptions = NoOptions>(
  decay: number,
  options?: Exact<O, EmaOptions>,
): GradientTransformation<EmaState<DtypeOf<O, 'accumulatorDtype'>>>;
export function ema(decay: number, options: EmaOptions = {}): GradientTransformation<EmaState<StateDtype>> {
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
