/**
 * Simplified AdEMAMix: `scaleBySimplifiedAdemamix` and `simplifiedAdemamix`
 * (optax `contrib.scale_by_simplified_ademamix`, `contrib.simplified_ademamix`).
 *
 * @module
 */

import { scaledWithDecay, type WeightDecayOptions } from './alias.js';
import {
  biasCorrection,
  checkFinite,
  checkScheduleValue,
  type ElementwiseState,
  elementwise,
  f32,
  type GradientTransformation,
  resolveOptions,
  resolveScalar,
  type ScalarOrSchedule,
} from './core-api.js';
import { checkMomentHyperparams, momentScalars, rootDenominator } from './moment-options.js';

/** Options of {@link scaleBySimplifiedAdemamix}. */
export interface ScaleBySimplifiedAdemamixOptions {
  /** Decay of the (unnormalised) momentum (default 0.99), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.95), in [0, 1). */
  b2?: number;
  /** Weight of the current gradient added to the momentum (default 0), or a schedule. */
  alpha?: ScalarOrSchedule;
  /** Added to the denominator outside the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Added to the second moment inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
}

const DEFAULTS: Required<ScaleBySimplifiedAdemamixOptions> = { b1: 0.99, b2: 0.95, alpha: 0, eps: 1e-8, epsRoot: 0 };

/**
 * Rescales updates by simplified AdEMAMix: one momentum that sums (not
 * averages) past gradients, plus `alpha` times the current gradient, over
 * Adam's bias-corrected second moment.
 *
 * $$
 * m \leftarrow g + b_1 m, \qquad n \leftarrow (1 - b_2)\, g^2 + b_2 n, \qquad u = \frac{m + \alpha g}{\sqrt{n / (1 - b_2^t) + \epsilon_{\mathrm{root}}} + \epsilon}
 * $$
 *
 * With `t = count + 1`:
 * ```
 * m = g + b1 m                    n = g² + b2 (n - g²)      (= (1 - b2) g² + b2 n)
 * u = (m + alpha g) / (sqrt(n / (1 - b2^t) + epsRoot) + eps)
 * ```
 * `alpha = 0` is Adam up to a rescaling of the learning rate and `b1`.
 *
 * State `{ count, m, n }`. Defaults: `b1 = 0.99, b2 = 0.95, alpha = 0,
 * eps = 1e-8, epsRoot = 0`. Element-wise: fuses on every backend. Reference:
 * Morwani et al., "Connections between Schedule-Free Optimizers, AdEMAMix,
 * and Accelerated SGD Variants" (2025); optax
 * `contrib.scale_by_simplified_ademamix`.
 */
export function scaleBySimplifiedAdemamix(options?: ScaleBySimplifiedAdemamixOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleBySimplifiedAdemamix';
  const o = resolveOptions(fn, options, DEFAULTS);
  const h = checkMomentHyperparams(fn, o);
  const alpha = typeof o.alpha === 'function' ? o.alpha : checkFinite(fn, 'alpha', o.alpha);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'm', init: 0 },
      { name: 'n', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => ({
      ...momentScalars(h),
      alpha: f32(checkScheduleValue(fn, 'alpha', resolveScalar(alpha, count), count)),
      bc2: biasCorrection(h.b2, count + 1),
    }),
    body(mo, { u, m, n }, k) {
      const g2 = mo.square(u);
      const m1 = mo.add(u, mo.mul(k.b1, m));
      const n1 = mo.add(g2, mo.mul(k.b2, mo.sub(n, g2)));
      return { u: mo.div(mo.add(m1, mo.mul(k.alpha, u)), rootDenominator(mo, n1, k)), m: m1, n: n1 };
    },
  });
}

/** Options of {@link simplifiedAdemamix}: those of {@link scaleBySimplifiedAdemamix} and weight decay. */
export type SimplifiedAdemamixOptions = ScaleBySimplifiedAdemamixOptions & WeightDecayOptions;

const ALIAS_DEFAULTS: SimplifiedAdemamixOptions = { ...DEFAULTS, weightDecay: 0, mask: null };

/**
 * Simplified AdEMAMix as an optimizer: `chain(scaleBySimplifiedAdemamix(...),
 * addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(learningRate))`.
 * Defaults as {@link scaleBySimplifiedAdemamix}, and `weightDecay = 0`. Fuses.
 * Reference: Morwani et al. (2025); optax `contrib.simplified_ademamix`.
 *
 * $$
 * u = -\eta \left( \frac{m + \alpha g}{\sqrt{n / (1 - b_2^t) + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p \right), \qquad m \leftarrow g + b_1 m
 * $$
 */
export function simplifiedAdemamix(learningRate: ScalarOrSchedule, options?: SimplifiedAdemamixOptions): GradientTransformation {
  return scaledWithDecay('simplifiedAdemamix', learningRate, options, ALIAS_DEFAULTS, scaleBySimplifiedAdemamix);
}
