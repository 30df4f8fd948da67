/**
 * Schedule-free optimization: `scheduleFree`, `scheduleFreeSgd`,
 * `scheduleFreeAdamw` and `scheduleFreeEvalParams` (optax
 * `contrib.schedule_free`, `contrib.schedule_free_sgd`,
 * `contrib.schedule_free_adamw`, `contrib.schedule_free_eval_params`).
 *
 * @module
 */
import { scheduleWarmupConstant } from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkDecay,
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkScalarOrSchedule,
  checkScheduleValue,
  checkStateKeys,
  checkTransformation,
  f32,
  type GradientTransformation,
  type Params,
  requireParams,
  resolveOptions,
  type ScalarOrSchedule,
  safeIncrement,
  treeMap,
  type Updates,
} from './core-api.js';
import { type ScheduleFreeSpecState, scheduleFreeSpec } from './schedule-free-spec.js';

/** The state of {@link scheduleFree} (optax `ScheduleFreeState`). */
export interface ScheduleFreeState {
  /** The interpolation `b1` (float32). */
  b1: number;
  /** The sum of the weights `maxLr^weightLrPower` so far (float32). */
  weightSum: number;
  /** The step count, 1 at the first update (optax's `step_count`). */
  stepCount: number;
  /** The largest learning rate so far (float32). */
  maxLr: number;
  /** The base optimizer's state. */
  baseOptimizerState: unknown;
  /** The base optimizer's iterate `z` (a copy of the params at `init`). */
  z: Params;
}

/** Options of {@link scheduleFree}. */
export interface ScheduleFreeOptions {
  /** Interpolation between the averaged iterate `x` and `z` (default 0.9), in [0, 1). */
  b1?: number;
  /** The averaging weight of a step is `maxLr^weightLrPower` (default 2), a finite number. */
  weightLrPower?: number;
}

const DEFAULTS: Required<ScheduleFreeOptions> = { b1: 0.9, weightLrPower: 2 };

/** `c_t = w_t / (w_1 + … + w_t)`, with optax's handling of NaN and of 0 / 0 (which gives 0). */
function averagingWeight(weight: number, total: number): number {
  if (Number.isNaN(weight) || Number.isNaN(total)) return Number.NaN;
  const c = f32(weight / total);
  return Number.isNaN(c) ? 0 : c;
}

/** The options of {@link scheduleFree}, resolved and checked. */
function checkScheduleFreeOptions(fn: string, options: ScheduleFreeOptions | undefined): Required<ScheduleFreeOptions> {
  const o = resolveOptions(fn, options, DEFAULTS);
  const b1 = checkDecay(fn, 'b1', o.b1);
  if (b1 === 0) throw new Error(`${fn}: \`b1\` must be > 0 (the params are divided by it), got 0`);
  return { b1, weightLrPower: checkFinite(fn, 'weightLrPower', o.weightLrPower) };
}

/**
 * Schedule-free wrapper around a base optimizer: the base optimizer steps a
 * sequence `z`, the params `y` are an interpolation between `z` and the
 * running weighted average `x` of the `z`s, so no learning-rate decay
 * schedule is needed. Evaluate the model at `x`, with
 * {@link scheduleFreeEvalParams}.
 *
 * $$
 * z' = z + \mathrm{base}(g), \qquad x' = (1 - c_t)\, x + c_t z', \qquad y' = b_1 x' + (1 - b_1)\, z', \qquad u = y' - y, \quad c_t = \frac{w_t}{\sum_{i \le t} w_i}
 * $$
 *
 * With `t = stepCount` (1 at the first update), `lr_t = learningRate(t)`:
 * ```
 * maxLr = max(maxLr, lr_t)      w = maxLr^weightLrPower      weightSum += w      c = w / weightSum
 * z'    = z + baseOptimizer(g)
 * x     = (y - (1 - b1) z) / b1                    (the previous average, recomputed from y)
 * x'    = (1 - c) x + c z'       y' = b1 x' + (1 - b1) z'       u = y' - y
 * ```
 * `learningRate` is only used for the weights; the base optimizer applies
 * its own. Extra arguments are forwarded to the base optimizer.
 *
 * State {@link ScheduleFreeState}. Defaults: `b1 = 0.9, weightLrPower = 2`.
 * Needs `params`. Runs on the reference path (it does not fuse; the base
 * optimizer runs inside it; {@link scheduleFreeSgd} and
 * {@link scheduleFreeAdamw} fuse). Reference: Defazio et al., "The Road Less
 * Scheduled" (2024); optax `contrib.schedule_free` (`state_dtype` is not
 * offered: state is float32).
 */
