/**
 * Monitoring: `snapshot`, `monitor`, `measureWithEma` (optax `snapshot`,
 * `monitor`, `measure_with_ema`). Each passes the updates through unchanged
 * and keeps measurements of them in its state.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, UpdateExtras, Updates } from '../base.js';
import { chain, stateless } from '../combine.js';
import { isTensor, treeLeaves, treeMap } from '../tree.js';
import { checkFloatTree, checkStateKeys, type OptionDefaults, resolveOptions } from '../validate.js';
import { type EmaState, ema } from './momentum.js';

/** A measure: a function of the updates (or params) returning a tree of fresh tensors, e.g. `treeL2Norm`. */
export type Measure = (updates: Updates) => unknown;

const passThrough = (updates: Updates): Updates => treeMap((u: tf.Tensor) => tf.clone(u), updates);

/** A measure's result, with any input tensor it returned as is replaced by a copy (so the state owns it). */
function owned(measured: unknown, inputs: unknown): unknown {
  const given = new Set(treeLeaves(inputs));
  return treeMap((x: unknown) => (isTensor(x) && given.has(x) ? tf.clone(x) : x), measured);
}

function checkMeasure(fn: string, measure: unknown): asserts measure is Measure {
  if (typeof measure !== 'function') throw new Error(`${fn}: \`measure\` must be a function of the updates, got ${String(measure)}`);
}

/**
 * Keeps `measure(updates)` of the latest updates in the state, under
 * `state.measurement[measureName]` (at `init`, `measure(params)`); the
 * updates pass through unchanged. Does not fuse (the measure is arbitrary).
 * Reference: optax `snapshot`.
 *
 * $$
 * u = g, \qquad s = \mathrm{measure}(g)
 * $$
 */
export function snapshot(measureName: string, measure: Measure): GradientTransformation<{ measurement: Record<string, unknown> }> {
  const fn = 'snapshot';
  if (typeof measureName !== 'string') throw new Error(`${fn}: \`measureName\` must be a string, got ${String(measureName)}`);
  checkMeasure(fn, measure);
  return {
    init: (params: Params) => ({ measurement: { [measureName]: owned(measure(params), params) } }),
    update(updates: Updates, state) {
      checkFloatTree(fn, 'updates', updates);
      checkStateKeys(fn, state, ['measurement']);
      return [passThrough(updates), { measurement: { [measureName]: owned(measure(updates), updates) } }];
    },
  };
}

/** The state of {@link monitor}: the latest measurements by name and each measure's own state. */
export interface MonitorState {
  measurements: Record<string, unknown>;
  measureStates: unknown[];
}

/**
 * Records several measurements of the updates at each step, under
 * `state.measurements[name]`; the updates pass through unchanged. A measure
 * is a function of the updates, or a gradient transformation whose output
 * updates are the measurement (e.g. {@link measureWithEma}), which then
 * receives the params and the extra arguments. The measurements are empty
 * after `init`. Does not fuse. Reference: optax `monitor`.
 *
 * $$
 * u = g, \qquad s_{\mathrm{name}} = \mathrm{measure}_{\mathrm{name}}(g)
 * $$
 */
export function monitor(measures: Record<string, Measure | GradientTransformation>): GradientTransformation<MonitorState> {
  const fn = 'monitor';
  if (measures === null || typeof measures !== 'object' || Array.isArray(measures)) {
    throw new Error(`${fn}: \`measures\` must be an object of named measures, got ${String(measures)}`);
  }
  const names = Object.keys(measures);
  const txs = names.map((name) => {
    const m = measures[name];
    if (typeof m === 'function') return stateless((u) => owned(m(u), u) as Updates);
    if (m !== null && typeof m === 'object' && typeof m.init === 'function' && typeof m.update === 'function') return m;
    throw new Error(`${fn}: the measure \`${name}\` must be a function or a gradient transformation, got ${String(m)}`);
  });
  return {
    init: (params: Params) => ({ measurements: {}, measureStates: txs.map((tx) => tx.init(params)) }),
    update(updates: Updates, state: MonitorState, params?: Params, extras?: UpdateExtras) {
      checkFloatTree(fn, 'updates', updates);
      checkStateKeys(fn, state, ['measurements', 'measureStates']);
      const measurements: Record<string, unknown> = {};
      const measureStates = txs.map((tx, i) => {
        const [m, s] = tx.update(updates, state.measureStates[i], params, extras);
        measurements[names[i] as string] = m;
        return s;
      });
      return [passThrough(updates), { measurements, measureStates }];
    },
  };
}

/** Options of {@link measureWithEma}. */
export interface MeasureWithEmaOptions {
  /** Divide by `1 - decay^t` (default true). */
  debias?: boolean;
}

/** The defaults of {@link measureWithEma}'s options. */
export const measureWithEmaDefaults: OptionDefaults<MeasureWithEmaOptions> = Object.freeze({ debias: true });

/** The state of {@link measureWithEma}: `[stateless's {}, the average's EmaState]` (the average shaped like the measurement). */
export type MeasureWithEmaState = [Record<string, never>, EmaState];

/**
 * A measurement smoothed by an exponential moving average:
 * `chain(stateless(measure), ema(decay, { debias }))`, with the average's
 * state shaped like `measure(params)`. Its output updates are the smoothed
 * measurement (use it inside {@link monitor}). Does not fuse (the measure is
 * arbitrary). Default `debias = true`. Reference: optax `measure_with_ema`.
 *
 * $$
 * e \leftarrow (1 - \beta)\, \mathrm{measure}(g) + \beta e, \qquad u = \frac{e}{1 - \beta^t} \quad \text{(with debias)}
 * $$
 */
export function measureWithEma(
  measure: Measure,
  decay: number,
  options?: MeasureWithEmaOptions,
): GradientTransformation<MeasureWithEmaState> {
  const fn = 'measureWithEma';
  checkMeasure(fn, measure);
  const o = resolveOptions(fn, options, measureWithEmaDefaults);
  const average = ema(decay, { debias: o.debias });
  const onMeasurement: GradientTransformation = {
    init(params: Params) {
      const m = owned(measure(params), params);
      const s = average.init(m as Params);
      for (const x of treeLeaves(m)) if (isTensor(x)) x.dispose();
      return s;
    },
    update: (updates, state) => average.update(updates, state),
  };
  return chain(
    stateless((u) => owned(measure(u), u) as Updates),
    onMeasurement,
  );
}
