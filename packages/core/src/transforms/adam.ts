/**
 * Adam and its close relatives: `scaleByAdam`, `scaleByAMSGrad`,
 * `scaleByAdamax`, `scaleByRAdam` (optax `scale_by_adam`, `scale_by_amsgrad`,
 * `scale_by_adamax`, `scale_by_radam`).
 *
 * @module
 */

import { type Exact, type GradientTransformation, type NoOptions, type ParamsTree, safeIncrement } from '../base.js';
import { elementwise } from '../elementwise.js';
import { adamMoments, adamUpdate, updateMoment } from '../lang/moments.js';
import { biasCorrection, f32 } from '../lang/spec.js';
import { checkBoolean, checkDecay, checkFinite, checkNonNegative, type OptionDefaults, resolveOptions, showValue } from '../validate.js';
import { adamScalars, momentSlots, resolveAdamOptions } from './adam-hyperparams.js';
import {
  type DtypeOf,
  type MomentStorageOptions,
  momentStorageDefaults,
  momentStorages,
  type PackedSlot8,
  type PackedSlot16,
  type WithStorage,
} from './state-dtype.js';

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions extends MomentStorageOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: number;
  /** Added to the second moment inside the square root (default 0). */
  epsRoot?: number;
  /** Use Nesterov momentum, as in NAdam (Dozat 2016) (default false). */
  nesterov?: boolean;
}

/** The state of {@link scaleByAdam} (optax's `ScaleByAdamState`): the step count and the two moments, trees with the params' structure. */
export interface ScaleByAdamState {
  /** The number of updates so far. */
  count: number;
  /** The first moment (the EMA of the updates). */
  mu: ParamsTree;
  /** The second moment (the EMA of the squared updates). */
  nu: ParamsTree;
}

/**
 * {@link ScaleByAdamState} with its moments stored as options `O` say
 * (`muDtype`, `nuDtype`): trees with the params' structure in float32,
 * packed slots ({@link PackedSlot16}, {@link PackedSlot8}) otherwise.
 */
export type ScaleByAdamStateFor<O = NoOptions> = WithStorage<ScaleByAdamState, { mu: DtypeOf<O, 'muDtype'>; nu: DtypeOf<O, 'nuDtype'> }>;

/** The defaults of {@link scaleByAdam}'s options (`undefined`: no default). */
export const scaleByAdamDefaults: OptionDefaults<ScaleByAdamOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  epsRoot: 0,
  nesterov: false,
  ...momentStorageDefaults,
});

