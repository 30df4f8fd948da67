/**
 * Scaling by norms of the params or the updates: `scaleByTrustRatio`,
 * `scaleByParamBlockNorm`, `scaleByParamBlockRms`, `normalizeByUpdateNorm`
 * (optax `transform.py`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import type { Ops, ReductionSpec } from '../lang/spec.js';
import { checkFinite, checkNonNegative, type OptionDefaults, resolveOptions } from '../validate.js';

/** optax's `safe_norm` / `safe_root_mean_squares` floor: `n <= lo ? lo : n` (NaN stays NaN). */
function floorAt<V>(m: Ops<V>, n: V, lo: V): V {
  return m.select(m.le(n, lo), lo, n);
}

/** Options of {@link scaleByTrustRatio}. */
export interface ScaleByTrustRatioOptions {
  /** Lower bound applied to both the param norm and the update norm (default 0: no bound), ≥ 0. */
  minNorm?: number;
  /** Multiplies the trust ratio (default 1), ≥ 0. */
  trustCoefficient?: number;
  /** Added to the update norm in the denominator (default 0), ≥ 0. */
  eps?: number;
}

/** The defaults of {@link scaleByTrustRatio}'s options (`undefined`: no default). */
export const scaleByTrustRatioDefaults: OptionDefaults<ScaleByTrustRatioOptions> = Object.freeze({
  minNorm: 0,
  trustCoefficient: 1,
  eps: 0,
});

/**
 * Scales each leaf's update by its trust ratio, the ratio of the leaf's param
 * norm to its update norm (LARS, LAMB, Fromage). Per leaf, with l2 norms over
 * the whole leaf floored at `minNorm` (`‖x‖ ≤ minNorm` gives `minNorm`):
 * $$
 * u = \begin{cases} g & \lVert p \rVert = 0 \text{ or } \lVert g \rVert = 0 \\ g\, \dfrac{c\, \lVert p \rVert}{\lVert g \rVert + \epsilon} & \text{otherwise} \end{cases}
 * $$
 *
 * ```
 * ratio = trustCoefficient · ‖p‖ / (‖g‖ + eps)
 * u = g · (‖p‖ = 0 or ‖g‖ = 0 ? 1 : ratio)
 * ```
 * Needs `params`. Stateless (`{}`). Defaults: `minNorm = 0,
 * trustCoefficient = 1, eps = 0`. Reference: You et al., "Large Batch
 * Training of Convolutional Networks" (2017); optax `scale_by_trust_ratio`.
 */
export function scaleByTrustRatio(options: ScaleByTrustRatioOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByTrustRatio';
  const o = resolveOptions(fn, options, scaleByTrustRatioDefaults);
  const minNorm = checkNonNegative(fn, 'minNorm', o.minNorm);
  const trustCoefficient = checkNonNegative(fn, 'trustCoefficient', o.trustCoefficient);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  return elementwise({
    name: fn,
    key: fn,
    slots: [],
    counted: false,
    needsParams: true,
    reductions: [
      { name: 'paramNorm', of: 'p', op: 'l2', scope: 'leaf' },
      { name: 'updateNorm', of: 'u', op: 'l2', scope: 'leaf' },
    ],
    scalars: () => ({ minNorm, trustCoefficient, eps }),
    body(m, { u }, k) {
      const pn = floorAt(m, k.paramNorm, k.minNorm);
      const un = floorAt(m, k.updateNorm, k.minNorm);
      const ratio = m.div(m.mul(k.trustCoefficient, pn), m.add(un, k.eps));
      const zero = m.or(m.eq(pn, m.c(0)), m.eq(un, m.c(0)));
      return { u: m.mul(u, m.select(zero, m.c(1), ratio)) };
    },
  });
}

/** Options of {@link scaleByParamBlockNorm}. */
export interface ScaleByParamBlockNormOptions {
  /** Lower bound on the param norm (default 1e-3), ≥ 0. */
  minScale?: number;
}

/** The defaults of {@link scaleByParamBlockNorm}'s options (`undefined`: no default). */
export const scaleByParamBlockNormDefaults: OptionDefaults<ScaleByParamBlockNormOptions> = Object.freeze({ minScale: 1e-3 });

/**
 * Scales each leaf's update by the l2 norm of that leaf's params:
 * `u = g · (‖p‖ ≤ minScale ? minScale : ‖p‖)`, the norm over the whole leaf.
 * Needs `params`. Stateless (`{}`). Default `minScale = 1e-3`.
 * Reference: optax `scale_by_param_block_norm`.
 *
 * $$
 * u = g\, \max(\lVert p \rVert, s_{\min}), \qquad s_{\min} = \mathrm{minScale}
 * $$
 */
