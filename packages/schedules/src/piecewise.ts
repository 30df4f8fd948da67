/**
 * Piecewise schedules (optax `piecewise_constant_schedule`,
 * `piecewise_interpolate_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { checkCount, checkFinite, checkOptions, describe, fail } from './validate.js';

/**
 * Scale factors keyed by step, e.g. `{ 1000: 0.1, 5000: 0.1 }`: at each
 * step key the running value is multiplied by its factor. Keys are parsed
 * as numbers; factors must be finite and `>= 0`.
 */
export type BoundariesAndScales = Record<number | string, number>;

/** Options of {@link schedulePiecewiseConstant}. */
export interface SchedulePiecewiseConstantOptions {
  /** The value before the first boundary. */
  initValue: number;
  /** `{ step: scale }`: from `step` on, the value is multiplied by `scale` (default none). */
  boundariesAndScales?: BoundariesAndScales;
}

/** How {@link schedulePiecewiseInterpolate} moves between boundaries. */
export type InterpolateType = 'linear' | 'cosine';

/** Options of {@link schedulePiecewiseInterpolate}. */
export interface SchedulePiecewiseInterpolateOptions {
  /** `'linear'` or `'cosine'` (a half cosine) interpolation between the values at the boundaries. */
  interpolateType: InterpolateType;
  /** The value at count 0. */
  initValue: number;
  /**
   * `{ step: scale }`: the value reached at `step` is the value at the
   * previous boundary times `scale` (default none: the constant `initValue`).
   */
  boundariesAndScales?: BoundariesAndScales;
}

/**
 * Checks a `{ step: scale }` object and returns its entries sorted by step
 * (as optax sorts the dict's items).
 */
export function sortedBoundaries(fn: string, arg: string, value: unknown): Array<[number, number]> {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Map) {
    fail(fn, arg, value, 'a plain object keyed by step, such as { 1000: 0.1 }');
  }
  const seen = new Map<number, string>();
  const entries: Array<[number, number]> = [];
  for (const [key, scale] of Object.entries(value)) {
    const step = key.trim() === '' ? Number.NaN : Number(key);
    if (!Number.isFinite(step)) {
      throw new Error(`${fn}: the keys of \`${arg}\` must be finite step numbers, got ${describe(key)}`);
    }
    const twin = seen.get(step);
    if (twin !== undefined) {
      throw new Error(`${fn}: the keys ${describe(twin)} and ${describe(key)} of \`${arg}\` name the same step ${step}`);
    }
    seen.set(step, key);
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
      fail(fn, `${arg}[${key}]`, scale, 'a finite number >= 0 (optax expects non-negative scale factors)');
    }
    entries.push([step, scale]);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

/**
 * Returns `initValue` times the product of the scales of every boundary the
 * count has reached (`count >= step`). Defaults: no boundaries. Throws on a
 * negative scale, as optax does.
 * Reference: optax `piecewise_constant_schedule`.
 *
 * $$
 * \eta_t = \eta_0 \prod_{i\,:\, t \ge b_i} s_i
 * $$
 */
export function schedulePiecewiseConstant(opts: SchedulePiecewiseConstantOptions): Schedule {
  const fn = 'schedulePiecewiseConstant';
  const o = checkOptions(fn, 'opts', opts, ['initValue', 'boundariesAndScales']);
  const initValue = checkFinite(fn, 'initValue', o.initValue);
  const entries = sortedBoundaries(fn, 'boundariesAndScales', o.boundariesAndScales);
  return (count) => {
    checkCount(fn, count);
    let v = initValue;
    for (const [step, scale] of entries) {
      if (count >= step) v = scale * v;
    }
    return v;
  };
}

/**
 * The piecewise interpolation on checked, sorted `[step, scale]` entries,
 * without a count check: shared with the one-cycle schedules.
 */
export function piecewiseInterpolateRaw(type: InterpolateType, initValue: number, entries: ReadonlyArray<[number, number]>): Schedule {
  // bounds[i] .. bounds[i + 1] is segment i, from values[i] to values[i + 1].
  const bounds = [0, ...entries.map((e) => e[0])];
  const values = [initValue];
  for (const [, scale] of entries) values.push(values[values.length - 1]! * scale);
  const last = bounds.length - 1;
  const interpolate =
    type === 'linear'
      ? (start: number, end: number, pct: number) => (end - start) * pct + start
      : (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  return (count) => {
    // As in optax, every segment that contains the count contributes (for
    // sorted, non-negative steps that is at most one), plus the last value
    // once the count is past the last boundary.
    let out = 0;
    for (let i = 0; i < last; i++) {
      const lo = bounds[i]!;
      const hi = bounds[i + 1]!;
      if (lo <= count && count < hi) {
        out += interpolate(values[i]!, values[i + 1]!, (count - lo) / Math.max(hi - lo, 1));
      }
    }
    if (bounds[last]! <= count) out += values[last]!;
    return out;
  };
}

/**
 * Moves between the values at the boundaries by linear or half-cosine
 * interpolation: the value at step key `b_i` is
 * `initValue · scale_1 · … · scale_i`, and between `b_(i-1)` and `b_i` the
 * value goes from the one to the next (`linear`:
 * `start + (end - start) · pct`; `cosine`:
 * `end + (start - end) / 2 · (cos(π · pct) + 1)`), with the first segment
 * starting at step 0. After the last boundary it holds the last value.
 * Throws on an unknown `interpolateType` or a negative scale, as optax does.
 * Reference: optax `piecewise_interpolate_schedule`.
 *
 * $$
 * \eta_t = \begin{cases} \eta_{i-1} + (\eta_i - \eta_{i-1})\, q & \texttt{'linear'} \\ \eta_i + \frac{\eta_{i-1} - \eta_i}{2} \big(\cos(\pi q) + 1\big) & \texttt{'cosine'} \end{cases}, \qquad q = \frac{t - b_{i-1}}{b_i - b_{i-1}}, \; \eta_i = \eta_0\, s_1 \cdots s_i
 * $$
 */
export function schedulePiecewiseInterpolate(opts: SchedulePiecewiseInterpolateOptions): Schedule {
  const fn = 'schedulePiecewiseInterpolate';
  const o = checkOptions(fn, 'opts', opts, ['interpolateType', 'initValue', 'boundariesAndScales']);
  if (o.interpolateType !== 'linear' && o.interpolateType !== 'cosine') {
    fail(fn, 'interpolateType', o.interpolateType, "'linear' or 'cosine'");
  }
  const raw = piecewiseInterpolateRaw(
    o.interpolateType,
    checkFinite(fn, 'initValue', o.initValue),
    sortedBoundaries(fn, 'boundariesAndScales', o.boundariesAndScales),
  );
  return (count) => raw(checkCount(fn, count));
}