export function scheduleFree(
  baseOptimizer: GradientTransformation,
  learningRate: ScalarOrSchedule,
  options?: ScheduleFreeOptions,
): GradientTransformation<ScheduleFreeState> {
  const fn = 'scheduleFree';
  checkTransformation(fn, '`baseOptimizer`', baseOptimizer);
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const { b1, weightLrPower: power } = checkScheduleFreeOptions(fn, options);
  const [b1f, omb1] = [f32(b1), f32(1 - b1)];
  return {
    init: (params) => ({
      b1: b1f,
      weightSum: 0,
      stepCount: 1,
      maxLr: 0,
      baseOptimizerState: baseOptimizer.init(params),
      z: treeMap((p: tf.Tensor) => tf.clone(p), params),
    }),
    update(grads, state, params, extraArgs) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['b1', 'weightSum', 'stepCount', 'maxLr', 'baseOptimizerState', 'z']);
      const t = state.stepCount;
      const lr = f32(typeof learningRate === 'function' ? checkScheduleValue(fn, 'learningRate', learningRate(t), t) : learningRate);
      const maxLr = Math.max(state.maxLr, lr);
      const weight = f32(maxLr ** power);
      const weightSum = f32(state.weightSum + weight);
      const c = averagingWeight(weight, weightSum);
      const [baseUpdates, baseState] = baseOptimizer.update(grads, state.baseOptimizerState, params, extraArgs);
      const [updates, z] = tf.tidy(() => {
        const k = { b1: tf.scalar(b1f), omb1: tf.scalar(omb1), c: tf.scalar(c), omc: tf.scalar(f32(1 - c)) };
        const z1 = treeMap((zi: tf.Tensor, ui: tf.Tensor) => tf.add(zi, ui), state.z, [baseUpdates]) as Params;
        const u = treeMap(
          (yi: tf.Tensor, zi: tf.Tensor, zn: tf.Tensor) => {
            const x = tf.div(tf.sub(yi, tf.mul(k.omb1, zi)), k.b1);
            const xn = tf.add(tf.mul(k.omc, x), tf.mul(k.c, zn));
            return tf.sub(tf.add(tf.mul(k.b1, xn), tf.mul(k.omb1, zn)), yi);
          },
          params,
          [state.z, z1],
        ) as Updates;
        return [u, z1] as never;
      }) as [Updates, Params];
      tf.dispose(baseUpdates as tf.TensorContainer);
      return [updates, { b1: state.b1, weightSum, stepCount: safeIncrement(t), maxLr, baseOptimizerState: baseState, z }];
    },
  };
}

/**
 * The params to evaluate a schedule-free model at: the average
 * `x = (y - (1 - b1) z) / b1`, from the params `y` and a
 * {@link ScheduleFreeState} or a {@link ScheduleFreeSpecState} (of
 * `scheduleFreeSgd` or `scheduleFreeAdamw`), found at the top of `state`, or
 * anywhere inside a chain's state.
 * Reference: optax `contrib.schedule_free_eval_params`.
 *
 * $$
 * x = \frac{y - (1 - b_1)\, z}{b_1}
 * $$
 */
export function scheduleFreeEvalParams(state: unknown, params: Params): Params {
  const fn = 'scheduleFreeEvalParams';
  const sf = findScheduleFreeState(state);
  if (sf === undefined)
    throw new Error(`${fn}: needs the state of a scheduleFree optimizer (with \`b1\` and \`z\`), got ${describe(state)}`);
  return tf.tidy(() => {
    // a tensor b1 (the aliases' state) is a float32 scalar: 1 - b1 in float32 is f32(1 - b1)
    const b1 = typeof sf.b1 === 'number' ? tf.scalar(sf.b1) : sf.b1;
    const omb1 = typeof sf.b1 === 'number' ? tf.scalar(f32(1 - sf.b1)) : tf.sub(1, sf.b1);
    return treeMap((yi: tf.Tensor, zi: tf.Tensor) => tf.div(tf.sub(yi, tf.mul(omb1, zi)), b1), params, [sf.z]) as never;
  }) as Params;
}

/** What {@link scheduleFreeEvalParams} reads: `b1` (a number, or a scalar tensor in the aliases' state) and `z`. */
type EvalState = { readonly b1: number | tf.Scalar; readonly z: Params };

function isScheduleFreeState(x: unknown): x is EvalState {
  if (x === null || typeof x !== 'object' || !('z' in x)) return false;
  const { b1 } = x as EvalState;
  return typeof b1 === 'number' || (b1 instanceof tf.Tensor && b1.rank === 0);
}

function findScheduleFreeState(state: unknown): EvalState | undefined {
  if (isScheduleFreeState(state)) return state;
  if (Array.isArray(state)) return state.map(findScheduleFreeState).find((s) => s !== undefined);
  return undefined;
}

function describe(x: unknown): string {
  if (x === null || typeof x !== 'object') return String(x);
  return Array.isArray(x) ? `an array of length ${x.length}` : `an object with keys {${Object.keys(x).join(', ')}}`;
}

/** Options shared by {@link scheduleFreeSgd} and {@link scheduleFreeAdamw}. */
export interface ScheduleFreeAliasOptions extends ScheduleFreeOptions {
  /** Warm the learning rate up linearly from 0 over this many steps (default none). */
  warmupSteps?: number | null;
}