export function scaleByParamBlockNorm(options: ScaleByParamBlockNormOptions = {}): GradientTransformation<ElementwiseState> {
  return scaleByParamBlock(
    'scaleByParamBlockNorm',
    options,
    scaleByParamBlockNormDefaults,
    { name: 'paramNorm', op: 'l2' },
    (_m, norm) => norm,
  );
}

/** Options of {@link scaleByParamBlockRms}. */
export interface ScaleByParamBlockRmsOptions {
  /** Lower bound on the params' root mean square (default 1e-3), ≥ 0. */
  minScale?: number;
}

/** The defaults of {@link scaleByParamBlockRms}'s options (`undefined`: no default). */
export const scaleByParamBlockRmsDefaults: OptionDefaults<ScaleByParamBlockRmsOptions> = Object.freeze({ minScale: 1e-3 });

/**
 * Scales each leaf's update by the root mean square of that leaf's params:
 * `u = g · (rms ≤ minScale ? minScale : rms)` with `rms = sqrt(mean(p²))`
 * over the whole leaf. Needs `params`. Stateless (`{}`). Default
 * `minScale = 1e-3`. Reference: optax `scale_by_param_block_rms`.
 *
 * $$
 * u = g\, \max\!\big(\mathrm{RMS}(p), s_{\min}\big), \qquad \mathrm{RMS}(p) = \sqrt{\operatorname{mean}(p^2)}
 * $$
 */
export function scaleByParamBlockRms(options: ScaleByParamBlockRmsOptions = {}): GradientTransformation<ElementwiseState> {
  return scaleByParamBlock(
    'scaleByParamBlockRms',
    options,
    scaleByParamBlockRmsDefaults,
    { name: 'paramMeanSq', op: 'meanSq' },
    (m, meanSq) => m.sqrt(meanSq),
  );
}

/**
 * The stateless transform behind {@link scaleByParamBlockNorm} and
 * {@link scaleByParamBlockRms}: `u = g · (s ≤ minScale ? minScale : s)` with
 * `s = scaleOf(r)` and `r` the per-leaf reduction `reduction` of the params.
 */
function scaleByParamBlock(
  fn: string,
  options: { minScale?: number },
  defaults: OptionDefaults<{ minScale?: number }>,
  reduction: Pick<ReductionSpec, 'name' | 'op'>,
  scaleOf: <V>(m: Ops<V>, r: V) => V,
): GradientTransformation<ElementwiseState> {
  const o = resolveOptions(fn, options, defaults);
  const minScale = checkNonNegative(fn, 'minScale', o.minScale);
  return elementwise({
    name: fn,
    key: fn,
    slots: [],
    counted: false,
    needsParams: true,
    reductions: [{ ...reduction, of: 'p', scope: 'leaf' }],
    scalars: () => ({ minScale }),
    body: (m, { u }, k) => ({ u: m.mul(u, floorAt(m, scaleOf(m, k[reduction.name]!), k.minScale)) }),
  });
}

/** Options of {@link normalizeByUpdateNorm}. */
export interface NormalizeByUpdateNormOptions {
  /** Multiplies the normalised updates (default 1); may be negative, e.g. -1 for descent. */
  scaleFactor?: number;
  /** Added to the global norm before dividing (default 1e-6), ≥ 0. */
  eps?: number;
}

/** The defaults of {@link normalizeByUpdateNorm}'s options (`undefined`: no default). */
export const normalizeByUpdateNormDefaults: OptionDefaults<NormalizeByUpdateNormOptions> = Object.freeze({ scaleFactor: 1, eps: 1e-6 });

/**
 * Divides the updates by their global l2 norm:
 * `u = g / ((‖g‖ + eps) / scaleFactor)`, the norm over every element of every
 * leaf. Stateless (`{}`). Defaults: `scaleFactor = 1, eps = 1e-6`.
 * Reference: optax `normalize_by_update_norm`.
 *
 * $$
 * u = \frac{s\, g}{\lVert g \rVert + \epsilon}, \qquad s = \mathrm{scaleFactor}
 * $$
 */
export function normalizeByUpdateNorm(options: NormalizeByUpdateNormOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'normalizeByUpdateNorm';
  const o = resolveOptions(fn, options, normalizeByUpdateNormDefaults);
  const scaleFactor = checkFinite(fn, 'scaleFactor', o.scaleFactor);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  return elementwise({
    name: fn,
    key: fn,
    slots: [],
    counted: false,
    needsParams: false,
    reductions: [{ name: 'updateNorm', of: 'u', op: 'l2', scope: 'global' }],
    scalars: () => ({ scaleFactor, eps }),
    body: (m, { u }, k) => ({ u: m.div(u, m.div(m.add(k.updateNorm, k.eps), k.scaleFactor)) }),
  });
}
