/**
 * MADGRAD: `scaleByMadgrad` and `madgrad` (optax `contrib.scale_by_madgrad`,
 * `contrib.madgrad`).
 *
 * @module
 */
import {
  addDecayedWeights,
  chain,
  checkDecay,
  checkFinite,
  checkNonNegative,
  checkScalarOrSchedule,
  checkScheduleValue,
  type ElementwiseState,
  elementwise,
  f32,
  type GradientTransformation,
  type Ops,
  resolveOptions,
  type ScalarOrSchedule,
} from './core-api.js';

/** Options of {@link scaleByMadgrad}. */
export interface ScaleByMadgradOptions {
  /** Weight of the current params against the dual average (default 0.9), in [0, 1). */
  momentum?: number;
  /** Added to the learning rate and to the cube root of the accumulator (default 1e-6), ≥ 0. */
  eps?: number;
}

const DEFAULTS: Required<ScaleByMadgradOptions> = { momentum: 0.9, eps: 1e-6 };

/**
 * `cbrt(x)` for `x ≥ 0` from the per-element ops: `exp(log(x) / 3)` refined by
 * one Newton step, `y ← (2y + x / y²) / 3`, which brings it to float32
 * rounding; 0 at 0.
 */
function cbrtOf<V>(m: Ops<V>, x: V): V {
  const y = m.exp(m.div(m.log(x), m.c(3)));
  const refined = m.div(m.add(m.mul(m.c(2), y), m.div(x, m.square(y))), m.c(3));
  return m.select(m.gt(x, m.c(0)), refined, x);
}

/**
 * Rescales updates by MADGRAD (momentumized, adaptive, dual-averaged
 * gradient): a dual average of the gradients weighted by
 * `lambda = (lr + eps) sqrt(count + 1)`, divided by the cube root of the
 * weighted sum of squared gradients, and mixed into the params with momentum.
 * It returns the whole step, learning rate included: `u = x_new - p`.
 *
 * $$
 * G \leftarrow G + \lambda_t g^2, \qquad s \leftarrow s + \lambda_t g, \qquad z = x_0 - \frac{s}{\sqrt[3]{G} + \epsilon}, \qquad u = (1 - \beta)\, z + \beta p - p
 * $$
 *
 * ```
 * G = G + lambda g²            s = s + lambda g
 * z = x0 - s / (cbrt(G) + eps)
 * u = ((1 - momentum) z + momentum p) - p
 * ```
 * `x0` is a copy of the params at `init`.
 *
 * State `{ count, gradSumSq, s, x0 }`. Defaults: `momentum = 0.9, eps = 1e-6`.
 * Needs `params`. Element-wise: fuses on every backend. Reference: Defazio &
 * Jelassi, "Adaptivity without Compromise: A Momentumized, Adaptive, Dual
 * Averaged Gradient Method for Stochastic Optimization" (2021); optax
 * `contrib.scale_by_madgrad`.
 */
export function scaleByMadgrad(learningRate: ScalarOrSchedule, options?: ScaleByMadgradOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByMadgrad';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, DEFAULTS);
  const momentum = checkDecay(fn, 'momentum', o.momentum);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  // optax: lr + eps is a double for a constant lr, a float32 sum for a schedule's float32 value
  const lrStable = (count: number): number =>
    typeof learningRate === 'function'
      ? f32(f32(checkScheduleValue(fn, 'learningRate', learningRate(count), count)) + f32(eps))
      : f32(learningRate + eps);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'gradSumSq', init: 0 },
      { name: 's', init: 0 },
      { name: 'x0', init: 'params' },
    ],
    counted: true,
    needsParams: true,
    scalars: (count) => ({
      lambda: f32(lrStable(count) * f32(Math.sqrt(count + 1))),
      eps,
      momentum,
      omm: f32(1 - momentum),
    }),
    body(m, { u, p, gradSumSq, s, x0 }, k) {
      const g2 = m.add(gradSumSq, m.mul(k.lambda, m.square(u)));
      const s1 = m.add(s, m.mul(k.lambda, u));
      const z = m.sub(x0, m.div(s1, m.add(cbrtOf(m, g2), k.eps)));
      const xNew = m.add(m.mul(k.omm, z), m.mul(k.momentum, p));
      return { u: m.sub(xNew, p), gradSumSq: g2, s: s1 };
    },
  });
}

/** Options of {@link madgrad}: those of {@link scaleByMadgrad} and weight decay. */
export interface MadgradOptions extends ScaleByMadgradOptions {
  /** Weight decay added to the gradient before MADGRAD (default 0), a finite number. */
  weightDecay?: number;
}

const ALIAS_DEFAULTS: Required<MadgradOptions> = { ...DEFAULTS, weightDecay: 0 };

/**
 * MADGRAD as an optimizer: `chain(addDecayedWeights(weightDecay), scaleByMadgrad(learningRate, { momentum, eps }))`
 * (the decay is added to the gradient, before MADGRAD). Defaults:
 * `momentum = 0.9, weightDecay = 0, eps = 1e-6`. Fuses. Reference: Defazio &
 * Jelassi (2021); optax `contrib.madgrad`.
 *
 * $$
 * \tilde g = g + \lambda p, \qquad z = x_0 - \frac{\sum_k \lambda_k \tilde g_k}{\sqrt[3]{\sum_k \lambda_k \tilde g_k^2} + \epsilon}, \qquad u = (1 - \beta)\, z + \beta p - p
 * $$
 */
export function madgrad(learningRate: ScalarOrSchedule, options?: MadgradOptions): GradientTransformation {
  const fn = 'madgrad';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const { weightDecay, ...rest } = resolveOptions(fn, options, ALIAS_DEFAULTS);
  return chain(addDecayedWeights(checkFinite(fn, 'weightDecay', weightDecay)), scaleByMadgrad(learningRate, rest));
}
