/**
 * Ready-made optimizers (optax `alias.py`): each one is a short {@link chain}
 * of transforms, with the learning rate first and optax's keyword arguments,
 * in camelCase, in one options object. The composition (which transforms, in
 * which order, with which defaults) is optax 0.2.8's.
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule, Schedule } from './base.js';
import { type Mask, masked } from './combinators/masked.js';
import { chain, identity } from './combine.js';
import { scaleByAdadelta } from './transforms/adadelta.js';
import { type ScaleByAdamState, scaleByAdam, scaleByAdamax, scaleByAMSGrad, scaleByRAdam } from './transforms/adam.js';
import { scaleByBelief, scaleByNovograd, scaleByYogi } from './transforms/adaptive.js';
import { clipByBlockRms } from './transforms/clipping.js';
import { addDecayedWeights } from './transforms/decay.js';
import { scaleByFactoredRms } from './transforms/factored.js';
import { scaleByLion } from './transforms/lion.js';
import { ema, trace } from './transforms/momentum.js';
import { addNoise } from './transforms/noise.js';
import { scaleByOptimisticGradient } from './transforms/optimistic.js';
import { scaleByRms, scaleByRss, scaleByStddev } from './transforms/rms.js';
import { scaleByRprop } from './transforms/rprop.js';
import { type ScaleByLearningRateState, scale, scaleByLearningRate } from './transforms/scaling.js';
import { scaleBySign } from './transforms/sign.js';
import { scaleBySm3 } from './transforms/sm3.js';
import { scaleByParamBlockRms, scaleByTrustRatio } from './transforms/trust.js';
import { checkNonNegative, checkScalarOrSchedule } from './validate.js';

/**
 * Checks an alias's arguments: the learning rate (a finite number ≥ 0 or a
 * schedule) and the options object (a plain object whose keys are all known,
 * so a misspelt or snake_case option is an error rather than silently
 * ignored). Returns the options.
 */
function checkAliasArgs<O extends object>(
  fn: string,
  learningRate: unknown,
  options: O | undefined,
  known: readonly (keyof O & string)[],
): O {
  checkScalarOrSchedule(fn, 'learningRate', learningRate as ScalarOrSchedule);
  return checkOptions(fn, options, known);
}

