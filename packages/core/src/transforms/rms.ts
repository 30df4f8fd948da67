/**
 * Root-mean-square scaling: `scaleByRms` (RMSProp), `scaleByStddev`
 * (centered RMSProp) and `scaleByRss` (Adagrad) (optax `transform.py`).
 *
 * @module
 */

import { type GradientTransformation, type ParamsTree, safeIncrement } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { updateMoment } from '../lang/moments.js';
import { biasCorrection, f32, type Ops } from '../lang/spec.js';
import { checkBoolean, checkDecay, checkNonNegative, type OptionDefaults, resolveOptions } from '../validate.js';

/** Options of {@link scaleByRms}. */
export interface ScaleByRmsOptions {
  /** Decay of the moving average of squared updates (default 0.9), in [0, 1). */
  decay?: number;
  /** Added to the denominator for numerical stability (default 1e-8), ≥ 0. */
  eps?: number;
  /** Initial value of the second moment `nu` (default 0), ≥ 0. */
  initialScale?: number;
  /** Add `eps` inside the square root (default true) rather than after it. */
  epsInSqrt?: boolean;
  /** Divide the second moment by `1 - decay^t` (default false); the state then keeps a `count`. */
  biasCorrection?: boolean;
}

/** The defaults of {@link scaleByRms}'s options (`undefined`: no default). */
export const scaleByRmsDefaults: OptionDefaults<ScaleByRmsOptions> = Object.freeze({
  decay: 0.9,
  eps: 1e-8,
  initialScale: 0,
  epsInSqrt: true,
  biasCorrection: false,
});

/** The state of {@link scaleByRms} (optax's `ScaleByRmsState`). */
export interface ScaleByRmsState {
  /** The number of updates so far (with `biasCorrection` only). */
  count?: number;
  /** The EMA of the squared updates, a tree with the params' structure. */
  nu: ParamsTree;
}

/**
 * Rescales updates by the root of an exponential moving average of their squares.
 *
 * $$
 * \nu \leftarrow (1 - \rho)\, g^2 + \rho \nu, \qquad u = \frac{g}{\sqrt{\nu + \epsilon}}
 * $$
 *
 * With `t = count + 1`:
 * ```
 * nu = (1 - decay) g² + decay nu       nû = nu / (1 - decay^t)   (only with biasCorrection)
 * u  = g / sqrt(nû + eps)               (epsInSqrt)
 * u  = g / (sqrt(nû) + eps)             (otherwise)
 * ```
 * State `{ nu }`, or `{ count, nu }` with `biasCorrection`. Defaults:
 * `decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true, biasCorrection = false`.
 * Reference: Hinton, "Lecture 6.5 - RMSProp" (Coursera, 2012); optax `scale_by_rms`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(scaleByRms({ decay: 0.9 }), scaleByLearningRate(1e-3)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function scaleByRms(options: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> {
  const fn = 'scaleByRms';
  const o = resolveOptions(fn, options, scaleByRmsDefaults);
  const r = checkRmsOptions(fn, o);
  return elementwise({
    name: fn,
    key: rmsKey(fn, r),
    slots: [{ name: 'nu', init: r.initialScale }],
    counted: r.debias,
    needsParams: false,
    scalars: (count) => rmsScalars(r, count),
    body(m, { u, nu }, k) {
      const nu1 = updateMoment(m, u, nu, k.decay, k.omd, 2);
      const nuHat = r.debias ? m.div(nu1, k.bc) : nu1;
      const scaling = inverseRoot(m, nuHat, k.eps, r.epsInSqrt);
      return { u: m.mul(scaling, u), nu: nu1 };
    },
  });
}

/** Options of {@link scaleByStddev}. */
export interface ScaleByStddevOptions {
  /** Decay of the moving averages of updates and squared updates (default 0.9), in [0, 1). */
  decay?: number;
  /** Added to the denominator for numerical stability (default 1e-8), ≥ 0. */
  eps?: number;
  /** Initial value of the second moment `nu` (default 0), ≥ 0. */
  initialScale?: number;
  /** Add `eps` inside the square root (default true) rather than after it. */
  epsInSqrt?: boolean;
  /** Divide both moments by `1 - decay^t` (default false); the state then keeps a `count`. */
  biasCorrection?: boolean;
}

/** The defaults of {@link scaleByStddev}'s options (`undefined`: no default). */
export const scaleByStddevDefaults: OptionDefaults<ScaleByStddevOptions> = Object.freeze({
  decay: 0.9,
  eps: 1e-8,
  initialScale: 0,
  epsInSqrt: true,
  biasCorrection: false,
});

/**
 * Rescales updates by the root of the centered (variance-like) moving average
 * of their squares.
 *
 * $$
 * \mu \leftarrow (1 - \rho)\, g + \rho \mu, \qquad \nu \leftarrow (1 - \rho)\, g^2 + \rho \nu, \qquad u = \frac{g}{\sqrt{\nu - \mu^2 + \epsilon}}
 * $$
 *
 * With `t = count + 1`:
 * ```
 * mu = (1 - decay) g + decay mu        nu = (1 - decay) g² + decay nu
 * mû = mu / (1 - decay^t)              nû = nu / (1 - decay^t)   (only with biasCorrection)
 * u  = g / sqrt(nû - mû² + eps)        (epsInSqrt)
 * u  = g / (sqrt(nû - mû²) + eps)      (otherwise)
 * ```
 * State `{ mu, nu }`, or `{ count, mu, nu }` with `biasCorrection`. Defaults:
 * `decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true, biasCorrection = false`.
 * Reference: Graves, "Generating Sequences With Recurrent Neural Networks"
 * (2013); optax `scale_by_stddev`.
 */