/**
 * Rescales updates by Adam's bias-corrected moment estimates.
 *
 * With $t = \mathrm{count} + 1$:
 *
 * $$
 * \begin{aligned}
 * \mu &\leftarrow (1 - b_1)\, g + b_1 \mu, & \nu &\leftarrow (1 - b_2)\, g^2 + b_2 \nu, \\
 * \hat\mu &= \frac{\mu}{1 - b_1^t}, & \hat\nu &= \frac{\nu}{1 - b_2^t}, \\
 * u &= \frac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon}.
 * \end{aligned}
 * $$
 *
 * With `nesterov`, $\hat\mu = \frac{b_1 \mu}{1 - b_1^{t+1}} + \frac{(1 - b_1)\, g}{1 - b_1^t}$.
 *
 * State `{ count, mu, nu }`. Defaults: `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0`.
 * `muDtype` / `nuDtype` keep the moments in bfloat16, float16 or block-wise
 * int8 between steps (4 or about 2 bytes per parameter instead of 8; see
 * {@link MomentStorageOptions}); the update itself runs in float32.
 * Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015);
 * optax `scale_by_adam`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(clipByGlobalNorm(1), scaleByAdam({ b2: 0.99 }), scaleByLearningRate(1e-3)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function scaleByAdam<const O extends ScaleByAdamOptions = NoOptions>(
  options?: Exact<O, ScaleByAdamOptions>,
): GradientTransformation<ScaleByAdamStateFor<O>>;
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamStateFor<ScaleByAdamOptions>> {
  const fn = 'scaleByAdam';
  const { o, storage, hyperparams } = resolveAdamOptions(fn, options, scaleByAdamDefaults);
  const nesterov = checkBoolean(fn, 'nesterov', o.nesterov);
  return elementwise({
    name: fn,
    key: nesterov ? `${fn}/nesterov` : fn,
    slots: momentSlots(storage),
    counted: true,
    needsParams: false,
    scalars: (count) => adamScalars(hyperparams, count + 1, count + 2),
    body(m, { u, mu, nu }, k) {
      const { mu1, nu1, muHat, nuHat } = adamMoments(m, u, mu, nu, k, nesterov);
      return { u: adamUpdate(m, muHat, nuHat, k.eps, k.epsRoot), mu: mu1, nu: nu1 };
    },
  });
}

/** Options of {@link scaleByAMSGrad}. */
export interface ScaleByAMSGradOptions extends MomentStorageOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Added to the running maximum inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
  /**
   * Divide the first moment by `1 - b1^t` (default true). False gives the
   * original AMSGrad paper's update.
   */
  biasCorrectionMu?: boolean;
  /**
   * Divide the second moment by `1 - b2^t` (default true): before the running
   * maximum in `'optax'` mode, after it in `'torch'` mode. False gives the
   * original AMSGrad paper's update (both modes then agree).
   */
  biasCorrectionNu?: boolean;
  /**
   * Which second moment the running maximum is taken over (default
   * `'optax'`): `'optax'` keeps the maximum of the bias-corrected second
   * moment (optax `scale_by_amsgrad`); `'torch'` keeps the maximum of the raw
   * second moment and bias-corrects the maximum (PyTorch
   * `torch.optim.Adam(amsgrad=True)`).
   */
  mode?: 'optax' | 'torch';
}

/** The defaults of {@link scaleByAMSGrad}'s options (`undefined`: no default). */
export const scaleByAMSGradDefaults: OptionDefaults<ScaleByAMSGradOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  epsRoot: 0,
  biasCorrectionMu: true,
  biasCorrectionNu: true,
  mode: 'optax',
  ...momentStorageDefaults,
});

/** The state of {@link scaleByAMSGrad} (optax's `ScaleByAmsgradState`). */
export interface ScaleByAMSGradState {
  /** The number of updates so far. */
  count: number;
  /** The first moment. */
  mu: ParamsTree;
  /** The second moment. */
  nu: ParamsTree;
  /** The running maximum of the second moment. */
  nuMax: ParamsTree;
}

/**
 * {@link ScaleByAMSGradState} with its slots stored as options `O` say: `mu`
 * as `muDtype`, `nu` and `nuMax` as `nuDtype` (float32 trees by default,
 * packed slots otherwise).
 */
export type ScaleByAMSGradStateFor<O = NoOptions> = WithStorage<
  ScaleByAMSGradState,
  { mu: DtypeOf<O, 'muDtype'>; nu: DtypeOf<O, 'nuDtype'>; nuMax: DtypeOf<O, 'nuDtype'> }
>;

