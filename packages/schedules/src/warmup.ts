/**
 * Linear warmup followed by a decay (optax `warmup_cosine_decay_schedule`,
 * `warmup_exponential_decay_schedule`, `warmup_constant_schedule`).
 *
 * @module
 */
import type { Schedule } from './base.js';
import { cosineDecayRaw } from './cosine.js';
import { exponentialDecayRaw } from './exponential.js';
import { joinRaw } from './join.js';
import { polynomialRaw } from './linear.js';
import { checkCount, checkFinite, checkOptions, fail, optionalBoolean, optionalFinite } from './validate.js';

/** Options of {@link scheduleWarmupCosine}. */
export interface ScheduleWarmupCosineOptions {
  /** The value at count 0, where the warmup starts. */
  initValue: number;
  /** The value reached at the end of the warmup, where the cosine decay starts. */
  peakValue: number;
  /** The length of the linear warmup. */
  warmupSteps: number;
  /**
   * The length of the whole schedule, warmup included (so the cosine part
   * lasts `decaySteps - warmupSteps` steps); must be greater than `warmupSteps`.
   */
  decaySteps: number;
  /** The value at the end of the decay and after it (default 0). */
  endValue?: number;
  /** The power applied to the half-cosine factor (default 1). */
  exponent?: number;
}

/** Options of {@link scheduleWarmupExponential}. */
export interface ScheduleWarmupExponentialOptions {
  /** The value at count 0, where the warmup starts. */
  initValue: number;
  /** The value reached at the end of the warmup, where the exponential decay starts. */
  peakValue: number;
  /** The length of the linear warmup. */
  warmupSteps: number;
  /**
   * The number of steps over which the value is multiplied by `decayRate`
   * once. If `<= 0`, the value after the warmup is the constant `peakValue`
   * (with a one-time warning), as in optax.
   */
  transitionSteps: number;
  /** The factor per `transitionSteps` steps. If 0, the value after the warmup is the constant `peakValue` (with a warning). */
  decayRate: number;
  /**
   * How many steps after the warmup to hold `peakValue` before decaying
   * (default 0). A negative value falls back to 0 (with a one-time warning).
   */
  transitionBegin?: number;
  /** Decay in whole jumps every `transitionSteps` steps (default false). */
  staircase?: boolean;
  /**
   * A bound for the decay part (default none): a lower bound when
   * `decayRate < 1`, an upper bound otherwise.
   */
  endValue?: number;
}

/** Options of {@link scheduleWarmupConstant}. */
export interface ScheduleWarmupConstantOptions {
  /** The value at count 0, where the warmup starts. */
  initValue: number;
  /** The value reached at the end of the warmup and held after it. */
  peakValue: number;
  /**
   * The length of the linear warmup. If `<= 0`, the schedule is the
   * constant `initValue` (not `peakValue`; with a one-time warning), as in optax.
   */
  warmupSteps: number;
}

const WARMUP_COSINE_KEYS = ['initValue', 'peakValue', 'warmupSteps', 'decaySteps', 'endValue', 'exponent'] as const;

/**
 * Builds a warmup-cosine schedule without a count check, naming arguments
 * `${prefix}initValue` etc. in errors: shared with {@link scheduleSgdr}'s
 * cycles (whose prefix is `cosineKwargs[i].`).
 */
export function warmupCosineRaw(fn: string, opts: unknown, prefix: string, arg: string): Schedule {
  const o = checkOptions(fn, arg, opts, WARMUP_COSINE_KEYS);
  const initValue = checkFinite(fn, `${prefix}initValue`, o.initValue);
  const peakValue = checkFinite(fn, `${prefix}peakValue`, o.peakValue);
  const warmupSteps = checkFinite(fn, `${prefix}warmupSteps`, o.warmupSteps);
  const decaySteps = checkFinite(fn, `${prefix}decaySteps`, o.decaySteps);
  const endValue = optionalFinite(fn, `${prefix}endValue`, o.endValue, 0);
  const exponent = optionalFinite(fn, `${prefix}exponent`, o.exponent, 1);
  // optax's cosine part has decaySteps - warmupSteps steps and raises unless that is positive.
  if (!(decaySteps - warmupSteps > 0)) {
    fail(
      fn,
      `${prefix}decaySteps`,
      decaySteps,
      `greater than \`${prefix}warmupSteps\` (${warmupSteps}); the cosine part lasts decaySteps - warmupSteps steps`,
    );
  }
  const alpha = peakValue === 0 ? 0 : endValue / peakValue;
  // The warmup part is only ever evaluated when warmupSteps > 0, so it needs no warning.
  const warmup = polynomialRaw(initValue, peakValue, 1, warmupSteps, 0, null);
  const decay = cosineDecayRaw(peakValue, decaySteps - warmupSteps, alpha, exponent);
  return joinRaw([warmup, decay], [warmupSteps]);
}

