/**
 * DoG and DoWG: `scaleByDog`, `dog`, `scaleByDowg`, `dowg` (optax
 * `contrib.scale_by_dog`, `contrib.dog`, `contrib.scale_by_dowg`, `contrib.dowg`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WeightDecayOptions } from './alias.js';
import {
  addDecayedWeights,
  chain,
  checkFinite,
  checkNonNegative,
  checkScalarOrSchedule,
  checkStateKeys,
  type GradientTransformation,
  identity,
  type Params,
  requireParams,
  resolveOptions,
  type ScalarOrSchedule,
  scaleByLearningRate,
  treeFlatten,
  treeMap,
  type Updates,
} from './core-api.js';
import { treeDistSq, treeSumSq } from './tree-math.js';

/** How DoG's first step is sized: `[kind, value]` (optax's `init_step`). */
export type DogInitStep = readonly ['distance' | 'learning_rate' | 'heuristic', number];

/** The state of {@link scaleByDog} (optax `DoGState`). */
export interface DoGState {
  /** Whether the next update is the first. */
  isInitStep: boolean;
  /** A copy of the params at `init`. */
  initParams: Params;
  /** The largest distance from `initParams` so far, `r` (float32 scalar tensor). */
  maxDist: tf.Scalar;
  /** The sum of the squared gradient norms so far (float32 scalar tensor). */
  sumSqNormGrads: tf.Scalar;
}

/** Options of {@link scaleByDog}. */
export interface ScaleByDogOptions {
  /**
   * The first step (default `['heuristic', 1e-6]`): `['distance', r0]` starts
   * with `r = r0`; `['heuristic', a]` with `r = a (1 + |x0|)`;
   * `['learning_rate', lr0]` takes the step `lr0 g` first.
   */
  initStep?: DogInitStep;
  /** Added to the sum of squared gradient norms (default 1e-8), ≥ 0. */
  eps?: number;
}

const DOG_DEFAULTS: Required<ScaleByDogOptions> = { initStep: ['heuristic', 1e-6], eps: 1e-8 };

/** Flattened leaves of a tree of tensors. */
const leavesOf = (tree: unknown): tf.Tensor[] => treeFlatten<tf.Tensor>(tree).leaves;

/** `lr · g` for every leaf. */
const scaled = (lr: tf.Tensor, updates: Updates): Updates => treeMap((g: tf.Tensor) => tf.mul(lr, g), updates);

/** A copy of the params. */
const copyOf = (params: Params): Params => treeMap((p: tf.Tensor) => tf.clone(p), params);

/**
 * Rescales updates by DoG ("distance over gradients"): the step size is the
 * largest distance travelled from the initial params over the root of the
 * summed squared gradient norms.
 * $$
 * \bar r \leftarrow \max(\bar r, \lVert p - p_0 \rVert), \qquad G \leftarrow G + \lVert g \rVert^2, \qquad u = \frac{\bar r}{\sqrt{G + \epsilon}}\, g
 * $$
 *
 * ```
 * r = max(r, |x - x0|)          G = G + |g|²          u = r / sqrt(G + eps) · g
 * ```
 * with `r` initialised as `initStep` says (`['learning_rate', lr0]`: the
 * first update is `lr0 g`).
 *
 * State {@link DoGState}. Defaults: `initStep = ['heuristic', 1e-6],
 * eps = 1e-8`. Needs `params`. Runs on the reference path (tree-wide norms
 * feed the scalar state). Reference: Ivgi, Hinder & Carmon, "DoG is SGD's
 * Best Friend: A Parameter-Free Dynamic Step Size Schedule" (ICML 2023);
 * optax `contrib.scale_by_dog`.
 */
