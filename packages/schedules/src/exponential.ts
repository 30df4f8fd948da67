/**
 * Exponential decay (optax `exponential_decay`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { checkCount, checkFinite, checkOptions, optionalBoolean, optionalFinite, warnOnce } from './validate.js';

/** Options of {@link scheduleExponentialDecay}. */
export interface ScheduleExponentialDecayOptions {
  /** The value up to and at `transitionBegin`. */
  initValue: number;
  /**
   * The number of steps over which the value is multiplied by `decayRate`
   * once. If `<= 0`, the schedule is the constant `initValue` (with a
   * one-time warning), as in optax.
   */
  transitionSteps: number;
  /**
   * The factor per `transitionSteps` steps. If 0, the schedule is the
   * constant `initValue` (with a one-time warning), as in optax.
   */
  decayRate: number;
  /**
   * How many steps to hold `initValue` before decaying (default 0). A
   * negative value falls back to 0 (with a one-time warning), as in optax.
   */
  transitionBegin?: number;
  /** Decay in whole jumps every `transitionSteps` steps rather than continuously (default false). */
  staircase?: boolean;
  /**
   * A bound the value does not cross (default none): a lower bound when
   * `decayRate < 1`, an upper bound otherwise. It applies from count 0, so
   * it also clips `initValue`, as in optax.
   */
  endValue?: number;
}

/** The names an exponential decay reports its warnings under. */
export interface ExponentialNames {
  fn: string;
  init: string;
  part: string;
}

/**
 * The exponential decay on already-checked numbers, without a count check:
 * shared with {@link scheduleExponentialDecay} and the warmup schedule.
 */
export function exponentialDecayRaw(
  initValue: number,
  transitionSteps: number,
  decayRate: number,
  transitionBegin: number,
  staircase: boolean,
  endValue: number | undefined,
  names: ExponentialNames,
): Schedule {
  const { fn, init, part } = names;
  if (transitionSteps <= 0) {
    warnOnce(
      `${fn}:transitionSteps`,
      `${fn}: \`transitionSteps\` = ${transitionSteps} is not positive, so the ${part} is constant at \`${init}\` (as in optax)`,
    );
    return () => initValue;
  }
  if (decayRate === 0) {
    warnOnce(`${fn}:decayRate`, `${fn}: \`decayRate\` is 0, so the ${part} is constant at \`${init}\` (as in optax)`);
    return () => initValue;
  }
  let begin = transitionBegin;
  if (begin < 0) {
    warnOnce(`${fn}:transitionBegin`, `${fn}: \`transitionBegin\` = ${begin} is negative; using 0 (as in optax)`);
    begin = 0;
  }
  const lower = decayRate < 1;
  return (count) => {
    const since = count - begin;
    let p = since / transitionSteps;
    if (staircase) p = Math.floor(p);
    const value = since <= 0 ? initValue : initValue * decayRate ** p;
    if (endValue === undefined) return value;
    return lower ? Math.max(value, endValue) : Math.min(value, endValue);
  };
}

/**
 * Multiplies `initValue` by `decayRate` once per `transitionSteps` steps
 * after `transitionBegin`: with `s = count - transitionBegin`,
 * `value = s <= 0 ? initValue : initValue · decayRate^(s / transitionSteps)`
 * (the exponent floored when `staircase`), then bounded by `endValue`
 * (`max` when `decayRate < 1`, else `min`). Defaults:
 * `transitionBegin = 0`, `staircase = false`, no `endValue`.
 * `transitionSteps <= 0` or `decayRate = 0` give the constant `initValue`
 * (with a one-time warning), as in optax. Reference: optax `exponential_decay`.
 *
 * $$
 * \eta_t = \begin{cases} \eta_0 & s \le 0 \\ \eta_0\, r^{s / T} \;\; (\text{staircase: } r^{\lfloor s / T \rfloor}) & \text{otherwise} \end{cases}, \qquad s = t - t_{\mathrm{begin}}, \; r = \mathrm{decayRate}, \; T = \mathrm{transitionSteps}
 * $$
 */
export function scheduleExponentialDecay(opts: ScheduleExponentialDecayOptions): Schedule {
  const fn = 'scheduleExponentialDecay';
  const o = checkOptions(fn, 'opts', opts, ['initValue', 'transitionSteps', 'decayRate', 'transitionBegin', 'staircase', 'endValue']);
  const raw = exponentialDecayRaw(
    checkFinite(fn, 'initValue', o.initValue),
    checkFinite(fn, 'transitionSteps', o.transitionSteps),
    checkFinite(fn, 'decayRate', o.decayRate),
    optionalFinite(fn, 'transitionBegin', o.transitionBegin, 0),
    optionalBoolean(fn, 'staircase', o.staircase, false),
    o.endValue === undefined ? undefined : checkFinite(fn, 'endValue', o.endValue),
    { fn, init: 'initValue', part: 'schedule' },
  );
  return (count) => raw(checkCount(fn, count));
}