/**
 * Warms up linearly from `initValue` to `peakValue` over `warmupSteps`
 * steps, then decays along a half cosine to `endValue` at `decaySteps`
 * (which counts the warmup) and holds it: after the warmup it is
 * {@link scheduleCosineDecay} with `initValue = peakValue`,
 * `decaySteps = decaySteps - warmupSteps` and `alpha = endValue / peakValue`
 * (0 when `peakValue` is 0). Defaults: `endValue = 0`, `exponent = 1`.
 * Throws unless `decaySteps > warmupSteps`, as optax does.
 * Reference: Loshchilov & Hutter, "SGDR" (2017); optax
 * `warmup_cosine_decay_schedule`.
 *
 * $$
 * \eta_t = \begin{cases} \eta_0 + (\eta_{\mathrm{peak}} - \eta_0)\, \dfrac{t}{W} & t < W \\ \eta_{\mathrm{end}} + (\eta_{\mathrm{peak}} - \eta_{\mathrm{end}})\, \Big(\tfrac{1}{2} \big(1 + \cos \frac{\pi \min(t - W,\, T - W)}{T - W}\big)\Big)^{k} & \text{otherwise} \end{cases}
 * $$
 */
export function scheduleWarmupCosine(opts: ScheduleWarmupCosineOptions): Schedule {
  const fn = 'scheduleWarmupCosine';
  const raw = warmupCosineRaw(fn, opts, '', 'opts');
  return (count) => raw(checkCount(fn, count));
}

/**
 * Warms up linearly from `initValue` to `peakValue` over `warmupSteps`
 * steps, then decays exponentially: after the warmup it is
 * {@link scheduleExponentialDecay} with `initValue = peakValue`, counting
 * from 0 at the end of the warmup. Defaults: `transitionBegin = 0`,
 * `staircase = false`, no `endValue`.
 * Reference: optax `warmup_exponential_decay_schedule`.
 *
 * $$
 * \eta_t = \begin{cases} \eta_0 + (\eta_{\mathrm{peak}} - \eta_0)\, \dfrac{t}{W} & t < W \\ \eta_{\mathrm{peak}}\, r^{(t - W - t_{\mathrm{begin}}) / T} & t - W > t_{\mathrm{begin}} \\ \eta_{\mathrm{peak}} & \text{otherwise} \end{cases}
 * $$
 */
export function scheduleWarmupExponential(opts: ScheduleWarmupExponentialOptions): Schedule {
  const fn = 'scheduleWarmupExponential';
  const o = checkOptions(fn, 'opts', opts, [
    'initValue',
    'peakValue',
    'warmupSteps',
    'transitionSteps',
    'decayRate',
    'transitionBegin',
    'staircase',
    'endValue',
  ]);
  const initValue = checkFinite(fn, 'initValue', o.initValue);
  const peakValue = checkFinite(fn, 'peakValue', o.peakValue);
  const warmupSteps = checkFinite(fn, 'warmupSteps', o.warmupSteps);
  const warmup = polynomialRaw(initValue, peakValue, 1, warmupSteps, 0, null);
  const decay = exponentialDecayRaw(
    peakValue,
    checkFinite(fn, 'transitionSteps', o.transitionSteps),
    checkFinite(fn, 'decayRate', o.decayRate),
    optionalFinite(fn, 'transitionBegin', o.transitionBegin, 0),
    optionalBoolean(fn, 'staircase', o.staircase, false),
    o.endValue === undefined ? undefined : checkFinite(fn, 'endValue', o.endValue),
    { fn, init: 'peakValue', part: 'value after the warmup' },
  );
  const raw = joinRaw([warmup, decay], [warmupSteps]);
  return (count) => raw(checkCount(fn, count));
}

/**
 * Warms up linearly from `initValue` to `peakValue` over `warmupSteps`
 * steps, then holds `peakValue`: {@link scheduleLinear} with
 * `endValue = peakValue` and `transitionSteps = warmupSteps`. As in optax,
 * `warmupSteps <= 0` gives the constant `initValue` (with a one-time
 * warning). Reference: optax `warmup_constant_schedule`.
 *
 * $$
 * \eta_t = \eta_0 + (\eta_{\mathrm{peak}} - \eta_0)\, \frac{\min(t, W)}{W}, \qquad W = \mathrm{warmupSteps}
 * $$
 */
export function scheduleWarmupConstant(opts: ScheduleWarmupConstantOptions): Schedule {
  const fn = 'scheduleWarmupConstant';
  const o = checkOptions(fn, 'opts', opts, ['initValue', 'peakValue', 'warmupSteps']);
  const raw = polynomialRaw(
    checkFinite(fn, 'initValue', o.initValue),
    checkFinite(fn, 'peakValue', o.peakValue),
    1,
    checkFinite(fn, 'warmupSteps', o.warmupSteps),
    0,
    { fn, init: 'initValue', steps: 'warmupSteps', begin: 'transitionBegin', part: 'schedule' },
  );
  return (count) => raw(checkCount(fn, count));
}