export function scaleByStddev(options: ScaleByStddevOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByStddev';
  const o = resolveOptions(fn, options, scaleByStddevDefaults);
  const r = checkRmsOptions(fn, o);
  return elementwise({
    name: fn,
    key: rmsKey(fn, r),
    slots: [
      { name: 'mu', init: 0 },
      { name: 'nu', init: r.initialScale },
    ],
    counted: r.debias,
    needsParams: false,
    scalars: (count) => rmsScalars(r, count),
    body(m, { u, mu, nu }, k) {
      const mu1 = updateMoment(m, u, mu, k.decay, k.omd);
      const nu1 = updateMoment(m, u, nu, k.decay, k.omd, 2);
      const muHat = r.debias ? m.div(mu1, k.bc) : mu1;
      const nuHat = r.debias ? m.div(nu1, k.bc) : nu1;
      const variance = m.sub(nuHat, m.square(muHat));
      const scaling = inverseRoot(m, variance, k.eps, r.epsInSqrt);
      return { u: m.mul(scaling, u), mu: mu1, nu: nu1 };
    },
  });
}

/** Options of {@link scaleByRss}. */
export interface ScaleByRssOptions {
  /** Initial value of the accumulated sum of squares (default 0.1), ≥ 0. */
  initialAccumulatorValue?: number;
  /** Added inside the square root for numerical stability (default 1e-7), ≥ 0. */
  eps?: number;
}

/** The defaults of {@link scaleByRss}'s options (`undefined`: no default). */
export const scaleByRssDefaults: OptionDefaults<ScaleByRssOptions> = Object.freeze({ initialAccumulatorValue: 0.1, eps: 1e-7 });

/** The state of {@link scaleByRss} (optax's `ScaleByRssState`). */
export interface ScaleByRssState {
  /** The sum of the squared updates so far, a tree with the params' structure. */
  sumOfSquares: ParamsTree;
}

/**
 * Rescales updates by the root of the sum of all squared updates so far
 * (Adagrad's preconditioner):
 * $$
 * s \leftarrow s + g^2, \qquad u = \begin{cases} \dfrac{g}{\sqrt{s + \epsilon}} & s > 0 \\ 0 & \text{otherwise} \end{cases}
 * $$
 * State `{ sumOfSquares }`. Defaults: `initialAccumulatorValue = 0.1, eps = 1e-7`.
 * Reference: Duchi et al., "Adaptive Subgradient Methods for Online Learning
 * and Stochastic Optimization" (2011); optax `scale_by_rss`.
 */
export function scaleByRss(options: ScaleByRssOptions = {}): GradientTransformation<ScaleByRssState> {
  const fn = 'scaleByRss';
  const o = resolveOptions(fn, options, scaleByRssDefaults);
  const initial = checkNonNegative(fn, 'initialAccumulatorValue', o.initialAccumulatorValue);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  return elementwise({
    name: fn,
    key: fn,
    slots: [{ name: 'sumOfSquares', init: initial }],
    counted: false,
    needsParams: false,
    scalars: () => ({ eps }),
    body(m, { u, sumOfSquares }, k) {
      const s = m.add(m.square(u), sumOfSquares);
      const scaling = m.select(m.gt(s, m.c(0)), m.div(m.c(1), m.sqrt(m.add(s, k.eps))), m.c(0));
      return { u: m.mul(scaling, u), sumOfSquares: s };
    },
  });
}

/** The options {@link scaleByRms} and {@link scaleByStddev} share, checked in order and named. */
function checkRmsOptions(fn: string, o: Required<ScaleByRmsOptions>) {
  return {
    decay: checkDecay(fn, 'decay', o.decay),
    eps: checkNonNegative(fn, 'eps', o.eps),
    initialScale: checkNonNegative(fn, 'initialScale', o.initialScale),
    epsInSqrt: checkBoolean(fn, 'epsInSqrt', o.epsInSqrt),
    debias: checkBoolean(fn, 'biasCorrection', o.biasCorrection),
  };
}

type RmsOptions = ReturnType<typeof checkRmsOptions>;

/** The kernel key of a root-mean-square transform: where `eps` goes and whether it debiases. */
function rmsKey(fn: string, r: RmsOptions): string {
  return `${fn}/${r.epsInSqrt ? 'inSqrt' : 'outSqrt'}/${r.debias ? 'debias' : 'raw'}`;
}

/** The per-step scalars: the decay, `1 - decay`, the bias correction `1 - decay^t` (1 without debiasing) and `eps`. */
function rmsScalars(r: RmsOptions, count: number) {
  return {
    decay: r.decay,
    omd: f32(1 - r.decay),
    bc: r.debias ? biasCorrection(r.decay, safeIncrement(count)) : 1,
    eps: r.eps,
  };
}

/** `1 / sqrt(x + eps)` with `epsInSqrt`, else `1 / (sqrt(x) + eps)`. */
function inverseRoot<V>(m: Ops<V>, x: V, eps: V, epsInSqrt: boolean): V {
  return epsInSqrt ? m.div(m.c(1), m.sqrt(m.add(x, eps))) : m.div(m.c(1), m.add(m.sqrt(x), eps));
}
