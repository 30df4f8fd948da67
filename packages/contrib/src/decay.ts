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

/** optax's `betas = (beta1, beta2)`: a two-element array of decays in [0, 1). */
export function checkBetas(fn: string, value: unknown): readonly [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new Error(
      `${fn}: \`betas\` must be an array of two decays [beta1, beta2], got ${Array.isArray(value) ? `an array of length ${value.length}` : String(value)}`,
    );
  }
  return [checkDecay(fn, 'betas[0]', value[0]), checkDecay(fn, 'betas[1]', value[1])];
}
