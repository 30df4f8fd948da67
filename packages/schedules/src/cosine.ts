/**
 * Cosine decay (optax `cosine_decay_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { checkCount, checkFinite, checkOptions, fail, optionalFinite } from './validate.js';

/** Options of {@link scheduleCosineDecay}. */
export interface ScheduleCosineDecayOptions {
  /** The value at count 0. */
  initValue: number;
  /** The number of steps `T` of the decay; must be `> 0`. After it the value stays at `alpha · initValue`. */
  decaySteps: number;
  /** The final value as a fraction of `initValue` (default 0). */
  alpha?: number;
  /** The power `p` applied to the half-cosine factor (default 1). */
  exponent?: number;
}

/**
 * The cosine decay on already-checked numbers (`decaySteps > 0`), without a
 * count check: shared with the warmup and SGDR schedules.
 */
export function cosineDecayRaw(initValue: number, decaySteps: number, alpha: number, exponent: number): Schedule {
  return (count) => {
    const t = Math.min(count, decaySteps);
    const cosine = 0.5 * (1 + Math.cos((Math.PI * t) / decaySteps));
    return initValue * ((1 - alpha) * cosine ** exponent + alpha);
  };
}

/**
 * Decays `initValue` along a half cosine over `decaySteps` steps, then holds
 * the final value: with `t = min(count, decaySteps)`,
 * `value = initValue · ((1 - alpha) · (½(1 + cos(π t / decaySteps)))^exponent + alpha)`.
 * Defaults: `alpha = 0`, `exponent = 1`. Throws if `decaySteps <= 0`, as
 * optax does.
 * Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
 * Warm Restarts" (2017); optax `cosine_decay_schedule`.
 *
 * $$
 * \eta_t = \eta_0 \left( (1 - \alpha) \left( \tfrac{1}{2} \Big(1 + \cos \frac{\pi\, \min(t, T)}{T} \Big) \right)^{k} + \alpha \right), \qquad T = \mathrm{decaySteps}, \; k = \mathrm{exponent}
 * $$
 */
export function scheduleCosineDecay(opts: ScheduleCosineDecayOptions): Schedule {
  const fn = 'scheduleCosineDecay';
  const o = checkOptions(fn, 'opts', opts, ['initValue', 'decaySteps', 'alpha', 'exponent']);
  const initValue = checkFinite(fn, 'initValue', o.initValue);
  const decaySteps = checkFinite(fn, 'decaySteps', o.decaySteps);
  if (!(decaySteps > 0)) fail(fn, 'decaySteps', decaySteps, '> 0');
  const raw = cosineDecayRaw(initValue, decaySteps, optionalFinite(fn, 'alpha', o.alpha, 0), optionalFinite(fn, 'exponent', o.exponent, 1));
  return (count) => raw(checkCount(fn, count));
}
