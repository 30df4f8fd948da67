/**
 * SGD with warm restarts (optax `sgdr_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { joinRaw } from './join.js';
import { checkCount, describe } from './validate.js';
import { type ScheduleWarmupCosineOptions, warmupCosineRaw } from './warmup.js';

/**
 * Warm restarts: one {@link scheduleWarmupCosine} cycle per entry of
 * `cosineKwargs`, run back to back; cycle `i` lasts its `decaySteps` steps
 * and counts from 0 when it starts (the last cycle runs on after its end).
 * Each entry is checked as {@link scheduleWarmupCosine}'s options are.
 * Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
 * Warm Restarts" (2017); optax `sgdr_schedule`.
 *
 * $$
 * \eta_t = \mathrm{warmupCosine}_i\big(t - (T_0 + \dots + T_{i-1})\big) \quad \text{for } T_0 + \dots + T_{i-1} \le t < T_0 + \dots + T_i
 * $$
 *
 * @param cosineKwargs - the cycles, at least one.
 */
export function scheduleSgdr(cosineKwargs: readonly ScheduleWarmupCosineOptions[]): Schedule {
  const fn = 'scheduleSgdr';
  if (!Array.isArray(cosineKwargs) || cosineKwargs.length === 0) {
    throw new Error(`${fn}: \`cosineKwargs\` must be a non-empty array of scheduleWarmupCosine options, got ${describe(cosineKwargs)}`);
  }
  const schedules: Schedule[] = [];
  const boundaries: number[] = [];
  let step = 0;
  cosineKwargs.forEach((kwargs, i) => {
    schedules.push(warmupCosineRaw(fn, kwargs, `cosineKwargs[${i}].`, `cosineKwargs[${i}]`));
    step += kwargs.decaySteps;
    boundaries.push(step);
  });
  const raw = joinRaw(schedules, boundaries.slice(0, -1));
  return (count) => raw(checkCount(fn, count));
}
