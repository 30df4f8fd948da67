/**
 * Joining schedules end to end (optax `join_schedules`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { checkCount, checkFinite, describe } from './validate.js';

/**
 * Joins already-checked schedules without a count check: shared with the
 * warmup and SGDR schedules. Only the schedule in effect is called, so a
 * later schedule never sees a negative count.
 */
export function joinRaw(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  return (count) => {
    // As in optax: each boundary the count has reached hands over to its
    // schedule, and the last such boundary (in list order) wins.
    let active = 0;
    for (let i = 0; i < boundaries.length; i++) {
      if (count >= boundaries[i]!) active = i + 1;
    }
    return active === 0 ? schedules[0]!(count) : schedules[active]!(count - boundaries[active - 1]!);
  };
}

/**
 * Runs `schedules` one after another: `schedules[0]` until `boundaries[0]`,
 * then `schedules[1]` evaluated at `count - boundaries[0]` until
 * `boundaries[1]`, and so on; each later schedule counts from 0 at its
 * boundary. `boundaries` must have one entry fewer than `schedules`.
 * Reference: optax `join_schedules`.
 *
 * $$
 * \eta_t = \eta^{(i)}_{t - b_{i-1}} \quad \text{for } b_{i-1} \le t < b_i, \qquad b_{-1} = 0
 * $$
 *
 * @param schedules - at least one schedule.
 * @param boundaries - the counts at which each next schedule takes over; finite numbers.
 */
export function scheduleJoin(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const fn = 'scheduleJoin';
  if (!Array.isArray(schedules) || schedules.length === 0) {
    throw new Error(`${fn}: \`schedules\` must be a non-empty array of schedules, got ${describe(schedules)}`);
  }
  schedules.forEach((s, i) => {
    if (typeof s !== 'function') throw new Error(`${fn}: \`schedules[${i}]\` must be a schedule (count) => number, got ${describe(s)}`);
  });
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new Error(
      `${fn}: \`boundaries\` must be an array of ${schedules.length - 1} step(s), one fewer than \`schedules\`, got ${describe(boundaries)}`,
    );
  }
  boundaries.forEach((b, i) => {
    checkFinite(fn, `boundaries[${i}]`, b);
  });
  const raw = joinRaw([...schedules], [...boundaries]);
  return (count) => raw(checkCount(fn, count));
}