/** `learningRate`, or optax's `warmup_constant_schedule(0, learningRate, warmupSteps)`. */
function warmedUp(fn: string, learningRate: number, warmupSteps: number | null | undefined): ScalarOrSchedule {
  checkNonNegative(fn, 'learningRate', learningRate);
  if (warmupSteps === null || warmupSteps === undefined) return learningRate;
  return scheduleWarmupConstant({ initValue: 0, peakValue: learningRate, warmupSteps: checkInteger(fn, 'warmupSteps', warmupSteps) });
}

/** Options of {@link scheduleFreeSgd}. */
export interface ScheduleFreeSgdOptions extends ScheduleFreeAliasOptions {
  /** Weight decay added to the gradient before SGD (default none). */
  weightDecay?: number | null;
}

const SGD_DEFAULTS: ScheduleFreeSgdOptions = { ...DEFAULTS, warmupSteps: null, weightDecay: null };

/**
 * Schedule-free SGD: `scheduleFree(sgd(lr), lr, { b1, weightLrPower })`, with
 * `chain(addDecayedWeights(weightDecay), sgd(lr))` as the base when
 * `weightDecay` is given, and `lr` warmed up over `warmupSteps` when given.
 * Defaults: `learningRate = 1, b1 = 0.9, weightLrPower = 2`, no warmup, no
 * weight decay. State {@link ScheduleFreeSpecState} (the base's state
 * flattened in; `scheduleFreeEvalParams` reads it). An element-wise spec
 * with scalar state: on cpu and wasm the whole step fuses into one kernel;
 * on WebGPU it runs on the reference path. Reference: Defazio et al. (2024);
 * optax `contrib.schedule_free_sgd`.
 *
 * $$
 * z' = z - \eta_t\, (g + \lambda y), \qquad x' = (1 - c_t)\, x + c_t z', \qquad y' = b_1 x' + (1 - b_1)\, z'
 * $$
 */
export function scheduleFreeSgd(learningRate = 1, options?: ScheduleFreeSgdOptions): GradientTransformation<ScheduleFreeSpecState> {
  const fn = 'scheduleFreeSgd';
  const { warmupSteps, weightDecay, ...sf } = resolveOptions(fn, options, SGD_DEFAULTS);
  const lr = warmedUp(fn, learningRate, warmupSteps);
  const wd = weightDecay === null || weightDecay === undefined ? null : checkFinite(fn, 'weightDecay', weightDecay);
  return scheduleFreeSpec({ fn, learningRate: lr, ...checkScheduleFreeOptions(fn, sf), weightDecay: wd, base: { kind: 'sgd' } });
}

/** Options of {@link scheduleFreeAdamw}. */
export interface ScheduleFreeAdamwOptions extends ScheduleFreeAliasOptions {
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the square root of the second moment (default 1e-8), ≥ 0. */
  eps?: number;
  /** Decoupled weight decay, multiplied by the learning rate (default 0). */
  weightDecay?: number;
}

const ADAMW_DEFAULTS: ScheduleFreeAdamwOptions = { ...DEFAULTS, warmupSteps: null, b2: 0.999, eps: 1e-8, weightDecay: 0 };

/**
 * Schedule-free AdamW: {@link scheduleFree} around AdamW without momentum,
 * `chain(scaleByRms({ decay: b2, eps, epsInSqrt: false, biasCorrection: true }),
 * addDecayedWeights(weightDecay), scaleByLearningRate(lr))`, with `lr`
 * warmed up over `warmupSteps` when given. Defaults: `learningRate = 0.0025,
 * b1 = 0.9, b2 = 0.999, eps = 1e-8, weightDecay = 0, weightLrPower = 2`, no
 * warmup. State {@link ScheduleFreeSpecState} (`nu` is the base's second
 * moment). An element-wise spec with scalar state: on cpu and wasm the
 * whole step fuses into one kernel; on WebGPU it runs on the reference
 * path. Reference: Defazio et al. (2024); optax `contrib.schedule_free_adamw`.
 *
 * $$
 * z' = z - \eta_t \left( \frac{g}{\sqrt{\hat\nu} + \epsilon} + \lambda y \right), \qquad x' = (1 - c_t)\, x + c_t z', \qquad y' = b_1 x' + (1 - b_1)\, z'
 * $$
 */
export function scheduleFreeAdamw(
  learningRate = 0.0025,
  options?: ScheduleFreeAdamwOptions,
): GradientTransformation<ScheduleFreeSpecState> {
  const fn = 'scheduleFreeAdamw';
  const { warmupSteps, b2, eps, weightDecay, ...sf } = resolveOptions(fn, options, ADAMW_DEFAULTS);
  const lr = warmedUp(fn, learningRate, warmupSteps);
  const base = { kind: 'adamw', b2: checkDecay(fn, 'b2', b2 as number), eps: checkNonNegative(fn, 'eps', eps as number) } as const;
  const wd = checkFinite(fn, 'weightDecay', weightDecay as number);
  return scheduleFreeSpec({ fn, learningRate: lr, ...checkScheduleFreeOptions(fn, sf), weightDecay: wd, base });
}
