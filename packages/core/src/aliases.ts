/**
 * Ready-made optimizers (optax `alias.py`): each one is a short {@link chain}
 * of transforms, with the learning rate first and optax's keyword arguments,
 * in camelCase, in one options object. The composition (which transforms, in
 * which order, with which defaults) is optax 0.2.8's.
 *
 * @module
 */
import type { Exact, GradientTransformation, NoOptions, ScalarOrSchedule, Schedule } from './base.js';
import { type Mask, type MaskedState, masked } from './combinators/masked.js';
import { chain, identity } from './combine.js';
import type { ElementwiseState } from './elementwise.js';
import { type ScaleByAdadeltaOptions, scaleByAdadelta, scaleByAdadeltaDefaults } from './transforms/adadelta.js';
import {
  type ScaleByAdamaxOptions,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  type ScaleByAdamStateFor,
  type ScaleByAMSGradOptions,
  type ScaleByAMSGradStateFor,
  type ScaleByRAdamOptions,
  scaleByAdam,
  scaleByAdamax,
  scaleByAdamaxDefaults,
  scaleByAdamDefaults,
  scaleByAMSGrad,
  scaleByAMSGradDefaults,
  scaleByRAdam,
  scaleByRAdamDefaults,
} from './transforms/adam.js';
import {
  type ScaleByBeliefOptions,
  type ScaleByNovogradOptions,
  type ScaleByNovogradState,
  type ScaleByYogiOptions,
  scaleByBelief,
  scaleByBeliefDefaults,
  scaleByNovograd,
  scaleByNovogradDefaults,
  scaleByYogi,
  scaleByYogiDefaults,
} from './transforms/adaptive.js';
import { clipByBlockRms } from './transforms/clipping.js';
import {
  type AddDecayedWeightsOptions,
  type AddDecayedWeightsState,
  addDecayedWeights,
  addDecayedWeightsDefaults,
} from './transforms/decay.js';
import { type FactoredState, scaleByFactoredRms, scaleByFactoredRmsDefaults } from './transforms/factored.js';
import { type ScaleByLionOptions, type ScaleByLionState, scaleByLion, scaleByLionDefaults } from './transforms/lion.js';
import { type EmaState, ema, type TraceState, trace } from './transforms/momentum.js';
import { type AddNoiseState, addNoise } from './transforms/noise.js';
import {
  type ScaleByOptimisticGradientOptions,
  scaleByOptimisticGradient,
  scaleByOptimisticGradientDefaults,
} from './transforms/optimistic.js';
import {
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByRssOptions,
  type ScaleByRssState,
  scaleByRms,
  scaleByRmsDefaults,
  scaleByRss,
  scaleByRssDefaults,
  scaleByStddev,
} from './transforms/rms.js';
import { type ScaleByRpropOptions, scaleByRprop, scaleByRpropDefaults } from './transforms/rprop.js';
import { type ScaleByLearningRateState, scale, scaleByLearningRate } from './transforms/scaling.js';
import { scaleBySign } from './transforms/sign.js';
import { type ScaleBySm3State, scaleBySm3, scaleBySm3Defaults } from './transforms/sm3.js';
import { type AccumulatorStorageOptions, accumulatorStorageDefaults, type DtypeOf } from './transforms/state-dtype.js';
import { type ScaleByTrustRatioOptions, scaleByParamBlockRms, scaleByTrustRatio } from './transforms/trust.js';
import {
  checkBoolean,
  checkDecay,
  checkNonNegative,
  checkScalarOrSchedule,
  checkUnitInterval,
  type OptionDefaults,
  optionsFor,
  resolveOptions,
} from './validate.js';

/**
 * Checks an alias's arguments: the learning rate (a finite number ≥ 0 or a
 * schedule) and the options object (see {@link resolveOptions}: a misspelt
 * or snake_case option, or a number where the options belong, is an error).
 * Returns the options over the alias's defaults.
 */
function checkAliasArgs<D extends object>(fn: string, learningRate: unknown, options: unknown, defaults: D): D {
  checkScalarOrSchedule(fn, 'learningRate', learningRate as ScalarOrSchedule);
  return resolveOptions(fn, options, defaults);
}

/** A learning rate that may be left out (optax's `None`): then no scaling step is added. */
function optionalLearningRate(
  fn: string,
  learningRate: ScalarOrSchedule | undefined | null,
  flipSign = true,
): GradientTransformation | undefined {
  if (learningRate === undefined || learningRate === null) return undefined;
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  return scaleByLearningRate(learningRate, { flipSign });
}

// ---------------------------------------------------------------------------
// Adam family

/** Options of {@link adam} and {@link nadam}: those of {@link scaleByAdam} (`nesterov` defaults to true for `nadam`). */
export interface AdamOptions extends ScaleByAdamOptions {}

/** The defaults of {@link adam}'s options (those of {@link scaleByAdam}). */
export const adamDefaults: OptionDefaults<AdamOptions> = scaleByAdamDefaults;

/**
 * The state of {@link adam} and {@link nadam} with options `O`:
 * `[scaleByAdam's state, scaleByLearningRate's state]`, the moments stored as
 * `O` says.
 */
export type AdamState<O = NoOptions> = [ScaleByAdamStateFor<O>, ScaleByLearningRateState];

/** The state of {@link adamw} and {@link nadamw}: `[scaleByAdam's, addDecayedWeights', scaleByLearningRate's]`. */
export type AdamwState<O = NoOptions> = [ScaleByAdamStateFor<O>, AddDecayedWeightsState, ScaleByLearningRateState];

/** The state of {@link amsgrad}: `[scaleByAMSGrad's state, scaleByLearningRate's state]`, `nu` and `nuMax` stored as `nuDtype`. */
export type AmsgradState<O = NoOptions> = [ScaleByAMSGradStateFor<O>, ScaleByLearningRateState];

/** The state of {@link lion}: `[scaleByLion's, addDecayedWeights', scaleByLearningRate's]`. */
export type LionState<O = NoOptions> = [ScaleByLionState<DtypeOf<O, 'muDtype'>>, AddDecayedWeightsState, ScaleByLearningRateState];

/** The state of {@link adagrad}: `[scaleByRss's state, scaleByLearningRate's state]`. */
export type AdagradState = [ScaleByRssState, ScaleByLearningRateState];

/** The defaults of {@link nadam}'s options. */
export const nadamDefaults: OptionDefaults<AdamOptions> = Object.freeze({ ...scaleByAdamDefaults, nesterov: true });

function adamLike(
  fn: string,
  learningRate: ScalarOrSchedule,
  options: AdamOptions | undefined,
  defaults: OptionDefaults<AdamOptions>,
): GradientTransformation<AdamState<AdamOptions>> {
  const o = checkAliasArgs(fn, learningRate, options, defaults);
  return chain(scaleByAdam(o), scaleByLearningRate(learningRate));
}