export function scaleByDog(options?: ScaleByDogOptions): GradientTransformation<DoGState> {
  const fn = 'scaleByDog';
  const o = resolveOptions(fn, options, DOG_DEFAULTS);
  const [kind, value] = checkInitStep(fn, o.initStep);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  return {
    init(params) {
      const r0 = tf.tidy(() => {
        if (kind === 'distance') return tf.scalar(value);
        if (kind === 'learning_rate') return tf.scalar(0);
        return tf.mul(value, tf.add(1, tf.sqrt(treeSumSq(leavesOf(params)))));
      });
      return { isInitStep: true, initParams: copyOf(params), maxDist: r0 as tf.Scalar, sumSqNormGrads: tf.scalar(0) };
    },
    update(updates, state, params) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['isInitStep', 'initParams', 'maxDist', 'sumSqNormGrads']);
      return tf.tidy(() => {
        const dist = tf.sqrt(treeDistSq(leavesOf(state.initParams), leavesOf(params)));
        const maxDist = tf.maximum(state.maxDist, dist) as tf.Scalar;
        const sumSq = tf.add(state.sumSqNormGrads, treeSumSq(leavesOf(updates))) as tf.Scalar;
        const lr = kind === 'learning_rate' && state.isInitStep ? tf.scalar(value) : tf.div(maxDist, tf.sqrt(tf.add(sumSq, eps)));
        const next: DoGState = { isInitStep: false, initParams: copyOf(state.initParams), maxDist, sumSqNormGrads: sumSq };
        return [scaled(lr, updates), next] as never;
      }) as [Updates, DoGState];
    },
  };
}

function checkInitStep(fn: string, value: unknown): DogInitStep {
  const kinds = ['distance', 'learning_rate', 'heuristic'];
  if (!Array.isArray(value) || value.length !== 2 || !kinds.includes(value[0] as string)) {
    throw new Error(`${fn}: \`initStep\` must be ['distance' | 'learning_rate' | 'heuristic', number], got ${JSON.stringify(value)}`);
  }
  return [value[0], checkFinite(fn, 'initStep[1]', value[1])] as DogInitStep;
}

/** Options of {@link dog}: those of {@link scaleByDog}, and optional weight decay. */
export type DogOptions = ScaleByDogOptions & { weightDecay?: number | null; mask?: WeightDecayOptions['mask'] };

/** `chain(addDecayedWeights(weightDecay, { mask }) or nothing, scaleBy, scaleByLearningRate(lr))`. */
function withOptionalDecay(
  fn: string,
  learningRate: ScalarOrSchedule,
  weightDecay: number | null | undefined,
  mask: WeightDecayOptions['mask'],
  scaleBy: GradientTransformation,
): GradientTransformation {
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const decay =
    weightDecay === null || weightDecay === undefined
      ? identity()
      : addDecayedWeights(checkFinite(fn, 'weightDecay', weightDecay), { mask: mask ?? undefined });
  return chain(decay, scaleBy, scaleByLearningRate(learningRate));
}

/**
 * DoG as an optimizer: `chain(addDecayedWeights(weightDecay, { mask }) (when
 * weightDecay is given), scaleByDog({ initStep, eps }), scaleByLearningRate(learningRate))`.
 * Defaults as {@link scaleByDog}, `learningRate = 1`, no weight decay.
 * Reference path. Reference: Ivgi et al. (2023); optax `contrib.dog`.
 *
 * $$
 * \bar r \leftarrow \max(\bar r, \lVert p - p_0 \rVert), \qquad G \leftarrow G + \lVert g \rVert^2, \qquad u = -\eta\, \frac{\bar r}{\sqrt{G + \epsilon}}\, g
 * $$
 */
export function dog(learningRate: ScalarOrSchedule = 1, options?: DogOptions): GradientTransformation {
  const { weightDecay, mask, ...rest } = resolveOptions('dog', options, { ...DOG_DEFAULTS, weightDecay: null, mask: null } as DogOptions);
  return withOptionalDecay('dog', learningRate, weightDecay, mask, scaleByDog(rest));
}

/** The state of {@link scaleByDowg} (optax `DoWGState`). */
export interface DoWGState {
  /** A copy of the params at `init`. */
  initParams: Params;
  /** The weighted sum of squared gradient norms (float32 scalar tensor). */
  weightedSqNormGrads: tf.Scalar;
  /** The estimate of the squared distance to the solution (float32 scalar tensor). */
  estimSqDist: tf.Scalar;
}

