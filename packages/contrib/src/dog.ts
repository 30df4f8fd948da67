/**
 * DoG and DoWG: `scaleByDog`, `dog`, `scaleByDowg`, `dowg` (optax
 * `contrib.scale_by_dog`, `contrib.dog`, `contrib.scale_by_dowg`, `contrib.dowg`).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WeightDecayOptions } from './alias.js';
import {
  addDecayedWeights,
  chain,
  checkFinite,
  checkNonNegative,
  checkScalarOrSchedule,
  type ExpressionReduction,
  elementwise,
  type GradientTransformation,
  identity,
  type Params,
  resolveOptions,
  type ScalarOrSchedule,
  scaleByLearningRate,
} from './core-api.js';

/** How DoG's first step is sized: `[kind, value]` (optax's `init_step`). */
export type DogInitStep = readonly ['distance' | 'learning_rate' | 'heuristic', number];

/** The state of {@link scaleByDog} (optax `DoGState`). */
export interface DoGState {
  /** The number of updates so far (optax's `is_init_step` is `count === 0`). */
  count: number;
  /** A copy of the params at `init`. */
  initParams: Params;
  /**
   * The largest distance from `initParams` so far, `r` (float32 scalar
   * tensor). With `initStep: ['heuristic', a]` it is 0 until the first
   * update, which starts from `a (1 + |initParams|)`.
   */
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

/** `|x - x0|²` over the whole tree (optax's norms are tree-wide, not per layer). */
const DIST_SQ: ExpressionReduction = { name: 'distSq', op: 'sumSq', value: (m, x) => m.sub(x.initParams, x.p) };

/** `|g|²` over the whole tree. */
const GRAD_SQ: ExpressionReduction = { name: 'gradSq', op: 'sumSq', value: (_m, x) => x.u };

/** `|x0|²` over the whole tree (DoG's heuristic first step). */
const INIT_SQ: ExpressionReduction = { name: 'initSq', op: 'sumSq', value: (_m, x) => x.initParams };

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
 * eps = 1e-8`. Needs `params`. The norms are tree-wide, as optax's (the
 * paper's layer-wise L-DoG is not offered, by optax either). An element-wise
 * spec with scalar state: on cpu and wasm it fuses (one kernel for the
 * tree-wide sums, one for the step); on WebGPU it runs on the reference
 * path. Reference: Ivgi, Hinder & Carmon, "DoG is SGD's
 * Best Friend: A Parameter-Free Dynamic Step Size Schedule" (ICML 2023);
 * optax `contrib.scale_by_dog`.
 */
export function scaleByDog(options?: ScaleByDogOptions): GradientTransformation<DoGState> {
  const fn = 'scaleByDog';
  const o = resolveOptions(fn, options, DOG_DEFAULTS);
  const [kind, value] = checkInitStep(fn, o.initStep);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const heuristic = kind === 'heuristic';
  return elementwise({
    name: fn,
    key: `${fn}:${kind}`,
    slots: [{ name: 'initParams', init: 'params' }],
    counted: true,
    needsParams: true,
    scalarState: [
      { name: 'maxDist', init: kind === 'distance' ? value : 0, next: 'maxDistNext' },
      { name: 'sumSqNormGrads', init: 0, next: 'sumSq' },
    ],
    // the heuristic's r0 = value (1 + |x0|) is taken at the first update, from the copy of the initial params
    expressionReductions: [DIST_SQ, GRAD_SQ, ...(heuristic ? [INIT_SQ] : [])],
    scalars: (count) => ({ first: count === 0 ? 1 : 0, value, eps }),
    updateScalars(m, k) {
      const first = m.gt(k.first, m.c(0));
      const prev = heuristic ? m.select(first, m.mul(k.value, m.add(m.c(1), m.sqrt(k.initSq))), k.maxDist) : k.maxDist;
      const maxDistNext = m.max(prev, m.sqrt(k.distSq));
      const sumSq = m.add(k.sumSqNormGrads, k.gradSq);
      const dogLr = m.div(maxDistNext, m.sqrt(m.add(sumSq, k.eps)));
      return { maxDistNext, sumSq, lr: kind === 'learning_rate' ? m.select(first, k.value, dogLr) : dogLr };
    },
    body: (m, x, k) => ({ u: m.mul(k.lr, x.u) }),
  }) as unknown as GradientTransformation<DoGState>;
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

/** optax's `identity()` in the place of the weight decay (element-wise, state `{}`, so the whole chain fuses). */
const NO_DECAY: GradientTransformation = identity();

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
      ? NO_DECAY
      : addDecayedWeights(checkFinite(fn, 'weightDecay', weightDecay), { mask: mask ?? undefined });
  return chain(decay, scaleBy, scaleByLearningRate(learningRate));
}

/**
 * DoG as an optimizer: `chain(addDecayedWeights(weightDecay, { mask }) (when
 * weightDecay is given), scaleByDog({ initStep, eps }), scaleByLearningRate(learningRate))`.
 * Defaults as {@link scaleByDog}, `learningRate = 1`, no weight decay.
 * Fuses on cpu and wasm as {@link scaleByDog} does (a weight-decay `mask`
 * runs on the reference path between fused runs). Reference: Ivgi et al. (2023); optax `contrib.dog`.
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
 * Needs `params`. Tree-wide norms, as optax's. An element-wise spec with
 * scalar state: on cpu and wasm it fuses (one kernel for the tree-wide sums,
 * one for the step); on WebGPU it runs on the reference path. Reference: Khaled, Mishchenko
 * & Jin, "DoWG Unleashed: An Efficient Universal Parameter-Free
 * Gradient Descent Method" (NeurIPS 2023); optax `contrib.scale_by_dowg`.
 */
export function scaleByDowg(options?: ScaleByDowgOptions): GradientTransformation<DoWGState> {
  const fn = 'scaleByDowg';
  const o = resolveOptions(fn, options, DOWG_DEFAULTS);
  const eps = checkNonNegative(fn, 'eps', o.eps as number);
  const r0 =
    o.initEstimSqDist === null || o.initEstimSqDist === undefined ? eps : checkNonNegative(fn, 'initEstimSqDist', o.initEstimSqDist);
  return elementwise({
    name: fn,
    key: fn,
    slots: [{ name: 'initParams', init: 'params' }],
    counted: false,
    needsParams: true,
    scalarState: [
      { name: 'weightedSqNormGrads', init: 0, next: 'weighted' },
      { name: 'estimSqDist', init: r0, next: 'est' },
    ],
    expressionReductions: [DIST_SQ, GRAD_SQ],
    scalars: () => ({ eps }),
    updateScalars(m, k) {
      const est = m.max(k.estimSqDist, k.distSq);
      const weighted = m.add(m.mul(est, k.gradSq), k.weightedSqNormGrads);
      return { est, weighted, lr: m.div(est, m.add(m.sqrt(weighted), k.eps)) };
    },
    body: (m, x, k) => ({ u: m.mul(k.lr, x.u) }),
  }) as unknown as GradientTransformation<DoWGState>;
}

/** Options of {@link dowg}: those of {@link scaleByDowg}, and optional weight decay. */
export type DowgOptions = ScaleByDowgOptions & { weightDecay?: number | null; mask?: WeightDecayOptions['mask'] };

/**
 * DoWG as an optimizer: `chain(addDecayedWeights(weightDecay, { mask }) (when
 * weightDecay is given), scaleByDowg({ initEstimSqDist, eps }), scaleByLearningRate(learningRate))`.
 * Defaults as {@link scaleByDowg}, `learningRate = 1`, no weight decay.
 * Fuses on cpu and wasm as {@link scaleByDowg} does (a weight-decay `mask`
 * runs on the reference path between fused runs). Reference: Khaled et al. (2023); optax `contrib.dowg`.
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