/**
 * Rescales updates like Adam, but divides by the running maximum of the
 * second moment rather than the second moment itself, so a coordinate's step
 * size does not grow back when its gradients become small (AMSGrad).
 *
 * $$
 * \hat\nu_{\max} \leftarrow \max\!\Big(\hat\nu_{\max}, \frac{\nu}{1 - b_2^t}\Big), \qquad u = \frac{\mu / (1 - b_1^t)}{\sqrt{\hat\nu_{\max} + \epsilon_{\mathrm{root}}} + \epsilon} \quad (\text{mode } \texttt{'optax'})
 * $$
 *
 * With `t = count + 1`, `bc1 = 1 - b1^t`, `bc2 = 1 - b2^t`:
 * ```
 * mu = (1 - b1) g + b1 mu           nu = (1 - b2) g² + b2 nu
 * 'optax': nuMax = max(nuMax, nu / bc2)     v = nuMax
 * 'torch': nuMax = max(nuMax, nu)           v = nuMax / bc2
 * u = (mu / bc1) / (sqrt(v + epsRoot) + eps)
 * ```
 * The two modes differ once the second moment shrinks: optax compares
 * bias-corrected values, whose correction fades with `t`, while PyTorch keeps
 * the largest raw value and corrects it with the current `t`, so an early
 * large gradient weighs more in `'torch'` mode. `'torch'` mode also computes
 * `bc1` and `bc2` as PyTorch does, in doubles rounded once to float32 (optax,
 * and `'optax'` mode, compute `b^t` in float32).
 * `biasCorrectionMu: false` drops `/ bc1`; `biasCorrectionNu: false` drops
 * `/ bc2`.
 *
 * State `{ count, mu, nu, nuMax }`. Defaults: `b1 = 0.9, b2 = 0.999,
 * eps = 1e-8, epsRoot = 0, biasCorrectionMu = true, biasCorrectionNu = true,
 * mode = 'optax'`. Reference: Reddi et al., "On the Convergence of Adam and
 * Beyond" (2018); optax `scale_by_amsgrad`.
 */
export function scaleByAMSGrad<const O extends ScaleByAMSGradOptions = NoOptions>(
  options?: Exact<O, ScaleByAMSGradOptions>,
): GradientTransformation<ScaleByAMSGradStateFor<O>>;
export function scaleByAMSGrad(options: ScaleByAMSGradOptions = {}): GradientTransformation<ScaleByAMSGradStateFor<ScaleByAMSGradOptions>> {
  const fn = 'scaleByAMSGrad';
  const { o, storage, hyperparams } = resolveAdamOptions(fn, options, scaleByAMSGradDefaults);
  const { b1, b2, eps, epsRoot } = hyperparams;
  const correctMu = checkBoolean(fn, 'biasCorrectionMu', o.biasCorrectionMu);
  const correctNu = checkBoolean(fn, 'biasCorrectionNu', o.biasCorrectionNu);
  const mode = o.mode;
  if (mode !== 'optax' && mode !== 'torch') {
    throw new Error(`${fn}: \`mode\` must be 'optax' or 'torch', got ${showValue(mode)}`);
  }
  return elementwise({
    name: fn,
    key: `${fn}/${mode}`,
    slots: [...momentSlots(storage), { name: 'nuMax', init: 0, storage: storage.nu }],
    counted: true,
    needsParams: false,
    scalars: (count) => {
      const t = safeIncrement(count);
      // optax computes `1 - b^t` in float32; PyTorch in doubles, rounded once.
      const correction = mode === 'optax' ? biasCorrection : (b: number, n: number) => f32(1 - b ** n);
      // A disabled correction divides by exactly 1, which leaves float32 values unchanged.
      return {
        b1,
        b2,
        omb1: f32(1 - b1),
        omb2: f32(1 - b2),
        bc1: correctMu ? correction(b1, t) : 1,
        bc2: correctNu ? correction(b2, t) : 1,
        eps,
        epsRoot,
      };
    },
    body(m, { u, mu, nu, nuMax }, k) {
      const mu1 = updateMoment(m, u, mu, k.b1, k.omb1);
      const nu1 = updateMoment(m, u, nu, k.b2, k.omb2, 2);
      const muHat = m.div(mu1, k.bc1);
      let nuMax1: typeof u;
      let v: typeof u;
      if (mode === 'optax') {
        nuMax1 = m.max(nuMax, m.div(nu1, k.bc2));
        v = nuMax1;
      } else {
        nuMax1 = m.max(nuMax, nu1);
        v = m.div(nuMax1, k.bc2);
      }
      return { u: adamUpdate(m, muHat, v, k.eps, k.epsRoot), mu: mu1, nu: nu1, nuMax: nuMax1 };
    },
  });
}

/** Options of {@link scaleByAdamax}. */
export interface ScaleByAdamaxOptions extends MomentStorageOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the infinity norm (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to `|g|` before the running maximum (default 1e-8), ≥ 0. */
  eps?: number;
}