/** Options of {@link scaleByDowg}. */
export interface ScaleByDowgOptions {
  /** The initial squared-distance estimate (default `eps`). */
  initEstimSqDist?: number | null;
  /** Added to the denominator, and the default initial estimate (default 1e-4), ≥ 0. */
  eps?: number;
}

const DOWG_DEFAULTS: ScaleByDowgOptions = { initEstimSqDist: null, eps: 1e-4 };

/**
 * Rescales updates by DoWG ("distance over weighted gradients"):
 * $$
 * \bar r^2 \leftarrow \max(\bar r^2, \lVert p - p_0 \rVert^2), \qquad v \leftarrow v + \bar r^2 \lVert g \rVert^2, \qquad u = \frac{\bar r^2}{\sqrt{v} + \epsilon}\, g
 * $$
 *
 * ```
 * r² = max(r², |x - x0|²)        v = v + r² |g|²        u = r² / (sqrt(v) + eps) · g
 * ```
 *
 * State {@link DoWGState}. Defaults: `initEstimSqDist = eps, eps = 1e-4`.
 * Needs `params`. Runs on the reference path. Reference: Khaled, Mishchenko
 * & Jin, "DoWG Unleashed: An Efficient Universal Parameter-Free
 * Gradient Descent Method" (NeurIPS 2023); optax `contrib.scale_by_dowg`.
 */
export function scaleByDowg(options?: ScaleByDowgOptions): GradientTransformation<DoWGState> {
  const fn = 'scaleByDowg';
  const o = resolveOptions(fn, options, DOWG_DEFAULTS);
  const eps = checkNonNegative(fn, 'eps', o.eps as number);
  const r0 =
    o.initEstimSqDist === null || o.initEstimSqDist === undefined ? eps : checkNonNegative(fn, 'initEstimSqDist', o.initEstimSqDist);
  return {
    init: (params) => ({ initParams: copyOf(params), weightedSqNormGrads: tf.scalar(0), estimSqDist: tf.scalar(r0) }),
    update(updates, state, params) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['initParams', 'weightedSqNormGrads', 'estimSqDist']);
      return tf.tidy(() => {
        const est = tf.maximum(state.estimSqDist, treeDistSq(leavesOf(state.initParams), leavesOf(params))) as tf.Scalar;
        const weighted = tf.add(tf.mul(est, treeSumSq(leavesOf(updates))), state.weightedSqNormGrads) as tf.Scalar;
        const lr = tf.div(est, tf.add(tf.sqrt(weighted), eps));
        const next: DoWGState = { initParams: copyOf(state.initParams), weightedSqNormGrads: weighted, estimSqDist: est };
        return [scaled(lr, updates), next] as never;
      }) as [Updates, DoWGState];
    },
  };
}

/** Options of {@link dowg}: those of {@link scaleByDowg}, and optional weight decay. */
export type DowgOptions = ScaleByDowgOptions & { weightDecay?: number | null; mask?: WeightDecayOptions['mask'] };

/**
 * DoWG as an optimizer: `chain(addDecayedWeights(weightDecay, { mask }) (when
 * weightDecay is given), scaleByDowg({ initEstimSqDist, eps }), scaleByLearningRate(learningRate))`.
 * Defaults as {@link scaleByDowg}, `learningRate = 1`, no weight decay.
 * Reference path. Reference: Khaled et al. (2023); optax `contrib.dowg`.
 *
 * $$
 * \bar r^2 \leftarrow \max(\bar r^2, \lVert p - p_0 \rVert^2), \qquad v \leftarrow v + \bar r^2 \lVert g \rVert^2, \qquad u = -\eta\, \frac{\bar r^2}{\sqrt{v} + \epsilon}\, g
 * $$
 */
export function dowg(learningRate: ScalarOrSchedule = 1, options?: DowgOptions): GradientTransformation {
  const { weightDecay, mask, ...rest } = resolveOptions('dowg', options, {
    ...DOWG_DEFAULTS,
    weightDecay: null,
    mask: null,
  } as DowgOptions);
  return withOptionalDecay('dowg', learningRate, weightDecay, mask, scaleByDowg(rest));
}
