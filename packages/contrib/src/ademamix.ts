/**
 * AdEMAMix: `scaleByAdemamix` and `ademamix` (optax `contrib.scale_by_ademamix`,
 * `contrib.ademamix`).
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
import { checkDecayOrSchedule, decayAt } from './decay.js';
import { checkMomentHyperparams, momentScalars, rootDenominator } from './moment-options.js';

/** Options of {@link scaleByAdemamix}. */
export interface ScaleByAdemamixOptions {
  /** Decay of the fast first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Decay of the slow first moment (default 0.9999), in [0, 1), or a schedule. */
  b3?: ScalarOrSchedule;
  /** Weight of the slow moment in the mixture (default 6 here, 5 in {@link ademamix}), or a schedule. */
  alpha?: ScalarOrSchedule;
  /** Added to the denominator outside the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Added to the second moment inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
}

const DEFAULTS: Required<ScaleByAdemamixOptions> = { b1: 0.9, b2: 0.999, b3: 0.9999, alpha: 6, eps: 1e-8, epsRoot: 0 };

/**
 * Rescales updates by AdEMAMix: Adam whose numerator mixes the bias-corrected
 * fast moment with an uncorrected slow moment of much longer memory.
 *
 * $$
 * m_2 \leftarrow (1 - b_3)\, g + b_3 m_2, \qquad u = \frac{m_1 / (1 - b_1^t) + \alpha\, m_2}{\sqrt{\nu / (1 - b_2^t) + \epsilon_{\mathrm{root}}} + \epsilon}
 * $$
 *
 * With `t = count + 1`:
 * ```
 * m1 = (1 - b1) g + b1 m1        m2 = (1 - b3) g + b3 m2        nu = (1 - b2) g² + b2 nu
 * u  = (m1 / (1 - b1^t) + alpha m2) / (sqrt(nu / (1 - b2^t) + epsRoot) + eps)
 * ```
 * `b3` and `alpha` may be schedules of the count (the paper warms both up).
 *
 * State `{ count, m1, m2, nu }` (optax's `count_m2` always equals `count`).
 * Defaults: `b1 = 0.9, b2 = 0.999, b3 = 0.9999, alpha = 6, eps = 1e-8,
 * epsRoot = 0`. Element-wise: fuses on every backend. Reference: Pagliardini
 * et al., "The AdEMAMix Optimizer: Better, Faster, Older" (2024); optax
 * `contrib.scale_by_ademamix` (`mu_dtype` is not offered: state is float32).
 */
export function scaleByAdemamix(options?: ScaleByAdemamixOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByAdemamix';
  const o = resolveOptions(fn, options, DEFAULTS);
  const h = checkMomentHyperparams(fn, o);
  const b3 = checkDecayOrSchedule(fn, 'b3', o.b3);
  const alpha = typeof o.alpha === 'function' ? o.alpha : checkFinite(fn, 'alpha', o.alpha);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'm1', init: 0 },
      { name: 'm2', init: 0 },
      { name: 'nu', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => {
      const [d3, omb3] = decayAt(fn, 'b3', b3, count);
      return {
        ...momentScalars(h),
        b3: d3,
        omb3,
        alpha: f32(checkScheduleValue(fn, 'alpha', resolveScalar(alpha, count), count)),
        bc1: biasCorrection(h.b1, count + 1),
        bc2: biasCorrection(h.b2, count + 1),
      };
    },
    body(m, { u, m1, m2, nu }, k) {
      const m1n = m.add(m.mul(k.omb1, u), m.mul(k.b1, m1));
      const m2n = m.add(m.mul(k.omb3, u), m.mul(k.b3, m2));
      const nun = m.add(m.mul(k.omb2, m.square(u)), m.mul(k.b2, nu));
      const num = m.add(m.div(m1n, k.bc1), m.mul(k.alpha, m2n));
      return { u: m.div(num, rootDenominator(m, nun, k)), m1: m1n, m2: m2n, nu: nun };
    },
  });
}

/** Options of {@link ademamix}: those of {@link scaleByAdemamix} (with `alpha` defaulting to 5) and weight decay. */
export type AdemamixOptions = ScaleByAdemamixOptions & WeightDecayOptions;

const ALIAS_DEFAULTS: AdemamixOptions = { ...DEFAULTS, alpha: 5, weightDecay: 0, mask: null };

/**
 * AdEMAMix as an optimizer: `chain(scaleByAdemamix(...), addDecayedWeights(weightDecay, { mask }),
 * scaleByLearningRate(learningRate))`. Defaults as {@link scaleByAdemamix} but
 * `alpha = 5`, and `weightDecay = 0`. Fuses. Reference: Pagliardini et al.
 * (2024); optax `contrib.ademamix`.
 *
 * $$
 * u = -\eta \left( \frac{m_1 / (1 - b_1^t) + \alpha\, m_2}{\sqrt{\nu / (1 - b_2^t) + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p \right)
 * $$
 */
export function ademamix(learningRate: ScalarOrSchedule, options?: AdemamixOptions): GradientTransformation {
  return scaledWithDecay('ademamix', learningRate, options, ALIAS_DEFAULTS, scaleByAdemamix);
}