function checkOptions<O extends object>(fn: string, options: O | undefined, known: readonly (keyof O & string)[]): O {
  if (options === undefined) return {} as O;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${fn}: the options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new Error(`${fn}: unknown option \`${key}\`; the options are ${known.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
  return options;
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

/** Options of {@link adam} and {@link nadam}. */
export interface AdamOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the second moment (default 0.999). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: number;
  /** Added to the second moment inside the square root (default 0). */
  epsRoot?: number;
  /** Nesterov momentum (NAdam) (default false for `adam`, true for `nadam`). */
  nesterov?: boolean;
}

const ADAM_KEYS = ['b1', 'b2', 'eps', 'epsRoot', 'nesterov'] as const;

/** The state of {@link adam} and {@link nadam}: `[scaleByAdam's state, scaleByLearningRate's state]`. */
export type AdamState = [ScaleByAdamState, ScaleByLearningRateState];

/** The state of {@link adamw} and {@link nadamw}: `[scaleByAdam's, addDecayedWeights', scaleByLearningRate's]`. */
export type AdamwState = [ScaleByAdamState, unknown, ScaleByLearningRateState];

function adamLike(
  fn: string,
  learningRate: ScalarOrSchedule,
  options: AdamOptions | undefined,
  nesterov: boolean,
): GradientTransformation<AdamState> {
  const o = checkAliasArgs(fn, learningRate, options, ADAM_KEYS);
  return chain(
    scaleByAdam({ b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.epsRoot, nesterov: o.nesterov ?? nesterov }),
    scaleByLearningRate(learningRate),
  );
}

/**
 * Adam: `chain(scaleByAdam(...), scaleByLearningRate(learningRate))`, i.e.
 * `u = -lr · m̂ / (sqrt(v̂ + epsRoot) + eps)` with bias-corrected moments.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false`.
 * Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015); optax `adam`.
 */
export function adam(learningRate: ScalarOrSchedule, options?: AdamOptions): GradientTransformation<AdamState> {
  return adamLike('adam', learningRate, options, false);
}

/**
 * NAdam: {@link adam} with Nesterov momentum (`nesterov` defaults to true), so
 * `m̂ = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)`.
 * Reference: Dozat, "Incorporating Nesterov Momentum into Adam" (2016); optax `nadam`.
 */
export function nadam(learningRate: ScalarOrSchedule, options?: AdamOptions): GradientTransformation<AdamState> {
  return adamLike('nadam', learningRate, options, true);
}

/** Options of {@link adamw} and {@link nadamw}. */
export interface AdamwOptions extends AdamOptions {
  /** Decoupled weight decay, multiplied by the learning rate (default 1e-4); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay: a tree of booleans (or a prefix of the params' tree), or a function of the params returning one. Default: all. */
  mask?: Mask;
}

const ADAMW_KEYS = [...ADAM_KEYS, 'weightDecay', 'mask'] as const;

function adamwLike(
  fn: string,
  learningRate: ScalarOrSchedule,
  options: AdamwOptions | undefined,
  nesterov: boolean,
): GradientTransformation<AdamwState> {
  const o = checkAliasArgs(fn, learningRate, options, ADAMW_KEYS);
  return chain(
    scaleByAdam({ b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.epsRoot, nesterov: o.nesterov ?? nesterov }),
    addDecayedWeights(o.weightDecay ?? 1e-4, { mask: o.mask ?? undefined }),
    scaleByLearningRate(learningRate),
  );
}

/**
 * AdamW: Adam with decoupled weight decay,
 * `chain(scaleByAdam(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`,
 * so `u = -lr · (m̂ / (sqrt(v̂ + epsRoot) + eps) + weightDecay · p)`.
 * Defaults as {@link adam}, and `weightDecay = 1e-4`, no mask.
 * Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019); optax `adamw`.
 */
export function adamw(learningRate: ScalarOrSchedule, options?: AdamwOptions): GradientTransformation<AdamwState> {
  return adamwLike('adamw', learningRate, options, false);
}

/**
 * NAdamW: {@link adamw} with Nesterov momentum (`nesterov` defaults to true).
 * Reference: Dozat (2016), Loshchilov & Hutter (2019); optax `nadamw`.
 */
export function nadamw(learningRate: ScalarOrSchedule, options?: AdamwOptions): GradientTransformation<AdamwState> {
  return adamwLike('nadamw', learningRate, options, true);
}

/** Options of {@link amsgrad}. */
export interface AmsgradOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the second moment (default 0.999). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: number;
  /** Added to the second moment inside the square root (default 0). */
  epsRoot?: number;
  /** Divide the first moment by `1 - b1^t` (default true). */
  biasCorrectionMu?: boolean;
  /** Bias-correct the second moment (default true). */
  biasCorrectionNu?: boolean;
  /**
   * `'optax'` (default) keeps the running maximum of the bias-corrected second
   * moment, as optax does; `'torch'` keeps the maximum of the raw second moment
   * and bias-corrects it afterwards, as `torch.optim.Adam(amsgrad=True)` does.
   */
  mode?: 'optax' | 'torch';
}

/**
 * AMSGrad: Adam with the running maximum of the second moment in the
 * denominator, `chain(scaleByAMSGrad(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0`, both bias corrections on, `mode = 'optax'`.
 * Reference: Reddi et al., "On the Convergence of Adam and Beyond" (2018); optax `amsgrad`.
 */
export function amsgrad(learningRate: ScalarOrSchedule, options?: AmsgradOptions): GradientTransformation {
  const o = checkAliasArgs('amsgrad', learningRate, options, [
    'b1',
    'b2',
    'eps',
    'epsRoot',
    'biasCorrectionMu',
    'biasCorrectionNu',
    'mode',
  ]);
  return chain(
    scaleByAMSGrad({
      b1: o.b1,
      b2: o.b2,
      eps: o.eps,
      epsRoot: o.epsRoot,
      biasCorrectionMu: o.biasCorrectionMu,
      biasCorrectionNu: o.biasCorrectionNu,
      mode: o.mode,
    }),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link adamax}. */
export interface AdamaxOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the infinity norm (default 0.999). */
  b2?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
}

/**
 * AdaMax: Adam with the infinity norm, `chain(scaleByAdamax(...), scaleByLearningRate(lr))`,
 * `u = -lr · m̂ / (max(b2 v, |g|) + eps)`. Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8`.
 * Reference: Kingma & Ba (2015), section 7; optax `adamax`.
 */
export function adamax(learningRate: ScalarOrSchedule, options?: AdamaxOptions): GradientTransformation {
  const o = checkAliasArgs('adamax', learningRate, options, ['b1', 'b2', 'eps']);
  return chain(scaleByAdamax({ b1: o.b1, b2: o.b2, eps: o.eps }), scaleByLearningRate(learningRate));
}

/** Options of {@link adamaxw}. */
export interface AdamaxwOptions extends AdamaxOptions {
  /** Decoupled weight decay, multiplied by the learning rate (default 1e-4); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  mask?: Mask;
}

/**
 * AdaMax with decoupled weight decay:
 * `chain(scaleByAdamax(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`.
 * Defaults as {@link adamax}, and `weightDecay = 1e-4`.
 * Reference: Kingma & Ba (2015); Loshchilov & Hutter (2019); optax `adamaxw`.
 */
export function adamaxw(learningRate: ScalarOrSchedule, options?: AdamaxwOptions): GradientTransformation {
  const o = checkAliasArgs('adamaxw', learningRate, options, ['b1', 'b2', 'eps', 'weightDecay', 'mask']);
  return chain(
    scaleByAdamax({ b1: o.b1, b2: o.b2, eps: o.eps }),
    addDecayedWeights(o.weightDecay ?? 1e-4, { mask: o.mask ?? undefined }),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link radam}. */
export interface RadamOptions extends AdamOptions {
  /** Use the rectified update only once the SMA length `rho_t` exceeds this (default 5). */
  threshold?: number;
}

/**
 * RAdam: Adam with a rectified variance estimate (plain momentum SGD while the
 * estimate is unreliable), `chain(scaleByRAdam(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, threshold = 5, nesterov = false`.
 * Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (2020); optax `radam`.
 */
export function radam(learningRate: ScalarOrSchedule, options?: RadamOptions): GradientTransformation {
  const o = checkAliasArgs('radam', learningRate, options, [...ADAM_KEYS, 'threshold']);
  return chain(
    scaleByRAdam({ b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.epsRoot, threshold: o.threshold, nesterov: o.nesterov }),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link adabelief}. */
export interface AdabeliefOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the second moment of the prediction error (default 0.999). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-16). */
  eps?: number;
  /** Added to the second moment inside the square root (default 1e-16). */
  epsRoot?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
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

/**
 * AdaBelief: Adam whose second moment tracks `(g - m)²`, the "belief" in the
 * gradient, `chain(scaleByBelief(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-16, epsRoot = 1e-16, nesterov = false`,
 * no weight decay. `weightDecay` (with `weightDecayMask`) is a gradtx
 * extension: it adds `addDecayedWeights(weightDecay, { mask })` before the
 * learning rate.
 * Reference: Zhuang et al., "AdaBelief Optimizer" (2020); optax `adabelief`.
 */
export function adabelief(learningRate: ScalarOrSchedule, options?: AdabeliefOptions): GradientTransformation {
  const o = checkAliasArgs('adabelief', learningRate, options, [
    'b1',
    'b2',
    'eps',
    'epsRoot',
    'nesterov',
    'weightDecay',
    'weightDecayMask',
  ]);
  const belief = scaleByBelief({ b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.epsRoot, nesterov: o.nesterov });
  if (o.weightDecay === undefined) return chain(belief, scaleByLearningRate(learningRate));
  return chain(belief, addDecayedWeights(o.weightDecay, { mask: o.weightDecayMask ?? undefined }), scaleByLearningRate(learningRate));
}

/** Options of {@link yogi}. */
export interface YogiOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Rate of the additive second-moment update (default 0.999). */
  b2?: number;
  /** Added to the denominator (default 1e-3). */
  eps?: number;
}

/**
 * Yogi: Adam with an additive, sign-controlled second-moment update,
 * `chain(scaleByYogi(...), scaleByLearningRate(lr))`. Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-3`.
 * Reference: Zaheer et al., "Adaptive Methods for Nonconvex Optimization" (2018); optax `yogi`.
 */
export function yogi(learningRate: ScalarOrSchedule, options?: YogiOptions): GradientTransformation {
  const o = checkAliasArgs('yogi', learningRate, options, ['b1', 'b2', 'eps']);
  return chain(scaleByYogi({ b1: o.b1, b2: o.b2, eps: o.eps }), scaleByLearningRate(learningRate));
}

/** Options of {@link novograd}. */
export interface NovogradOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the per-layer second moment (default 0.25). */
  b2?: number;
  /** Added to the denominator (default 1e-6). */
  eps?: number;
  /** Added inside the square root (default 0). */
  epsRoot?: number;
  /** Weight decay added to the normalized gradient (default 0). */
  weightDecay?: number;
}

/**
 * NovoGrad: layer-wise normalized gradients with momentum,
 * `chain(scaleByNovograd(...), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.25, eps = 1e-6, epsRoot = 0, weightDecay = 0`.
 * Reference: Ginsburg et al., "Stochastic Gradient Methods with Layer-wise Adaptive Moments" (2019); optax `novograd`.
 */
export function novograd(learningRate: ScalarOrSchedule, options?: NovogradOptions): GradientTransformation {
  const o = checkAliasArgs('novograd', learningRate, options, ['b1', 'b2', 'eps', 'epsRoot', 'weightDecay']);
  return chain(
    scaleByNovograd({ b1: o.b1, b2: o.b2, eps: o.eps ?? 1e-6, epsRoot: o.epsRoot, weightDecay: o.weightDecay }),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link lion}. */
export interface LionOptions {
  /** Interpolation between momentum and gradient for the update's sign (default 0.9). */
  b1?: number;
  /** Decay of the momentum (default 0.99). */
  b2?: number;
  /** Decoupled weight decay (default 1e-3); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  mask?: Mask;
}

/**
 * Lion: the sign of an interpolated momentum, with decoupled weight decay,
 * `chain(scaleByLion(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.99, weightDecay = 1e-3`.
 * Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms" (2023); optax `lion`.
 */
export function lion(learningRate: ScalarOrSchedule, options?: LionOptions): GradientTransformation {
  const o = checkAliasArgs('lion', learningRate, options, ['b1', 'b2', 'weightDecay', 'mask']);
  return chain(
    scaleByLion({ b1: o.b1, b2: o.b2 }),
    addDecayedWeights(o.weightDecay ?? 1e-3, { mask: o.mask ?? undefined }),
    scaleByLearningRate(learningRate),
  );
}

// ---------------------------------------------------------------------------
// Trust-ratio optimizers

/** Options of {@link lamb}. */
export interface LambOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the second moment (default 0.999). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-6). */
  eps?: number;
  /** Added to the second moment inside the square root (default 0). */
  epsRoot?: number;
  /** Weight decay added before the trust ratio (default 0); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  mask?: Mask;
}

/**
 * LAMB: Adam with weight decay, rescaled per parameter by the trust ratio
 * `‖p‖ / ‖u‖`: `chain(scaleByAdam(...), addDecayedWeights(weightDecay, { mask }),
 * scaleByTrustRatio(), scaleByLearningRate(lr))`.
 * Defaults `b1 = 0.9, b2 = 0.999, eps = 1e-6, epsRoot = 0, weightDecay = 0`.
 * Reference: You et al., "Large Batch Optimization for Deep Learning" (2020); optax `lamb`.
 */
export function lamb(learningRate: ScalarOrSchedule, options?: LambOptions): GradientTransformation {
  const o = checkAliasArgs('lamb', learningRate, options, ['b1', 'b2', 'eps', 'epsRoot', 'weightDecay', 'mask']);
  return chain(
    scaleByAdam({ b1: o.b1, b2: o.b2, eps: o.eps ?? 1e-6, epsRoot: o.epsRoot }),
    addDecayedWeights(o.weightDecay ?? 0, { mask: o.mask ?? undefined }),
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

/**
 * LARS: SGD with momentum where each parameter's step is rescaled by the
 * trust ratio: `chain(addDecayedWeights(weightDecay, { mask: weightDecayMask }),
 * masked(scaleByTrustRatio({ trustCoefficient, eps }), trustRatioMask),
 * scaleByLearningRate(lr), trace({ decay: momentum, nesterov }))`.
 * Defaults `weightDecay = 0, trustCoefficient = 1e-3, eps = 0, momentum = 0.9, nesterov = false`, both masks `true`.
 * Reference: You et al., "Large Batch Training of Convolutional Networks" (2017); optax `lars`.
 */
export function lars(learningRate: ScalarOrSchedule, options?: LarsOptions): GradientTransformation {
  const o = checkAliasArgs('lars', learningRate, options, [
    'weightDecay',
    'weightDecayMask',
    'trustCoefficient',
    'eps',
    'trustRatioMask',
    'momentum',
    'nesterov',
  ]);
  return chain(
    addDecayedWeights(o.weightDecay ?? 0, { mask: o.weightDecayMask ?? true }),
    masked(scaleByTrustRatio({ trustCoefficient: o.trustCoefficient ?? 1e-3, eps: o.eps ?? 0 }), o.trustRatioMask ?? true),
    scaleByLearningRate(learningRate),
    trace({ decay: o.momentum ?? 0.9, nesterov: o.nesterov ?? false }),
  );
}

/** Options of {@link fromage}. */
export interface FromageOptions {
  /** Lower bound of the norms in the trust ratio (default 1e-6). */
  minNorm?: number;
}

/**
 * Fromage: a trust-ratio step followed by shrinking the params towards zero,
 * with `mult = 1 / sqrt(1 + lr²)`: `chain(scaleByTrustRatio({ minNorm }),
 * scaleByLearningRate(lr · mult), addDecayedWeights(mult - 1))` (a schedule is
 * applied per step). Default `minNorm = 1e-6`.
 * Reference: Bernstein et al., "On the distance between two neural networks and the stability of learning" (2020); optax `fromage`.
 */
export function fromage(learningRate: ScalarOrSchedule, options?: FromageOptions): GradientTransformation {
  const o = checkAliasArgs('fromage', learningRate, options, ['minNorm']);
  const trust = scaleByTrustRatio({ minNorm: o.minNorm ?? 1e-6 });
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

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Momentum of a {@link trace} applied before the learning rate; none when left out (the default). */
  momentum?: number | null;
  /** Nesterov momentum (default false; only used with `momentum`). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent, optionally with (Nesterov) momentum:
 * `chain(trace({ decay: momentum, nesterov }), scaleByLearningRate(lr))`, the
 * trace only when `momentum` is given (otherwise `identity()`).
 * Reference: Robbins & Monro (1951); Sutskever et al. (2013); optax `sgd`.
 */
export function sgd(learningRate: ScalarOrSchedule, options?: SgdOptions): GradientTransformation {
  const o = checkAliasArgs('sgd', learningRate, options, ['momentum', 'nesterov']);
  const momentum =
    o.momentum === undefined || o.momentum === null ? identity() : trace({ decay: o.momentum, nesterov: o.nesterov ?? false });
  return chain(momentum, scaleByLearningRate(learningRate));
}

/**
 * signSGD: steps by the sign of the gradient, `chain(scaleBySign(), scaleByLearningRate(lr))`.
 * Reference: Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex Problems" (2018); optax `sign_sgd`.
 */
export function signSgd(learningRate: ScalarOrSchedule): GradientTransformation {
  checkScalarOrSchedule('signSgd', 'learningRate', learningRate);
  return chain(scaleBySign(), scaleByLearningRate(learningRate));
}

/** Options of {@link signum}. */
export interface SignumOptions {
  /** Decay of the (not debiased) momentum whose sign is taken (default 0.9). */
  beta?: number;
}

/**
 * Signum: steps by the sign of a momentum,
 * `chain(ema(beta, { debias: false }), scaleBySign(), scaleByLearningRate(lr))`. Default `beta = 0.9`.
 * Reference: Bernstein et al. (2018); optax `signum`.
 */
export function signum(learningRate: ScalarOrSchedule, options?: SignumOptions): GradientTransformation {
  const o = checkAliasArgs('signum', learningRate, options, ['beta']);
  return chain(ema(o.beta ?? 0.9, { debias: false }), scaleBySign(), scaleByLearningRate(learningRate));
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

/**
 * SGD with annealed Gaussian gradient noise,
 * `chain(addNoise(eta, gamma, key), scaleByLearningRate(lr))`.
 * Defaults `eta = 0.01, gamma = 0.55, key = 0`. The noise comes from tfjs's
 * generator, so it is not the same sample as optax's for the same key.
 * Reference: Neelakantan et al., "Adding Gradient Noise Improves Learning for Very Deep Networks" (2015); optax `noisy_sgd`.
 */
export function noisySgd(learningRate: ScalarOrSchedule, options?: NoisySgdOptions): GradientTransformation {
  const o = checkAliasArgs('noisySgd', learningRate, options, ['eta', 'gamma', 'key']);
  return chain(addNoise(o.eta ?? 0.01, o.gamma ?? 0.55, o.key ?? 0), scaleByLearningRate(learningRate));
}

/** Options of {@link optimisticGradientDescent}. */
export interface OptimisticGradientDescentOptions {
  /** Coefficient of the generalized optimistic step (default 1). */
  alpha?: number;
  /** Coefficient of the negative momentum (default 1). */
  beta?: number;
}

/**
 * Optimistic gradient descent, for min-max games: `u = -lr · ((alpha + beta) g_t - beta g_{t-1})`,
 * `chain(scaleByOptimisticGradient({ alpha, beta }), scaleByLearningRate(lr))`. Defaults `alpha = 1, beta = 1`.
 * Reference: Mokhtari et al., "A Unified Analysis of Extra-gradient and Optimistic Gradient Methods" (2019); optax `optimistic_gradient_descent`.
 */
export function optimisticGradientDescent(
  learningRate: ScalarOrSchedule,
  options?: OptimisticGradientDescentOptions,
): GradientTransformation {
  const o = checkAliasArgs('optimisticGradientDescent', learningRate, options, ['alpha', 'beta']);
  return chain(scaleByOptimisticGradient({ alpha: o.alpha ?? 1, beta: o.beta ?? 1 }), scaleByLearningRate(learningRate));
}

// ---------------------------------------------------------------------------
// RMSProp / Adagrad family

/** Options of {@link rmsprop}. */
export interface RmspropOptions {
  /** Decay of the second moment (default 0.9). */
  decay?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Initial value of the second moment (default 0). */
  initialScale?: number;
  /** Add `eps` inside the square root (default true) rather than outside. */
  epsInSqrt?: boolean;
  /** Divide by the standard deviation (centered RMSProp) rather than the RMS (default false). */
  centered?: boolean;
  /** Momentum of a {@link trace} applied after the learning rate; none when left out (the default). */
  momentum?: number | null;
  /** Nesterov momentum (default false; only used with `momentum`). */
  nesterov?: boolean;
  /** Debias the moments (default false). */
  biasCorrection?: boolean;
}

/**
 * RMSProp: `chain(scaleByRms(...) | scaleByStddev(...) when centered,
 * scaleByLearningRate(lr), trace({ decay: momentum, nesterov }) | identity())`.
 * Defaults `decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true,
 * centered = false, momentum = none, nesterov = false, biasCorrection = false`.
 * Reference: Hinton, Lecture 6.5 of "Neural Networks for Machine Learning" (2012); Graves (2013); optax `rmsprop`.
 */
export function rmsprop(learningRate: ScalarOrSchedule, options?: RmspropOptions): GradientTransformation {
  const o = checkAliasArgs('rmsprop', learningRate, options, [
    'decay',
    'eps',
    'initialScale',
    'epsInSqrt',
    'centered',
    'momentum',
    'nesterov',
    'biasCorrection',
  ]);
  const rmsOptions = { decay: o.decay, eps: o.eps, initialScale: o.initialScale, epsInSqrt: o.epsInSqrt, biasCorrection: o.biasCorrection };
  return chain(
    o.centered ? scaleByStddev(rmsOptions) : scaleByRms(rmsOptions),
    scaleByLearningRate(learningRate),
    o.momentum === undefined || o.momentum === null ? identity() : trace({ decay: o.momentum, nesterov: o.nesterov ?? false }),
  );
}

/** Options of {@link adagrad}. */
export interface AdagradOptions {
  /** Initial value of the sum of squared gradients (default 0.1). */
  initialAccumulatorValue?: number;
  /** Added to the denominator (default 1e-7). */
  eps?: number;
}

/**
 * Adagrad: divides by the root of the running sum of squared gradients,
 * `chain(scaleByRss({ initialAccumulatorValue, eps }), scaleByLearningRate(lr))`.
 * Defaults `initialAccumulatorValue = 0.1, eps = 1e-7`.
 * Reference: Duchi et al., "Adaptive Subgradient Methods" (2011); optax `adagrad`.
 */
export function adagrad(learningRate: ScalarOrSchedule, options?: AdagradOptions): GradientTransformation {
  const o = checkAliasArgs('adagrad', learningRate, options, ['initialAccumulatorValue', 'eps']);
  return chain(
    scaleByRss({ initialAccumulatorValue: o.initialAccumulatorValue ?? 0.1, eps: o.eps ?? 1e-7 }),
    scaleByLearningRate(learningRate),
  );
}

/** Options of {@link adadelta}. */
export interface AdadeltaOptions {
  /** Decay of the squared gradients and squared updates (default 0.9). */
  rho?: number;
  /** Added inside both square roots (default 1e-6). */
  eps?: number;
  /** Weight decay added to the gradient first (default 0); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  weightDecayMask?: Mask;
}

/**
 * Adadelta: `chain(addDecayedWeights(weightDecay, { mask: weightDecayMask }),
 * scaleByAdadelta({ rho, eps }), scaleByLearningRate(lr))`. With no learning
 * rate (`undefined` or `null`, optax's `None`) the last step is `identity()`,
 * as in optax: the updates are then `scaleByAdadelta`'s output, not negated,
 * so `applyUpdates` ascends; pass a learning rate (e.g. 1) to descend. Defaults `rho = 0.9, eps = 1e-6, weightDecay = 0`.
 * Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012); optax `adadelta`.
 */
export function adadelta(learningRate?: ScalarOrSchedule | null, options?: AdadeltaOptions): GradientTransformation {
  const o = checkOptions('adadelta', options, ['rho', 'eps', 'weightDecay', 'weightDecayMask']);
  return chain(
    addDecayedWeights(o.weightDecay ?? 0, { mask: o.weightDecayMask ?? undefined }),
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
 */
export function adafactor(learningRate?: ScalarOrSchedule | null, options?: AdafactorOptions): GradientTransformation {
  const fn = 'adafactor';
  const o = checkOptions(fn, options, [
    'minDimSizeToFactor',
    'decayRate',
    'decayOffset',
    'multiplyByParameterScale',
    'clippingThreshold',
    'momentum',
    'weightDecayRate',
    'eps',
    'factored',
    'weightDecayMask',
  ]);
  const txs: GradientTransformation[] = [
    scaleByFactoredRms({
      factored: o.factored ?? true,
      decayRate: o.decayRate ?? 0.8,
      stepOffset: o.decayOffset ?? 0,
      minDimSizeToFactor: o.minDimSizeToFactor ?? 128,
      epsilon: o.eps ?? 1e-30,
    }),
  ];
  const clippingThreshold = o.clippingThreshold === undefined ? 1 : o.clippingThreshold;
  if (clippingThreshold !== null) txs.push(clipByBlockRms(clippingThreshold));
  const lr = optionalLearningRate(fn, learningRate, false);
  if (lr) txs.push(lr);
  if (o.multiplyByParameterScale ?? true) txs.push(scaleByParamBlockRms());
  if (o.momentum !== undefined && o.momentum !== null) txs.push(ema(o.momentum, { debias: false }));
  if (o.weightDecayRate !== undefined && o.weightDecayRate !== null) {
    txs.push(addDecayedWeights(o.weightDecayRate, { mask: o.weightDecayMask ?? undefined }));
  }
  txs.push(scale(-1));
  return chain(...txs);
}

/** Options of {@link sm3}. */
export interface Sm3Options {
  /** Decay of the momentum (optax's `b1` of `scale_by_sm3`) (default 0.9). */
  momentum?: number;
}

/**
 * SM3: memory-efficient adaptive steps from per-dimension accumulators,
 * `chain(scaleBySm3({ b1: momentum }), scale(-lr))`. Default `momentum = 0.9`.
 * optax takes a constant learning rate here; gradtx also accepts a schedule
 * (then the last step is `scaleByLearningRate(lr)`).
 * Reference: Anil et al., "Memory-Efficient Adaptive Optimization" (2019); optax `sm3`.
 */
export function sm3(learningRate: ScalarOrSchedule, options?: Sm3Options): GradientTransformation {
  const o = checkAliasArgs('sm3', learningRate, options, ['momentum']);
  return chain(scaleBySm3({ b1: o.momentum ?? 0.9 }), scaleByLearningRate(learningRate));
}

/** Options of {@link rprop}. */
export interface RpropOptions {
  /** Step-size factor after a sign change (default 0.5). */
  etaMinus?: number;
  /** Step-size factor while the sign is kept (default 1.2). */
  etaPlus?: number;
  /** Smallest step size (default 1e-6). */
  minStepSize?: number;
  /** Largest step size (default 50). */
  maxStepSize?: number;
}

/**
 * Rprop: per-element step sizes grown while the gradient's sign holds and
 * shrunk when it flips; `learningRate` is the initial step size.
 * `chain(scaleByRprop(learningRate, {...}), scale(-1))`.
 * Defaults `etaMinus = 0.5, etaPlus = 1.2, minStepSize = 1e-6, maxStepSize = 50`.
 * Reference: Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP Algorithm" (1993); optax `rprop`.
 */
export function rprop(learningRate: number, options?: RpropOptions): GradientTransformation {
  checkNonNegative('rprop', 'learningRate', learningRate);
  const o = checkOptions('rprop', options, ['etaMinus', 'etaPlus', 'minStepSize', 'maxStepSize']);
  return chain(
    scaleByRprop(learningRate, { etaMinus: o.etaMinus, etaPlus: o.etaPlus, minStepSize: o.minStepSize, maxStepSize: o.maxStepSize }),
    scale(-1),
  );
}
