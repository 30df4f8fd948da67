/**
 * One-cycle schedules (optax `linear_onecycle_schedule`,
 * `cosine_onecycle_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { piecewiseInterpolateRaw } from './piecewise.js';
import { checkCount, checkFinite, checkOptions, fail, optionalFinite } from './validate.js';

/** Options of {@link scheduleLinearOnecycle}. */
export interface ScheduleLinearOnecycleOptions {
  /** The length of the cycle; must be `> 0`. */
  transitionSteps: number;
  /** The value at the top of the cycle. */
  peakValue: number;
  /** The fraction of the cycle spent rising to `peakValue` (default 0.3). */
  pctStart?: number;
  /** The fraction of the cycle at which the value is back at `peakValue / divFactor` (default 0.85). */
  pctFinal?: number;
  /** The start value is `peakValue / divFactor` (default 25); must be non-zero. */
  divFactor?: number;
  /** The final value is `peakValue / divFactor / finalDivFactor` (default 1e4); must be non-zero. */
  finalDivFactor?: number;
}

/** Options of {@link scheduleCosineOnecycle}. */
export interface ScheduleCosineOnecycleOptions {
  /** The length of the cycle; must be `> 0`. */
  transitionSteps: number;
  /** The value at the top of the cycle. */
  peakValue: number;
  /** The fraction of the cycle spent rising to `peakValue` (default 0.3). */
  pctStart?: number;
  /** The start value is `peakValue / divFactor` (default 25); must be non-zero. */
  divFactor?: number;
  /** The final value is `peakValue / divFactor / finalDivFactor` (default 1e4); must be non-zero. */
  finalDivFactor?: number;
}

/** A non-zero finite number (optax divides by it in Python, which raises on 0). */
function checkNonZero(fn: string, arg: string, value: unknown): number {
  const v = checkFinite(fn, arg, value);
  if (v === 0) fail(fn, arg, v, 'non-zero');
  return v;
}

/**
 * The `{ step: scale }` boundaries as optax builds its dict: steps are
 * truncated to integers, a later entry with the same step replaces the
 * earlier one's scale, and the entries are then sorted by step.
 */
function boundaries(pairs: Array<[number, number]>): Array<[number, number]> {
  const dict = new Map<number, number>();
  for (const [step, scale] of pairs) dict.set(step, scale);
  return [...dict.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * Three linear phases: from `peakValue / divFactor` up to `peakValue` at
 * step `⌊pctStart · transitionSteps⌋`, back down to `peakValue / divFactor`
 * at `⌊pctFinal · transitionSteps⌋`, then down to
 * `peakValue / divFactor / finalDivFactor` at `transitionSteps`, held after.
 * It is {@link schedulePiecewiseInterpolate} (`'linear'`) on those points.
 * Defaults: `pctStart = 0.3`, `pctFinal = 0.85`, `divFactor = 25`,
 * `finalDivFactor = 1e4`. Throws if `transitionSteps <= 0`, as optax does.
 * Reference: Smith & Topin, "Super-Convergence: Very Fast Training of Neural
 * Networks Using Large Learning Rates" (2017); optax `linear_onecycle_schedule`.
 *
 * $$
 * \eta_t = \eta_a + (\eta_b - \eta_a)\, \frac{t - t_a}{t_b - t_a} \text{ within each phase } [t_a, t_b], \qquad \eta_{\mathrm{start}} = \frac{\eta_{\mathrm{peak}}}{\mathrm{divFactor}}
 * $$
 */
export function scheduleLinearOnecycle(opts: ScheduleLinearOnecycleOptions): Schedule {
  const fn = 'scheduleLinearOnecycle';
  const o = checkOptions(fn, 'opts', opts, ['transitionSteps', 'peakValue', 'pctStart', 'pctFinal', 'divFactor', 'finalDivFactor']);
  const transitionSteps = checkFinite(fn, 'transitionSteps', o.transitionSteps);
  if (!(transitionSteps > 0)) fail(fn, 'transitionSteps', transitionSteps, '> 0');
  const peakValue = checkFinite(fn, 'peakValue', o.peakValue);
  const pctStart = optionalFinite(fn, 'pctStart', o.pctStart, 0.3);
  const pctFinal = optionalFinite(fn, 'pctFinal', o.pctFinal, 0.85);
  const divFactor = o.divFactor === undefined ? 25 : checkNonZero(fn, 'divFactor', o.divFactor);
  const finalDivFactor = o.finalDivFactor === undefined ? 1e4 : checkNonZero(fn, 'finalDivFactor', o.finalDivFactor);
  const raw = piecewiseInterpolateRaw(
    'linear',
    peakValue / divFactor,
    boundaries([
      [Math.trunc(pctStart * transitionSteps), divFactor],
      [Math.trunc(pctFinal * transitionSteps), 1 / divFactor],
      [transitionSteps, 1 / finalDivFactor],
    ]),
  );
  return (count) => raw(checkCount(fn, count));
}

/**
 * Rises from `peakValue / divFactor` to `peakValue` at step
 * `⌊pctStart · transitionSteps⌋`, then falls to
 * `peakValue / divFactor / finalDivFactor` at `⌊transitionSteps⌋`, both along
 * half cosines, and holds it: {@link schedulePiecewiseInterpolate}
 * (`'cosine'`) on those points. Defaults: `pctStart = 0.3`,
 * `divFactor = 25`, `finalDivFactor = 1e4`. Throws if
 * `transitionSteps <= 0`, as optax does.
 * Reference: Smith & Topin, "Super-Convergence" (2017); optax
 * `cosine_onecycle_schedule`.
 *
 * $$
 * \eta_t = \eta_b + \frac{\eta_a - \eta_b}{2} \big( \cos(\pi\, q) + 1 \big) \text{ within each phase } [t_a, t_b], \quad q = \frac{t - t_a}{t_b - t_a}, \qquad \eta_{\mathrm{start}} = \frac{\eta_{\mathrm{peak}}}{\mathrm{divFactor}}
 * $$
 */
export function scheduleCosineOnecycle(opts: ScheduleCosineOnecycleOptions): Schedule {
  const fn = 'scheduleCosineOnecycle';
  const o = checkOptions(fn, 'opts', opts, ['transitionSteps', 'peakValue', 'pctStart', 'divFactor', 'finalDivFactor']);
  const transitionSteps = checkFinite(fn, 'transitionSteps', o.transitionSteps);
  if (!(transitionSteps > 0)) fail(fn, 'transitionSteps', transitionSteps, '> 0');
  const peakValue = checkFinite(fn, 'peakValue', o.peakValue);
  const pctStart = optionalFinite(fn, 'pctStart', o.pctStart, 0.3);
  const divFactor = o.divFactor === undefined ? 25 : checkNonZero(fn, 'divFactor', o.divFactor);
  const finalDivFactor = o.finalDivFactor === undefined ? 1e4 : checkNonZero(fn, 'finalDivFactor', o.finalDivFactor);
  const raw = piecewiseInterpolateRaw(
    'cosine',
    peakValue / divFactor,
    boundaries([
      [Math.trunc(pctStart * transitionSteps), divFactor],
      [Math.trunc(transitionSteps), 1 / (divFactor * finalDivFactor)],
    ]),
  );
  return (count) => raw(checkCount(fn, count));
}