/** The defaults of {@link scaleByAdamax}'s options (`undefined`: no default). */
export const scaleByAdamaxDefaults: OptionDefaults<ScaleByAdamaxOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  ...momentStorageDefaults,
});

/**
 * Rescales updates by Adamax's estimates: the bias-corrected first moment over
 * an exponentially decaying maximum of `|g|` (Adam with the infinity norm).
 *
 * With `t = count + 1`:
 * $$
 * \mu \leftarrow (1 - b_1)\, g + b_1 \mu, \qquad \nu \leftarrow \max(|g| + \epsilon, b_2 \nu), \qquad u = \frac{\mu / (1 - b_1^t)}{\nu}
 * $$
 * The maximum needs no bias correction. State `{ count, mu, nu }`.
 * Defaults: `b1 = 0.9, b2 = 0.999, eps = 1e-8`. Reference: Kingma & Ba,
 * "Adam: A Method for Stochastic Optimization" (2015), section 7; optax
 * `scale_by_adamax`.
 */
export function scaleByAdamax<const O extends ScaleByAdamaxOptions = NoOptions>(
  options?: Exact<O, ScaleByAdamaxOptions>,
): GradientTransformation<ScaleByAdamStateFor<O>>;
export function scaleByAdamax(options: ScaleByAdamaxOptions = {}): GradientTransformation<ScaleByAdamStateFor<ScaleByAdamaxOptions>> {
  const fn = 'scaleByAdamax';
  const o = resolveOptions(fn, options, scaleByAdamaxDefaults);
  const storage = momentStorages(fn, o);
  const b1 = checkDecay(fn, 'b1', o.b1);
  const b2 = checkDecay(fn, 'b2', o.b2);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  return elementwise({
    name: fn,
    key: fn,
    slots: momentSlots(storage),
    counted: true,
    needsParams: false,
    scalars: (count) => ({
      b1,
      b2,
      omb1: f32(1 - b1),
      bc1: biasCorrection(b1, safeIncrement(count)),
      eps,
    }),
    body(m, { u, mu, nu }, k) {
      const mu1 = updateMoment(m, u, mu, k.b1, k.omb1);
      const nu1 = m.max(m.add(m.abs(u), k.eps), m.mul(k.b2, nu));
      return { u: m.div(m.div(mu1, k.bc1), nu1), mu: mu1, nu: nu1 };
    },
  });
}

/** Options of {@link scaleByRAdam}. */
export interface ScaleByRAdamOptions extends MomentStorageOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Added to the second moment inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
  /**
   * The smallest length `rho` of the approximated simple moving average for
   * which the variance is deemed tractable and the adaptive, rectified step
   * is taken (default 5); below it the step is the bias-corrected momentum.
   */
  threshold?: number;
  /** Use Nesterov momentum for the bias-corrected first moment (default false). */
  nesterov?: boolean;
}

/**
 * `b ** n` for an integer `n ≥ 1` as optax evaluates `b2 ** count` outside a
 * jit (XLA's integer power): square-and-multiply in float32, subnormal results
 * flushed to zero. It can differ from the correctly rounded power by an ulp,
 * which `rho`'s cancellation amplifies, so the same steps are taken here.
 */
function integerPow32(b: number, n: number): number {
  const ftz = (x: number) => (Math.abs(x) < 2 ** -126 ? 0 : x);
  let x = f32(b);
  let acc: number | undefined;
  for (let y = n; y > 0; ) {
    if (y % 2 === 1) acc = acc === undefined ? x : ftz(f32(acc * x));
    y = Math.floor(y / 2);
    if (y > 0) x = ftz(f32(x * x));
  }
  return acc ?? 1;
}

