/**
 * AdaCProp: `scaleByAcprop` and `acprop` (optax `contrib.scale_by_acprop`,
 * `contrib.acprop`).
 *
 * @module
 */
import { scaledWithDecay, type WeightDecayOptions } from './alias.js';
import {
  biasCorrection,
  type ElementwiseState,
  elementwise,
  type GradientTransformation,
  resolveOptions,
  type ScalarOrSchedule,
} from './core-api.js';
import { checkMomentHyperparams, momentScalars } from './moment-options.js';

/** Options of {@link scaleByAcprop}. */
export interface ScaleByAcpropOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second central moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-16), ≥ 0. */
  eps?: number;
  /** Added to the second central moment after each update (default 1e-16), ≥ 0. */
  epsRoot?: number;
}

const DEFAULTS: Required<ScaleByAcpropOptions> = { b1: 0.9, b2: 0.999, eps: 1e-16, epsRoot: 1e-16 };

/**
 * Rescales updates by AdaCProp: the raw gradient over the square root of the
 * *previous* steps' second central moment (the variance of the gradient
 * around its running mean, as in AdaBelief), so the step is independent of
 * the current gradient's size in the denominator.
 *
 * $$
 * u = \frac{g}{\sqrt{s_{\mathrm{prev}} / (1 - b_2^{c})} + \epsilon}, \qquad s \leftarrow (1 - b_2)(g - \mu)^2 + b_2 s + \epsilon_{\mathrm{root}}, \quad c = \mathrm{count}
 * $$
 *
 * With `c = count`:
 * ```
 * s' = c = 0 ? 1 : s / (1 - b2^c)                   (from the state before this step)
 * u  = g / (sqrt(s') + eps)
 * s  = (1 - b2) (g - mu)² + b2 s + epsRoot           mu = (1 - b1) g + b1 mu
 * ```
 * The first update is `g / (1 + eps)`.
 *
 * State `{ count, mu, nu }` (`nu` is `s`). Defaults: `b1 = 0.9, b2 = 0.999,
 * eps = 1e-16, epsRoot = 1e-16`. Element-wise: fuses on every backend.
 * Reference: Zhuang et al., "Momentum Centering and Asynchronous Update for
 * Adaptive Gradient Methods" (NeurIPS 2021); optax `contrib.scale_by_acprop`.
 */
export function scaleByAcprop(options?: ScaleByAcpropOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByAcprop';
  const o = resolveOptions(fn, options, DEFAULTS);
  const h = checkMomentHyperparams(fn, o);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'mu', init: 0 },
      { name: 'nu', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => ({
      ...momentScalars(h),
      initial: count === 0 ? 1 : 0,
      bc2: biasCorrection(h.b2, count === 0 ? 1 : count),
    }),
    body(m, { u, mu, nu }, k) {
      const mu1 = m.add(m.mul(k.omb1, u), m.mul(k.b1, mu));
      const err = m.sub(u, mu);
      const nu1 = m.add(m.add(m.mul(k.omb2, m.square(err)), m.mul(k.b2, nu)), k.epsRoot);
      const nuHat = m.select(m.gt(k.initial, m.c(0)), m.c(1), m.div(nu, k.bc2));
      return { u: m.div(u, m.add(m.sqrt(nuHat), k.eps)), mu: mu1, nu: nu1 };
    },
  });
}

/** Options of {@link acprop}: those of {@link scaleByAcprop} and weight decay. */
export type AcpropOptions = ScaleByAcpropOptions & WeightDecayOptions;

const ALIAS_DEFAULTS: AcpropOptions = { ...DEFAULTS, weightDecay: 0, mask: null };

/**
 * AdaCProp as an optimizer: `chain(scaleByAcprop(...), addDecayedWeights(weightDecay, { mask }),
 * scaleByLearningRate(learningRate))`. Defaults as {@link scaleByAcprop}, and
 * `weightDecay = 0`. Fuses. Reference: Zhuang et al. (2021); optax `contrib.acprop`.
 *
 * $$
 * u = -\eta \left( \frac{g}{\sqrt{\hat s_{\mathrm{prev}}} + \epsilon} + \lambda p \right), \qquad s \leftarrow (1 - b_2)(g - \mu)^2 + b_2 s + \epsilon_{\mathrm{root}}
 * $$
 */
export function acprop(learningRate: ScalarOrSchedule, options?: AcpropOptions): GradientTransformation {
  return scaledWithDecay('acprop', learningRate, options, ALIAS_DEFAULTS, scaleByAcprop);
}