/**
 * Adam: `chain(scaleByAdam(...), scaleByLearningRate(learningRate))`, i.e.
 * $u = -\mathrm{lr}\, \hat m / (\sqrt{\hat v + \epsilon_{\mathrm{root}}} + \epsilon)$ with bias-corrected moments
 * $\hat m = m / (1 - b_1^t)$, $\hat v = v / (1 - b_2^t)$.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false`.
 * Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015); optax `adam`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adam(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adam<const O extends AdamOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, AdamOptions>,
): GradientTransformation<AdamState<O>>;
export function adam(learningRate: ScalarOrSchedule, options?: AdamOptions): GradientTransformation<AdamState<AdamOptions>> {
  return adamLike('adam', learningRate, options, adamDefaults);
}

/**
 * NAdam: {@link adam} with Nesterov momentum (`nesterov` defaults to true), so
 * `m̂ = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)`.
 * Reference: Dozat, "Incorporating Nesterov Momentum into Adam" (2016); optax `nadam`.
 *
 * $$
 * \hat\mu = \frac{b_1 \mu}{1 - b_1^{t+1}} + \frac{(1 - b_1)\, g}{1 - b_1^t}, \qquad u = -\eta\, \frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(nadam(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function nadam<const O extends AdamOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, AdamOptions>,
): GradientTransformation<AdamState<O>>;
export function nadam(learningRate: ScalarOrSchedule, options?: AdamOptions): GradientTransformation<AdamState<AdamOptions>> {
  return adamLike('nadam', learningRate, options, nadamDefaults);
}

/** Options of {@link adamw} and {@link nadamw}: those of {@link scaleByAdam} and {@link addDecayedWeights}, and `weightDecay`. */
export interface AdamwOptions extends ScaleByAdamOptions, AddDecayedWeightsOptions {
  /** Decoupled weight decay, multiplied by the learning rate (default 1e-4); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
}

/** The defaults of {@link adamw}'s options. */
export const adamwDefaults: OptionDefaults<AdamwOptions, 'mask'> = Object.freeze({
  ...scaleByAdamDefaults,
  ...addDecayedWeightsDefaults,
  weightDecay: 1e-4,
});

/** The defaults of {@link nadamw}'s options. */
export const nadamwDefaults: OptionDefaults<AdamwOptions, 'mask'> = Object.freeze({ ...adamwDefaults, nesterov: true });

function adamwLike(
  fn: string,
  learningRate: ScalarOrSchedule,
  options: AdamwOptions | undefined,
  defaults: OptionDefaults<AdamwOptions, 'mask'>,
): GradientTransformation<AdamwState<AdamwOptions>> {
  const o = checkAliasArgs(fn, learningRate, options, defaults);
  return chain(
    scaleByAdam(optionsFor(o, scaleByAdamDefaults)),
    addDecayedWeights(o.weightDecay, { mask: o.mask ?? undefined }),
    scaleByLearningRate(learningRate),
  );
}

/**
 * AdamW: Adam with decoupled weight decay,
 * `chain(scaleByAdam(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`,
 * so
 *
 * $$
 * u = -\mathrm{lr} \left( \frac{\hat m}{\sqrt{\hat v + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda\, p \right), \quad \lambda = \mathrm{weightDecay}.
 * $$
 *
 * Defaults as {@link adam}, and `weightDecay = 1e-4`, no mask.
 * Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019); optax `adamw`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adamw(1e-3, { weightDecay: 1e-2 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adamw<const O extends AdamwOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, AdamwOptions>,
): GradientTransformation<AdamwState<O>>;
export function adamw(learningRate: ScalarOrSchedule, options?: AdamwOptions): GradientTransformation<AdamwState<AdamwOptions>> {
  return adamwLike('adamw', learningRate, options, adamwDefaults);
}

/**
 * NAdamW: {@link adamw} with Nesterov momentum (`nesterov` defaults to true).
 * Reference: Dozat (2016), Loshchilov & Hutter (2019); optax `nadamw`.
 *
 * $$
 * u = -\eta \left( \frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p \right), \qquad \hat\mu = \frac{b_1 \mu}{1 - b_1^{t+1}} + \frac{(1 - b_1)\, g}{1 - b_1^t}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(nadamw(1e-3, { weightDecay: 1e-2 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function nadamw<const O extends AdamwOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, AdamwOptions>,
): GradientTransformation<AdamwState<O>>;
export function nadamw(learningRate: ScalarOrSchedule, options?: AdamwOptions): GradientTransformation<AdamwState<AdamwOptions>> {
  return adamwLike('nadamw', learningRate, options, nadamwDefaults);
}

/** Options of {@link amsgrad}: those of {@link scaleByAMSGrad}. */
export interface AmsgradOptions extends ScaleByAMSGradOptions {}

/**
 * AMSGrad: Adam with the running maximum of the second moment in the
 * denominator, `chain(scaleByAMSGrad(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0`, both bias corrections on, `mode = 'optax'`.
 * Reference: Reddi et al., "On the Convergence of Adam and Beyond" (2018); optax `amsgrad`.
 *
 * $$
 * \hat\nu_{\max} \leftarrow \max\!\Big(\hat\nu_{\max}, \frac{\nu}{1 - b_2^t}\Big), \qquad u = -\eta\, \frac{\mu / (1 - b_1^t)}{\sqrt{\hat\nu_{\max} + \epsilon_{\mathrm{root}}} + \epsilon}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(amsgrad(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function amsgrad<const O extends AmsgradOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, AmsgradOptions>,
): GradientTransformation<AmsgradState<O>>;
export function amsgrad(learningRate: ScalarOrSchedule, options?: AmsgradOptions): GradientTransformation<AmsgradState<AmsgradOptions>> {
  const o = checkAliasArgs('amsgrad', learningRate, options, scaleByAMSGradDefaults);
  return chain(scaleByAMSGrad(o), scaleByLearningRate(learningRate));
}

/** Options of {@link adamax}: those of {@link scaleByAdamax}. */
export interface AdamaxOptions extends ScaleByAdamaxOptions {}

/** The state of {@link adamax}: `[scaleByAdamax's state, scaleByLearningRate's state]`. */
export type AdamaxState = [ElementwiseState, ScaleByLearningRateState];

/**
 * AdaMax: Adam with the infinity norm, `chain(scaleByAdamax(...), scaleByLearningRate(lr))`,
 * `u = -lr · m̂ / (max(b2 v, |g|) + eps)`. Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8`.
 * Reference: Kingma & Ba (2015), section 7; optax `adamax`.
 *
 * $$
 * \mu \leftarrow (1 - b_1)\, g + b_1 \mu, \qquad \nu \leftarrow \max(b_2 \nu, |g| + \epsilon), \qquad u = -\eta\, \frac{\mu}{(1 - b_1^t)\, \nu}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adamax(2e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adamax(learningRate: ScalarOrSchedule, options?: AdamaxOptions): GradientTransformation<AdamaxState> {
  const o = checkAliasArgs('adamax', learningRate, options, scaleByAdamaxDefaults);
  return chain(scaleByAdamax(o), scaleByLearningRate(learningRate));
}

/** Options of {@link adamaxw}: those of {@link scaleByAdamax} and {@link addDecayedWeights}, and `weightDecay`. */
export interface AdamaxwOptions extends ScaleByAdamaxOptions, AddDecayedWeightsOptions {
  /** Decoupled weight decay, multiplied by the learning rate (default 1e-4); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
}

/** The defaults of {@link adamaxw}'s options. */
export const adamaxwDefaults: OptionDefaults<AdamaxwOptions, 'mask'> = Object.freeze({
  ...scaleByAdamaxDefaults,
  ...addDecayedWeightsDefaults,
  weightDecay: 1e-4,
});

/** The state of {@link adamaxw}: `[scaleByAdamax's, addDecayedWeights', scaleByLearningRate's]`. */
export type AdamaxwState = [ElementwiseState, AddDecayedWeightsState, ScaleByLearningRateState];

/**
 * AdaMax with decoupled weight decay:
 * `chain(scaleByAdamax(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`.
 * Defaults as {@link adamax}, and `weightDecay = 1e-4`.
 * Reference: Kingma & Ba (2015); Loshchilov & Hutter (2019); optax `adamaxw`.
 *
 * $$
 * u = -\eta \left( \frac{\mu}{(1 - b_1^t)\, \nu} + \lambda p \right), \qquad \nu \leftarrow \max(b_2 \nu, |g| + \epsilon)
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adamaxw(2e-3, { weightDecay: 1e-2 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adamaxw(learningRate: ScalarOrSchedule, options?: AdamaxwOptions): GradientTransformation<AdamaxwState> {
  const o = checkAliasArgs('adamaxw', learningRate, options, adamaxwDefaults);
  return chain(
    scaleByAdamax(optionsFor(o, scaleByAdamaxDefaults)),
    addDecayedWeights(o.weightDecay, { mask: o.mask ?? undefined }),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link radam}: those of {@link scaleByRAdam}. */
export interface RadamOptions extends ScaleByRAdamOptions {}

/** The state of {@link radam}: `[scaleByRAdam's state, scaleByLearningRate's state]`. */
export type RadamState = [ElementwiseState, ScaleByLearningRateState];

/**
 * RAdam: Adam with a rectified variance estimate (plain momentum SGD while the
 * estimate is unreliable), `chain(scaleByRAdam(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, threshold = 5, nesterov = false`.
 * Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (2020); optax `radam`.
 *
 * $$
 * u = -\eta \begin{cases} r_t\, \dfrac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon} & \rho_t \ge \rho_{\mathrm{threshold}} \\ \hat\mu & \text{otherwise} \end{cases}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(radam(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function radam(learningRate: ScalarOrSchedule, options?: RadamOptions): GradientTransformation<RadamState> {
  const o = checkAliasArgs('radam', learningRate, options, scaleByRAdamDefaults);
  return chain(scaleByRAdam(o), scaleByLearningRate(learningRate));
}

/** Options of {@link adabelief}: those of {@link scaleByBelief}, and an optional decoupled weight decay. */
export interface AdabeliefOptions extends ScaleByBeliefOptions {
  /**
   * Decoupled weight decay, multiplied by the learning rate; a number or a
   * schedule. Not in optax 0.2.8's `adabelief`: when left out (the default)
   * the chain is exactly optax's; when given, `addDecayedWeights` runs between
   * `scaleByBelief` and the learning rate, as in {@link adamw}.
   */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  weightDecayMask?: Mask;
}

/** The defaults of {@link adabelief}'s options. */
export const adabeliefDefaults: OptionDefaults<AdabeliefOptions, 'weightDecay' | 'weightDecayMask'> = Object.freeze({
  ...scaleByBeliefDefaults,
  weightDecay: undefined,
  weightDecayMask: undefined,
});

/**
 * The state of {@link adabelief} with options `O`: `[scaleByBelief's state,
 * scaleByLearningRate's]`, with addDecayedWeights' state in between when
 * `weightDecay` is given.
 */
export type AdabeliefState<O = NoOptions> = O extends { weightDecay: ScalarOrSchedule }
  ? [ElementwiseState, AddDecayedWeightsState, ScaleByLearningRateState]
  : O extends { weightDecay?: undefined }
    ? [ElementwiseState, ScaleByLearningRateState]
    : [ElementwiseState, ScaleByLearningRateState] | [ElementwiseState, AddDecayedWeightsState, ScaleByLearningRateState];

/**
 * AdaBelief: Adam whose second moment tracks `(g - m)²`, the "belief" in the
 * gradient, `chain(scaleByBelief(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-16, epsRoot = 1e-16, nesterov = false`,
 * no weight decay. `weightDecay` (with `weightDecayMask`) is a gradtx
 * extension: it adds `addDecayedWeights(weightDecay, { mask })` before the
 * learning rate.
 * Reference: Zhuang et al., "AdaBelief Optimizer" (2020); optax `adabelief`.
 *
 * $$
 * u = -\eta\, \frac{\hat\mu}{\sqrt{\hat s} + \epsilon}, \qquad s \leftarrow (1 - b_2)(g - \mu)^2 + b_2 s + \epsilon_{\mathrm{root}}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adabelief(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adabelief<const O extends AdabeliefOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, AdabeliefOptions>,
): GradientTransformation<AdabeliefState<O>>;
export function adabelief(
  learningRate: ScalarOrSchedule,
  options?: AdabeliefOptions,
): GradientTransformation<AdabeliefState<AdabeliefOptions>> {
  const { weightDecay, weightDecayMask, ...belief } = checkAliasArgs('adabelief', learningRate, options, adabeliefDefaults);
  const tx = scaleByBelief(belief);
  if (weightDecay === undefined) return chain(tx, scaleByLearningRate(learningRate));
  return chain(tx, addDecayedWeights(weightDecay, { mask: weightDecayMask ?? undefined }), scaleByLearningRate(learningRate));
}

/** Options of {@link yogi}: `b1`, `b2` and `eps` of {@link scaleByYogi}. */
export interface YogiOptions extends Pick<ScaleByYogiOptions, 'b1' | 'b2' | 'eps'> {}

/** The defaults of {@link yogi}'s options. */
export const yogiDefaults: OptionDefaults<YogiOptions> = Object.freeze({
  b1: scaleByYogiDefaults.b1,
  b2: scaleByYogiDefaults.b2,
  eps: scaleByYogiDefaults.eps,
});

/** The state of {@link yogi}: `[scaleByYogi's state, scaleByLearningRate's state]`. */
export type YogiState = [ElementwiseState, ScaleByLearningRateState];

/**
 * Yogi: Adam with an additive, sign-controlled second-moment update,
 * `chain(scaleByYogi(...), scaleByLearningRate(lr))`. Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-3`.
 * Reference: Zaheer et al., "Adaptive Methods for Nonconvex Optimization" (2018); optax `yogi`.
 *
 * $$
 * \nu \leftarrow \nu - (1 - b_2) \operatorname{sign}(\nu - g^2)\, g^2, \qquad u = -\eta\, \frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(yogi(1e-2), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function yogi(learningRate: ScalarOrSchedule, options?: YogiOptions): GradientTransformation<YogiState> {
  const o = checkAliasArgs('yogi', learningRate, options, yogiDefaults);
  return chain(scaleByYogi(o), scaleByLearningRate(learningRate));
}

/** Options of {@link novograd}: those of {@link scaleByNovograd} (`eps` defaults to 1e-6 here). */
export interface NovogradOptions extends ScaleByNovogradOptions {}

/** The defaults of {@link novograd}'s options. */
export const novogradDefaults: OptionDefaults<NovogradOptions> = Object.freeze({ ...scaleByNovogradDefaults, eps: 1e-6 });

/** The state of {@link novograd}: `[scaleByNovograd's state, scaleByLearningRate's state]`. */
export type NovogradState = [ScaleByNovogradState, ScaleByLearningRateState];

/**
 * NovoGrad: layer-wise normalized gradients with momentum,
 * `chain(scaleByNovograd(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.25, eps = 1e-6, epsRoot = 0, weightDecay = 0`.
 * Reference: Ginsburg et al., "Stochastic Gradient Methods with Layer-wise Adaptive Moments" (2019); optax `novograd`.
 *
 * $$
 * \nu \leftarrow (1 - b_2) \lVert g \rVert^2 + b_2 \nu, \qquad \mu \leftarrow b_1 \mu + \frac{g}{\sqrt{\nu + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p, \qquad u = -\eta \mu
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(novograd(1e-2), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function novograd(learningRate: ScalarOrSchedule, options?: NovogradOptions): GradientTransformation<NovogradState> {
  const o = checkAliasArgs('novograd', learningRate, options, novogradDefaults);
  return chain(scaleByNovograd(o), scaleByLearningRate(learningRate));
}

/** Options of {@link lion}: `b1`, `b2`, `muDtype` and `int8BlockSize` of {@link scaleByLion}, those of {@link addDecayedWeights}, and `weightDecay`. */
export interface LionOptions extends Pick<ScaleByLionOptions, 'b1' | 'b2' | 'muDtype' | 'int8BlockSize'>, AddDecayedWeightsOptions {
  /** Decoupled weight decay (default 1e-3); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
}

/** The defaults of {@link lion}'s options. */
export const lionDefaults: OptionDefaults<LionOptions, 'mask'> = Object.freeze({
  b1: scaleByLionDefaults.b1,
  b2: scaleByLionDefaults.b2,
  muDtype: scaleByLionDefaults.muDtype,
  int8BlockSize: scaleByLionDefaults.int8BlockSize,
  ...addDecayedWeightsDefaults,
  weightDecay: 1e-3,
});

/**
 * Lion: the sign of an interpolated momentum, with decoupled weight decay,
 * `chain(scaleByLion(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.99, weightDecay = 1e-3`.
 * Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms" (2023); optax `lion`.
 *
 * $$
 * u = -\eta \Big( \operatorname{sign}\big((1 - b_1)\, g + b_1 \mu\big) + \lambda p \Big), \qquad \mu \leftarrow (1 - b_2)\, g + b_2 \mu
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(lion(1e-4, { weightDecay: 1e-2 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function lion<const O extends LionOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, LionOptions>,
): GradientTransformation<LionState<O>>;
export function lion(learningRate: ScalarOrSchedule, options?: LionOptions): GradientTransformation<LionState<LionOptions>> {
  const o = checkAliasArgs('lion', learningRate, options, lionDefaults);
  return chain(
    scaleByLion({ b1: o.b1, b2: o.b2, muDtype: o.muDtype, int8BlockSize: o.int8BlockSize }),
    addDecayedWeights(o.weightDecay, { mask: o.mask ?? undefined }),
    scaleByLearningRate(learningRate),
  );
}

// ---------------------------------------------------------------------------
// Trust-ratio optimizers

/** Options of {@link lamb}: `b1`, `b2`, `eps`, `epsRoot` of {@link scaleByAdam} (`eps` defaults to 1e-6 here), those of {@link addDecayedWeights}, and `weightDecay`. */
export interface LambOptions extends Pick<ScaleByAdamOptions, 'b1' | 'b2' | 'eps' | 'epsRoot'>, AddDecayedWeightsOptions {
  /** Weight decay added before the trust ratio (default 0); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
}

/** The defaults of {@link lamb}'s options. */
export const lambDefaults: OptionDefaults<LambOptions, 'mask'> = Object.freeze({
  b1: scaleByAdamDefaults.b1,
  b2: scaleByAdamDefaults.b2,
  eps: 1e-6,
  epsRoot: scaleByAdamDefaults.epsRoot,
  ...addDecayedWeightsDefaults,
  weightDecay: 0,
});

/** The state of {@link lamb}: `[scaleByAdam's, addDecayedWeights', scaleByTrustRatio's, scaleByLearningRate's]`. */
export type LambState = [ScaleByAdamState, AddDecayedWeightsState, ElementwiseState, ScaleByLearningRateState];

/**
 * LAMB: Adam with weight decay, rescaled per parameter by the trust ratio
 * `‖p‖ / ‖u‖`: `chain(scaleByAdam(...), addDecayedWeights(weightDecay, { mask }),
 * scaleByTrustRatio(), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-6, epsRoot = 0, weightDecay = 0`.
 * Reference: You et al., "Large Batch Optimization for Deep Learning" (2020); optax `lamb`.
 *
 * $$
 * r = \frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p, \qquad u = -\eta\, \frac{\lVert p \rVert}{\lVert r \rVert}\, r \quad \text{(per leaf)}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(lamb(1e-3, { weightDecay: 1e-2 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function lamb(learningRate: ScalarOrSchedule, options?: LambOptions): GradientTransformation<LambState> {
  const o = checkAliasArgs('lamb', learningRate, options, lambDefaults);
  return chain(
    scaleByAdam({ b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.epsRoot }),
    addDecayedWeights(o.weightDecay, { mask: o.mask ?? undefined }),
    scaleByTrustRatio(),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link lars}. */
export interface LarsOptions {
  /** Weight decay added before the trust ratio (default 0); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (default `true`: all). */
  weightDecayMask?: Mask;
  /** Multiplier of the trust ratio (default 1e-3). */
  trustCoefficient?: number;
  /** Added to the trust ratio's denominator (default 0). */
  eps?: number;
  /** Which params are rescaled by the trust ratio (default `true`: all). */
  trustRatioMask?: Mask;
  /** Momentum of the trace applied after the learning rate (default 0.9). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

/** The defaults of {@link lars}'s options. */
export const larsDefaults: OptionDefaults<LarsOptions> = Object.freeze({
  weightDecay: 0,
  weightDecayMask: true,
  trustCoefficient: 1e-3,
  eps: 0,
  trustRatioMask: true,
  momentum: 0.9,
  nesterov: false,
});

/** The state of {@link lars}: `[addDecayedWeights', masked scaleByTrustRatio's, scaleByLearningRate's, trace's]`. */
export type LarsState = [AddDecayedWeightsState, MaskedState<ElementwiseState>, ScaleByLearningRateState, TraceState];

/**
 * LARS: SGD with momentum where each parameter's step is rescaled by the
 * trust ratio: `chain(addDecayedWeights(weightDecay, { mask: weightDecayMask }),
 * masked(scaleByTrustRatio({ trustCoefficient, eps }), trustRatioMask),
 * scaleByLearningRate(lr), trace({ decay: momentum, nesterov }))`.
 * Defaults `weightDecay = 0, trustCoefficient = 1e-3, eps = 0, momentum = 0.9, nesterov = false`, both masks `true`.
 * Reference: You et al., "Large Batch Training of Convolutional Networks" (2017); optax `lars`.
 *
 * $$
 * \tilde g = g + \lambda p, \qquad m \leftarrow -\eta\, \frac{c\, \lVert p \rVert}{\lVert \tilde g \rVert + \epsilon}\, \tilde g + \beta m, \qquad u = m
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(lars(0.1, { weightDecay: 1e-4 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function lars(learningRate: ScalarOrSchedule, options?: LarsOptions): GradientTransformation<LarsState> {
  const o = checkAliasArgs('lars', learningRate, options, larsDefaults);
  return chain(
    addDecayedWeights(o.weightDecay, { mask: o.weightDecayMask }),
    masked(scaleByTrustRatio({ trustCoefficient: o.trustCoefficient, eps: o.eps }), o.trustRatioMask),
    scaleByLearningRate(learningRate),
    trace({ decay: o.momentum, nesterov: o.nesterov }),
  );
}

/** Options of {@link fromage}: `minNorm` of {@link scaleByTrustRatio} (default 1e-6 here). */
export interface FromageOptions extends Pick<ScaleByTrustRatioOptions, 'minNorm'> {}

/** The defaults of {@link fromage}'s options. */
export const fromageDefaults: OptionDefaults<FromageOptions> = Object.freeze({ minNorm: 1e-6 });

/** The state of {@link fromage}: `[scaleByTrustRatio's, scaleByLearningRate's, addDecayedWeights']`. */
export type FromageState = [ElementwiseState, ScaleByLearningRateState, AddDecayedWeightsState];

/**
 * Fromage: a trust-ratio step followed by shrinking the params towards zero,
 * with `mult = 1 / sqrt(1 + lr²)`: `chain(scaleByTrustRatio({ minNorm }),
 * scaleByLearningRate(lr · mult), addDecayedWeights(mult - 1))` (a schedule is
 * applied per step). Default `minNorm = 1e-6`.
 * Reference: Bernstein et al., "On the distance between two neural networks and the stability of learning" (2020); optax `fromage`.
 *
 * $$
 * u = -\frac{\eta}{\sqrt{1 + \eta^2}}\, \frac{\lVert p \rVert}{\lVert g \rVert}\, g + \left( \frac{1}{\sqrt{1 + \eta^2}} - 1 \right) p
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(fromage(1e-2), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function fromage(learningRate: ScalarOrSchedule, options?: FromageOptions): GradientTransformation<FromageState> {
  const trust = scaleByTrustRatio(checkAliasArgs('fromage', learningRate, options, fromageDefaults));
  if (typeof learningRate !== 'function') {
    const mult = 1 / Math.sqrt(1 + learningRate ** 2);
    return chain(trust, scaleByLearningRate(learningRate * mult), addDecayedWeights(mult - 1));
  }
  const lr: Schedule = learningRate;
  const mult = (count: number) => 1 / Math.sqrt(1 + lr(count) ** 2);
  return chain(
    trust,
    scaleByLearningRate((count) => mult(count) * lr(count)),
    addDecayedWeights((count) => mult(count) - 1),
  );
}

// ---------------------------------------------------------------------------
// SGD family

/** Options of {@link sgd}: `momentum`, `nesterov`, and the storage of the momentum's trace. */
export interface SgdOptions extends AccumulatorStorageOptions {
  /** Momentum of a {@link trace} applied before the learning rate; none when left out (the default). */
  momentum?: number | null;
  /** Nesterov momentum (default false; only used with `momentum`). */
  nesterov?: boolean;
}

/** The defaults of {@link sgd}'s options (no momentum). */
export const sgdDefaults: OptionDefaults<SgdOptions, 'momentum'> = Object.freeze({
  momentum: undefined,
  nesterov: false,
  ...accumulatorStorageDefaults,
});

/**
 * The state of the momentum stage of {@link sgd} and {@link rmsprop} with
 * options `O`: a {@link TraceState} (its trace stored as `accumulatorDtype`
 * says) when `momentum` is a number, identity's `{}` when it is left out,
 * either when the options type does not tell.
 */
export type MomentumStageState<O> = O extends { momentum: number }
  ? TraceState<DtypeOf<O, 'accumulatorDtype'>>
  : O extends { momentum?: null | undefined }
    ? Record<string, never>
    : TraceState<DtypeOf<O, 'accumulatorDtype'>> | Record<string, never>;

/** The state of {@link sgd} with options `O`: `[trace's state or identity's, scaleByLearningRate's]`. */
export type SgdState<O = NoOptions> = [MomentumStageState<O>, ScaleByLearningRateState];

/**
 * Stochastic gradient descent, optionally with (Nesterov) momentum:
 * `chain(trace({ decay: momentum, nesterov }), scaleByLearningRate(lr))`, the
 * trace only when `momentum` is given (otherwise `identity()`).
 * Reference: Robbins & Monro (1951); Sutskever et al. (2013); optax `sgd`.
 *
 * $$
 * m \leftarrow g + \beta m, \qquad u = -\eta\, m \qquad (\text{Nesterov: } u = -\eta\, (g + \beta m))
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(sgd(0.1, { momentum: 0.9, nesterov: true }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function sgd<const O extends SgdOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, SgdOptions>,
): GradientTransformation<SgdState<O>>;
export function sgd(learningRate: ScalarOrSchedule, options?: SgdOptions): GradientTransformation<SgdState<SgdOptions>> {
  const o = checkAliasArgs('sgd', learningRate, options, sgdDefaults);
  const { momentum: decay, nesterov, accumulatorDtype, int8BlockSize } = o;
  if (decay === undefined || decay === null) {
    if (accumulatorDtype !== accumulatorStorageDefaults.accumulatorDtype || int8BlockSize !== accumulatorStorageDefaults.int8BlockSize)
      throw new Error(`sgd: \`accumulatorDtype\` and \`int8BlockSize\` set the storage of the momentum, but no \`momentum\` is given`);
  }
  const momentum = decay === undefined || decay === null ? identity() : trace({ decay, nesterov, accumulatorDtype, int8BlockSize });
  return chain(momentum, scaleByLearningRate(learningRate));
}

/** The state of {@link signSgd}: `[scaleBySign's state, scaleByLearningRate's state]`. */
export type SignSgdState = [ElementwiseState, ScaleByLearningRateState];

/**
 * signSGD: steps by the sign of the gradient, `chain(scaleBySign(), scaleByLearningRate(lr))`.
 * Reference: Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex Problems" (2018); optax `sign_sgd`.
 *
 * $$
 * u = -\eta\, \operatorname{sign}(g)
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(signSgd(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function signSgd(learningRate: ScalarOrSchedule): GradientTransformation<SignSgdState> {
  checkScalarOrSchedule('signSgd', 'learningRate', learningRate);
  return chain(scaleBySign(), scaleByLearningRate(learningRate));
}

/** Options of {@link signum}: `beta`, and the storage of the momentum. */
export interface SignumOptions extends AccumulatorStorageOptions {
  /** Decay of the (not debiased) momentum whose sign is taken (default 0.9). */
  beta?: number;
}

/** The defaults of {@link signum}'s options. */
export const signumDefaults: OptionDefaults<SignumOptions> = Object.freeze({ beta: 0.9, ...accumulatorStorageDefaults });

/** The state of {@link signum} with options `O`: `[ema's state, scaleBySign's, scaleByLearningRate's]`, the average stored as `accumulatorDtype` says. */
export type SignumState<O = NoOptions> = [EmaState<DtypeOf<O, 'accumulatorDtype'>>, ElementwiseState, ScaleByLearningRateState];

/**
 * Signum: steps by the sign of a momentum,
 * `chain(ema(beta, { debias: false }), scaleBySign(), scaleByLearningRate(lr))`. Default `beta = 0.9`.
 * Reference: Bernstein et al. (2018); optax `signum`.
 *
 * $$
 * m \leftarrow (1 - \beta)\, g + \beta m, \qquad u = -\eta\, \operatorname{sign}(m)
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(signum(1e-3), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function signum<const O extends SignumOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, SignumOptions>,
): GradientTransformation<SignumState<O>>;
export function signum(learningRate: ScalarOrSchedule, options?: SignumOptions): GradientTransformation<SignumState<SignumOptions>> {
  const o = checkAliasArgs('signum', learningRate, options, signumDefaults);
  const storage = { accumulatorDtype: o.accumulatorDtype, int8BlockSize: o.int8BlockSize };
  return chain(ema(checkDecay('signum', 'beta', o.beta), { debias: false, ...storage }), scaleBySign(), scaleByLearningRate(learningRate));
}

/** Options of {@link noisySgd}. */
export interface NoisySgdOptions {
  /** Base variance of the Gaussian noise (default 0.01). */
  eta?: number;
  /** Decay exponent of the variance, `eta / (1 + t)^gamma` (default 0.55). */
  gamma?: number;
  /** Seed of the noise generator (default 0). */
  key?: number;
}

/** The defaults of {@link noisySgd}'s options. */
export const noisySgdDefaults: OptionDefaults<NoisySgdOptions> = Object.freeze({ eta: 0.01, gamma: 0.55, key: 0 });

/** The state of {@link noisySgd}: `[addNoise's state, scaleByLearningRate's state]`. */
export type NoisySgdState = [AddNoiseState, ScaleByLearningRateState];

/**
 * SGD with annealed Gaussian gradient noise,
 * `chain(addNoise(eta, gamma, key), scaleByLearningRate(lr))`.
 * Defaults `eta = 0.01, gamma = 0.55, key = 0`. The noise comes from tfjs's
 * generator, so it is not the same sample as optax's for the same key.
 * Reference: Neelakantan et al., "Adding Gradient Noise Improves Learning for Very Deep Networks" (2015); optax `noisy_sgd`.
 *
 * $$
 * u = -\mathrm{lr} \left( g + \sqrt{\frac{\eta}{t^{\gamma}}}\; \xi \right), \qquad \xi \sim \mathcal{N}(0, 1)
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(noisySgd(0.01, { key: 0 }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function noisySgd(learningRate: ScalarOrSchedule, options?: NoisySgdOptions): GradientTransformation<NoisySgdState> {
  const o = checkAliasArgs('noisySgd', learningRate, options, noisySgdDefaults);
  return chain(addNoise(o.eta, o.gamma, o.key), scaleByLearningRate(learningRate));
}

/** Options of {@link optimisticGradientDescent}: those of {@link scaleByOptimisticGradient}. */
export interface OptimisticGradientDescentOptions extends ScaleByOptimisticGradientOptions {}

/** The state of {@link optimisticGradientDescent}: `[scaleByOptimisticGradient's state, scaleByLearningRate's state]`. */
export type OptimisticGradientDescentState = [ElementwiseState, ScaleByLearningRateState];

/**
 * Optimistic gradient descent, for min-max games: `u = -lr · ((alpha + beta) g_t - beta g_{t-1})`,
 * `chain(scaleByOptimisticGradient({ alpha, beta }), scaleByLearningRate(lr))`. Defaults `alpha = 1, beta = 1`.
 * Reference: Mokhtari et al., "A Unified Analysis of Extra-gradient and Optimistic Gradient Methods" (2019); optax `optimistic_gradient_descent`.
 *
 * $$
 * u_t = -\mathrm{lr} \big( (\alpha + \beta)\, g_t - \beta\, g_{t-1} \big)
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(optimisticGradientDescent(0.1), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function optimisticGradientDescent(
  learningRate: ScalarOrSchedule,
  options?: OptimisticGradientDescentOptions,
): GradientTransformation<OptimisticGradientDescentState> {
  const o = checkAliasArgs('optimisticGradientDescent', learningRate, options, scaleByOptimisticGradientDefaults);
  return chain(scaleByOptimisticGradient(o), scaleByLearningRate(learningRate));
}

// ---------------------------------------------------------------------------
// RMSProp / Adagrad family

/** Options of {@link rmsprop}: those of {@link scaleByRms} (and {@link scaleByStddev}), `centered`, and a momentum. */
export interface RmspropOptions extends ScaleByRmsOptions {
  /** Divide by the standard deviation (centered RMSProp) rather than the RMS (default false). */
  centered?: boolean;
  /** Momentum of a {@link trace} applied after the learning rate; none when left out (the default). */
  momentum?: number | null;
  /** Nesterov momentum (default false; only used with `momentum`). */
  nesterov?: boolean;
}

/** The defaults of {@link rmsprop}'s options. */
export const rmspropDefaults: OptionDefaults<RmspropOptions, 'momentum'> = Object.freeze({
  ...scaleByRmsDefaults,
  centered: false,
  momentum: undefined,
  nesterov: false,
});

/**
 * The state of {@link rmsprop} with options `O`: `[scaleByRms's state (or
 * scaleByStddev's when centered), scaleByLearningRate's, the momentum
 * stage's]`.
 */
export type RmspropState<O = NoOptions> = [
  O extends { centered: true } ? ElementwiseState : O extends { centered?: false } ? ScaleByRmsState : ScaleByRmsState | ElementwiseState,
  ScaleByLearningRateState,
  MomentumStageState<O>,
];

/**
 * RMSProp: `chain(scaleByRms(...) | scaleByStddev(...) when centered,
 * scaleByLearningRate(lr), trace({ decay: momentum, nesterov }) | identity())`.
 * Defaults `decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true,
 * centered = false, momentum = none, nesterov = false, biasCorrection = false`.
 * Reference: Hinton, Lecture 6.5 of "Neural Networks for Machine Learning" (2012); Graves (2013); optax `rmsprop`.
 *
 * $$
 * \nu \leftarrow (1 - \rho)\, g^2 + \rho \nu, \qquad u = -\eta\, \frac{g}{\sqrt{\nu + \epsilon}} \qquad \Big(\text{centered: } \frac{g}{\sqrt{\nu - \mu^2 + \epsilon}}\Big)
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(rmsprop(1e-3, { centered: true }), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function rmsprop<const O extends RmspropOptions = NoOptions>(
  learningRate: ScalarOrSchedule,
  options?: Exact<O, RmspropOptions>,
): GradientTransformation<RmspropState<O>>;
export function rmsprop(learningRate: ScalarOrSchedule, options?: RmspropOptions): GradientTransformation<RmspropState<RmspropOptions>> {
  const { centered, momentum, nesterov, ...rmsOptions } = checkAliasArgs('rmsprop', learningRate, options, rmspropDefaults);
  return chain(
    checkBoolean('rmsprop', 'centered', centered) ? scaleByStddev(rmsOptions) : scaleByRms(rmsOptions),
    scaleByLearningRate(learningRate),
    momentum === undefined || momentum === null ? identity() : trace({ decay: momentum, nesterov }),
  );
}

/** Options of {@link adagrad}: those of {@link scaleByRss}. */
export interface AdagradOptions extends ScaleByRssOptions {}

/**
 * Adagrad: divides by the root of the running sum of squared gradients,
 * `chain(scaleByRss({ initialAccumulatorValue, eps }), scaleByLearningRate(lr))`.
 * Defaults `initialAccumulatorValue = 0.1, eps = 1e-7`.
 * Reference: Duchi et al., "Adaptive Subgradient Methods" (2011); optax `adagrad`.
 *
 * $$
 * s \leftarrow s + g^2, \qquad u = -\eta\, \frac{g}{\sqrt{s + \epsilon}}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adagrad(0.1), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adagrad(learningRate: ScalarOrSchedule, options?: AdagradOptions): GradientTransformation<AdagradState> {
  const o = checkAliasArgs('adagrad', learningRate, options, scaleByRssDefaults);
  return chain(scaleByRss(o), scaleByLearningRate(learningRate));
}

/** Options of {@link adadelta}: those of {@link scaleByAdadelta}, and a weight decay added first. */
export interface AdadeltaOptions extends ScaleByAdadeltaOptions {
  /** Weight decay added to the gradient first (default 0); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  weightDecayMask?: Mask;
}

/** The defaults of {@link adadelta}'s options. */
export const adadeltaDefaults: OptionDefaults<AdadeltaOptions, 'weightDecayMask'> = Object.freeze({
  ...scaleByAdadeltaDefaults,
  weightDecay: 0,
  weightDecayMask: undefined,
});

/**
 * The state of {@link adadelta}: `[addDecayedWeights', scaleByAdadelta's,
 * scaleByLearningRate's]` (`{}` last without a learning rate).
 */
export type AdadeltaState = [AddDecayedWeightsState, ElementwiseState, ScaleByLearningRateState | Record<string, never>];

/**
 * Adadelta: `chain(addDecayedWeights(weightDecay, { mask: weightDecayMask }),
 * scaleByAdadelta({ rho, eps }), scaleByLearningRate(lr))`. With no learning
 * rate (`undefined` or `null`, optax's `None`) the last step is `identity()`,
 * as in optax: the updates are then `scaleByAdadelta`'s output, not negated,
 * so `applyUpdates` ascends; pass a learning rate (e.g. 1) to descend. Defaults `rho = 0.9, eps = 1e-6, weightDecay = 0`.
 * Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012); optax `adadelta`.
 *
 * $$
 * u = -\eta\, \frac{\sqrt{E[\Delta x^2] + \epsilon}}{\sqrt{E[\tilde g^2] + \epsilon}}\, \tilde g, \qquad \tilde g = g + \lambda p
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adadelta(1), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adadelta(learningRate?: ScalarOrSchedule | null, options?: AdadeltaOptions): GradientTransformation<AdadeltaState> {
  const o = resolveOptions('adadelta', options, adadeltaDefaults);
  return chain(
    addDecayedWeights(o.weightDecay, { mask: o.weightDecayMask ?? undefined }),
    scaleByAdadelta({ rho: o.rho, eps: o.eps }),
    optionalLearningRate('adadelta', learningRate) ?? identity(),
  );
}

/** Options of {@link adafactor}. */
export interface AdafactorOptions {
  /** Factor a leaf's second moment only when two of its dimensions are at least this size (default 128). */
  minDimSizeToFactor?: number;
  /** Exponent of the second-moment decay schedule `1 - (t + 1)^-decayRate` (default 0.8). */
  decayRate?: number;
  /** Step offset of that schedule, for fine-tuning (default 0). */
  decayOffset?: number;
  /** Multiply the step by the params' RMS, at least 1e-3 (default true). */
  multiplyByParameterScale?: boolean;
  /** Clip each leaf's update to this RMS (default 1); `null` disables clipping. */
  clippingThreshold?: number | null;
  /** Decay of an (undebiased) momentum of the updates; none when left out (the default). */
  momentum?: number | null;
  /** Weight decay rate; none when left out (the default). A number or a schedule. */
  weightDecayRate?: ScalarOrSchedule | null;
  /** Regularization constant added to the squared gradients (default 1e-30). */
  eps?: number;
  /** Use factored second-moment estimates (default true). */
  factored?: boolean;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  weightDecayMask?: Mask;
}

/** The defaults of {@link adafactor}'s options (no momentum, no weight decay). */
export const adafactorDefaults: OptionDefaults<AdafactorOptions, 'momentum' | 'weightDecayRate' | 'weightDecayMask'> = Object.freeze({
  minDimSizeToFactor: scaleByFactoredRmsDefaults.minDimSizeToFactor,
  decayRate: scaleByFactoredRmsDefaults.decayRate,
  decayOffset: scaleByFactoredRmsDefaults.stepOffset,
  multiplyByParameterScale: true,
  clippingThreshold: 1,
  momentum: undefined,
  weightDecayRate: undefined,
  eps: scaleByFactoredRmsDefaults.epsilon,
  factored: scaleByFactoredRmsDefaults.factored,
  weightDecayMask: undefined,
});

/**
 * The state of {@link adafactor}: scaleByFactoredRms's state first, then
 * the states of the stages the options switch on (clipping, learning rate,
 * parameter scale, momentum, weight decay) and of the final `scale(-1)`.
 */
export type AdafactorState = [FactoredState, ...(ElementwiseState | ScaleByLearningRateState | EmaState | AddDecayedWeightsState)[]];

/**
 * Adafactor: factored second moments, per-leaf RMS clipping and a step
 * relative to the params' scale. The chain is `scaleByFactoredRms`, then
 * `clipByBlockRms(clippingThreshold)`, `scaleByLearningRate(lr, { flipSign: false })`,
 * `scaleByParamBlockRms()`, `ema(momentum, { debias: false })`,
 * `addDecayedWeights(weightDecayRate, { mask })` (each only when enabled), and
 * `scale(-1)`. Defaults `minDimSizeToFactor = 128, decayRate = 0.8,
 * decayOffset = 0, multiplyByParameterScale = true, clippingThreshold = 1,
 * eps = 1e-30, factored = true`, no learning rate, momentum or weight decay.
 * Reference: Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost" (2018); optax `adafactor`.
 *
 * $$
 * \hat g = \frac{g}{\sqrt{\hat v}}, \qquad u = -\eta\, \max\!\big(\mathrm{RMS}(p), 10^{-3}\big)\, \frac{\hat g}{\max\big(1, \mathrm{RMS}(\hat g) / d\big)}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adafactor(), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function adafactor(learningRate?: ScalarOrSchedule | null, options?: AdafactorOptions): GradientTransformation<AdafactorState> {
  const fn = 'adafactor';
  const o = resolveOptions(fn, options, adafactorDefaults);
  const factoredRms = scaleByFactoredRms({
    factored: o.factored,
    decayRate: o.decayRate,
    stepOffset: o.decayOffset,
    minDimSizeToFactor: o.minDimSizeToFactor,
    epsilon: o.eps,
  });
  const txs: GradientTransformation[] = [];
  if (o.clippingThreshold !== null) txs.push(clipByBlockRms(o.clippingThreshold));
  const lr = optionalLearningRate(fn, learningRate, false);
  if (lr) txs.push(lr);
  if (checkBoolean(fn, 'multiplyByParameterScale', o.multiplyByParameterScale)) txs.push(scaleByParamBlockRms());
  if (o.momentum !== undefined && o.momentum !== null) txs.push(ema(o.momentum, { debias: false }));
  if (o.weightDecayRate !== undefined && o.weightDecayRate !== null) {
    txs.push(addDecayedWeights(o.weightDecayRate, { mask: o.weightDecayMask ?? undefined }));
  }
  txs.push(scale(-1));
  return chain(factoredRms, ...txs);
}

/** Options of {@link sm3}. */
export interface Sm3Options {
  /** Decay of the momentum (optax's `b1` of `scale_by_sm3`) (default 0.9). */
  momentum?: number;
}

/** The defaults of {@link sm3}'s options. */
export const sm3Defaults: OptionDefaults<Sm3Options> = Object.freeze({ momentum: scaleBySm3Defaults.b1 });

/** The state of {@link sm3}: `[scaleBySm3's state, scaleByLearningRate's state]`. */
export type Sm3State = [ScaleBySm3State, ScaleByLearningRateState];

/**
 * SM3: memory-efficient adaptive steps from per-dimension accumulators,
 * `chain(scaleBySm3({ b1: momentum }), scale(-lr))`. Default `momentum = 0.9`.
 * optax takes a constant learning rate here; gradtx also accepts a schedule
 * (then the last step is `scaleByLearningRate(lr)`).
 * Reference: Anil et al., "Memory-Efficient Adaptive Optimization" (2019); optax `sm3`.
 *
 * $$
 * a = g^2 + \min_i \mu_i, \qquad m \leftarrow (1 - \beta) \frac{g}{\sqrt{a + \epsilon}} + \beta m, \qquad u = -\eta\, m
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(sm3(0.1), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function sm3(learningRate: ScalarOrSchedule, options?: Sm3Options): GradientTransformation<Sm3State> {
  const o = checkAliasArgs('sm3', learningRate, options, sm3Defaults);
  return chain(scaleBySm3({ b1: checkUnitInterval('sm3', 'momentum', o.momentum) }), scaleByLearningRate(learningRate));
}

/** Options of {@link rprop}: those of {@link scaleByRprop}. */
export interface RpropOptions extends ScaleByRpropOptions {}

/** The state of {@link rprop}: `[scaleByRprop's state, scale's state]`. */
export type RpropState = [ElementwiseState, ElementwiseState];

/**
 * Rprop: per-element step sizes grown while the gradient's sign holds and
 * shrunk when it flips; `learningRate` is the initial step size.
 * `chain(scaleByRprop(learningRate, {...}), scale(-1))`.
 * Defaults `etaMinus = 0.5, etaPlus = 1.2, minStepSize = 1e-6, maxStepSize = 50`.
 * Reference: Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP Algorithm" (1993); optax `rprop`.
 *
 * $$
 * \Delta \leftarrow \operatorname{clip}\big(\Delta \cdot \eta_\pm, \Delta_{\min}, \Delta_{\max}\big), \qquad u = -\Delta \operatorname{sign}(g) \quad \text{(zero where the sign flipped)}
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(rprop(0.01), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function rprop(learningRate: number, options?: RpropOptions): GradientTransformation<RpropState> {
  checkNonNegative('rprop', 'learningRate', learningRate);
  return chain(scaleByRprop(learningRate, resolveOptions('rprop', options, scaleByRpropDefaults)), scale(-1));
}
