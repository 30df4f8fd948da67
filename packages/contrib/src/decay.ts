/**
 * Decay rates that may be schedules, as optax's contrib transforms take them.
 *
 * @module
 */
import { checkDecay, checkScheduleValue, f32, type ScalarOrSchedule } from './core-api.js';

/** A constant decay checked to be in [0, 1), or a schedule (whose values are checked when evaluated). */
export function checkDecayOrSchedule(fn: string, arg: string, value: ScalarOrSchedule): ScalarOrSchedule {
  return typeof value === 'function' ? value : checkDecay(fn, arg, value);
}

/**
 * `[decay, 1 - decay]` at `count`, rounded as optax rounds them: a constant
 * (a Python float in optax) gives `1 - decay` in doubles, rounded once; a
 * schedule's value is a float32 array in optax, so `1 - decay` is a float32
 * subtraction.
 */
export function decayAt(fn: string, arg: string, value: ScalarOrSchedule, count: number): [number, number] {
  if (typeof value !== 'function') return [value, f32(1 - value)];
  const d = f32(checkDecay(fn, arg, checkScheduleValue(fn, arg, value(count), count)));
  return [d, f32(1 - d)];
}
