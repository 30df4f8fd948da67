/**
 * Polynomial and linear transitions (optax `polynomial_schedule`,
 * `linear_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { checkCount, checkFinite, checkOptions, optionalFinite, warnOnce } from './validate.js';

/** Options of {@link schedulePolynomial}. */
export interface SchedulePolynomialOptions {
  /** The value before and at the start of the transition. */
  initValue: number;
  /** The value at and after the end of the transition. */
  endValue: number;
  /** The power `p` of the polynomial `(1 - t/T)^p` that blends `initValue` into `endValue`. */
  power: number;
  /**
   * The number of steps `T` the transition takes. If `<= 0`, the schedule
   * is the constant `initValue` (with a one-time warning), as in optax.
   */
  transitionSteps: number;
  /**
   * How many steps to hold `initValue` before the transition starts
   * (default 0). A negative value falls back to 0 (with a one-time warning),
   * as in optax.
   */
  transitionBegin?: number;
}

/** Options of {@link scheduleLinear}. */
export interface ScheduleLinearOptions {
  /** The value before and at the start of the transition. */
  initValue: number;
  /** The value at and after the end of the transition. */
  endValue: number;
  /**
   * The number of steps `T` the transition takes. If `<= 0`, the schedule
   * is the constant `initValue` (with a one-time warning), as in optax.
   */
  transitionSteps: number;
  /**
   * How many steps to hold `initValue` before the transition starts
   * (default 0). A negative value falls back to 0 (with a one-time warning).
   */
  transitionBegin?: number;
}

/** The names a polynomial transition reports its warnings under. */
export interface PolynomialNames {
  fn: string;
  init: string;
  steps: string;
  begin: string;
  /** What is held constant when the steps are not positive, e.g. 'schedule'. */
  part: string;
}

/**
 * The polynomial transition on already-checked numbers, without a count
 * check: shared by the linear, polynomial and warmup schedules. `names`
 * null: no warnings (the transition is unreachable for the caller).
 */
export function polynomialRaw(
  initValue: number,
  endValue: number,
  power: number,
  transitionSteps: number,
  transitionBegin: number,
  names: PolynomialNames | null,
): Schedule {
  if (transitionSteps <= 0) {
    if (names) {
      warnOnce(
        `${names.fn}:${names.steps}`,
        `${names.fn}: \`${names.steps}\` = ${transitionSteps} is not positive, so the ${names.part} is constant at \`${names.init}\` (as in optax)`,
      );
    }
    return () => initValue;
  }
  let begin = transitionBegin;
  if (begin < 0) {
    if (names) {
      warnOnce(`${names.fn}:${names.begin}`, `${names.fn}: \`${names.begin}\` = ${begin} is negative; using 0 (as in optax)`);
    }
    begin = 0;
  }
  return (count) => {
    const t = Math.min(Math.max(count - begin, 0), transitionSteps);
    const frac = 1 - t / transitionSteps;
    return (initValue - endValue) * frac ** power + endValue;
  };
}

/**
 * Holds `initValue` for `transitionBegin` steps, then moves to `endValue`
 * along a polynomial over `transitionSteps` steps, then holds `endValue`:
 * with `t = clip(count - transitionBegin, 0, transitionSteps)`,
 * `value = (initValue - endValue) · (1 - t / transitionSteps)^power + endValue`.
 * Defaults: `transitionBegin = 0`. Reference: optax `polynomial_schedule`.
 *
 * $$
 * \eta_t = (\eta_0 - \eta_1) \left(1 - \frac{\tau}{T}\right)^{k} + \eta_1, \qquad \tau = \operatorname{clip}(t - t_{\mathrm{begin}}, 0, T), \; k = \mathrm{power}
 * $$
 */
export function schedulePolynomial(opts: SchedulePolynomialOptions): Schedule {
  const fn = 'schedulePolynomial';
  const o = checkOptions(fn, 'opts', opts, ['initValue', 'endValue', 'power', 'transitionSteps', 'transitionBegin']);
  const raw = polynomialRaw(
    checkFinite(fn, 'initValue', o.initValue),
    checkFinite(fn, 'endValue', o.endValue),
    checkFinite(fn, 'power', o.power),
    checkFinite(fn, 'transitionSteps', o.transitionSteps),
    optionalFinite(fn, 'transitionBegin', o.transitionBegin, 0),
    { fn, init: 'initValue', steps: 'transitionSteps', begin: 'transitionBegin', part: 'schedule' },
  );
  return (count) => raw(checkCount(fn, count));
}

/**
 * Holds `initValue` for `transitionBegin` steps, then moves linearly to
 * `endValue` over `transitionSteps` steps, then holds `endValue`:
 * with `t = clip(count - transitionBegin, 0, transitionSteps)`,
 * `value = (initValue - endValue) · (1 - t / transitionSteps) + endValue`
 * ({@link schedulePolynomial} with `power = 1`). Defaults:
 * `transitionBegin = 0`. Reference: optax `linear_schedule`.
 *
 * $$
 * \eta_t = (\eta_0 - \eta_1) \left(1 - \frac{\tau}{T}\right) + \eta_1, \qquad \tau = \operatorname{clip}(t - t_{\mathrm{begin}}, 0, T)
 * $$
 */
export function scheduleLinear(opts: ScheduleLinearOptions): Schedule {
  const fn = 'scheduleLinear';
  const o = checkOptions(fn, 'opts', opts, ['initValue', 'endValue', 'transitionSteps', 'transitionBegin']);
  const raw = polynomialRaw(
    checkFinite(fn, 'initValue', o.initValue),
    checkFinite(fn, 'endValue', o.endValue),
    1,
    checkFinite(fn, 'transitionSteps', o.transitionSteps),
    optionalFinite(fn, 'transitionBegin', o.transitionBegin, 0),
    { fn, init: 'initValue', steps: 'transitionSteps', begin: 'transitionBegin', part: 'schedule' },
  );
  return (count) => raw(checkCount(fn, count));
}
