/**
 * The constant schedule (optax `constant_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { checkCount, checkFinite } from './validate.js';

/**
 * A schedule that returns `value` at every count.
 * Reference: optax `constant_schedule`.
 *
 * $$
 * \eta_t = v
 * $$
 *
 * @param value - the value to return; a finite number.
 */
export function scheduleConstant(value: number): Schedule {
  const fn = 'scheduleConstant';
  checkFinite(fn, 'value', value);
  return (count) => {
    checkCount(fn, count);
    return value;
  };
}