/** RAdam's per-step scalars: `rho` and the rectification term `r`, in float32 arithmetic as optax does. */
function radamScalars(b2: number, t: number, threshold: number): { rho: number; r: number; rectified: number } {
  const rhoInf = 2 / (1 - b2) - 1;
  const b2t = integerPow32(b2, t);
  const rho = f32(f32(rhoInf) - f32(f32(f32(2 * t) * b2t) / f32(1 - b2t)));
  const rectified = rho >= f32(threshold);
  // (rho - 4)(rho - 2) rhoInf / ((rhoInf - 4)(rhoInf - 2) rho): the constant
  // product is a double, every step that involves rho is float32.
  const num = f32(f32(f32(rho - 4) * f32(rho - 2)) * f32(rhoInf));
  const den = f32(f32((rhoInf - 4) * (rhoInf - 2)) * rho);
  const r = f32(Math.sqrt(f32(num / den)));
  return { rho, r: rectified ? r : 0, rectified: rectified ? 1 : 0 };
}

/** The defaults of {@link scaleByRAdam}'s options (`undefined`: no default). */
export const scaleByRAdamDefaults: OptionDefaults<ScaleByRAdamOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  epsRoot: 0,
  threshold: 5,
  nesterov: false,
  ...momentStorageDefaults,
});

/**
 * Rescales updates by Rectified Adam: Adam's step times a rectification term
 * once the variance of the adaptive learning rate is tractable, and the
 * bias-corrected momentum alone before that.
 *
 * $$
 * r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\, \rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\, \rho_t}}, \qquad u = \begin{cases} r_t\, \dfrac{\hat\mu}{\sqrt{\hat\nu + \epsilon_{\mathrm{root}}} + \epsilon} & \rho_t \ge \mathrm{threshold} \\ \hat\mu & \text{otherwise} \end{cases}
 * $$
 *
 * With `t = count + 1`, `rhoInf = 2 / (1 - b2) - 1` and
 * `rho = rhoInf - 2 t b2^t / (1 - b2^t)`:
 * ```
 * mu = (1 - b1) g + b1 mu           nu = (1 - b2) g² + b2 nu
 * mû = mu / (1 - b1^t)               nû = nu / (1 - b2^t)
 * r  = sqrt((rho - 4)(rho - 2) rhoInf / ((rhoInf - 4)(rhoInf - 2) rho))
 * u  = rho >= threshold ? r mû / (sqrt(nû + epsRoot) + eps) : mû
 * ```
 * `rho` and `r` are per-step scalars (float32, as in optax). With `nesterov`,
 * `mû = b1 mu / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)`.
 *
 * State `{ count, mu, nu }`. Defaults: `b1 = 0.9, b2 = 0.999, eps = 1e-8,
 * epsRoot = 0, threshold = 5, nesterov = false`. Reference: Liu et al., "On
 * the Variance of the Adaptive Learning Rate and Beyond" (2020); optax
 * `scale_by_radam`.
 */
export function scaleByRAdam<const O extends ScaleByRAdamOptions = NoOptions>(
  options?: Exact<O, ScaleByRAdamOptions>,
): GradientTransformation<ScaleByAdamStateFor<O>>;
export function scaleByRAdam(options: ScaleByRAdamOptions = {}): GradientTransformation<ScaleByAdamStateFor<ScaleByRAdamOptions>> {
  const fn = 'scaleByRAdam';
  const { o, storage, hyperparams } = resolveAdamOptions(fn, options, scaleByRAdamDefaults);
  const threshold = checkFinite(fn, 'threshold', o.threshold);
  const nesterov = checkBoolean(fn, 'nesterov', o.nesterov);
  return elementwise({
    name: fn,
    key: nesterov ? `${fn}/nesterov` : fn,
    slots: momentSlots(storage),
    counted: true,
    needsParams: false,
    scalars: (count) => {
      const t = safeIncrement(count);
      const { r, rectified } = radamScalars(hyperparams.b2, t, threshold);
      return { ...adamScalars(hyperparams, t, safeIncrement(t)), r, rectified };
    },
    body(m, { u, mu, nu }, k) {
      const { mu1, nu1, muHat, nuHat } = adamMoments(m, u, mu, nu, k, nesterov);
      const adaptive = adamUpdate(m, m.mul(k.r, muHat), nuHat, k.eps, k.epsRoot);
      return { u: m.select(m.gt(k.rectified, m.c(0)), adaptive, muHat), mu: mu1, nu: nu1 };
    },
  });
}
