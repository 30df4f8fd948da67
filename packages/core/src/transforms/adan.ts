/**
 * Adan: `scaleByAdan` and the `adan` optimizer (optax `scale_by_adan`, `adan`).
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import type { Mask } from '../combinators/masked.js';
import { chain } from '../combine.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { biasCorrection, f32 } from '../lang/spec.js';
import { checkDecay, checkNonNegative, checkScalarOrSchedule, type OptionDefaults, optionsFor, resolveOptions } from '../validate.js';
import { addDecayedWeights } from './decay.js';
import { scaleByLearningRate } from './scaling.js';

/** Options of {@link scaleByAdan}. */
export interface ScaleByAdanOptions {
  /** Decay of the gradient's moving average (default 0.98), in [0, 1). */
  b1?: number;
  /** Decay of the moving average of gradient differences (default 0.92), in [0, 1). */
  b2?: number;
  /** Decay of the squared term's moving average (default 0.99), in [0, 1). */
  b3?: number;
  /** Added to the denominator outside the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Added inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
}

/** The defaults of {@link scaleByAdan}'s options. */
export const scaleByAdanDefaults: OptionDefaults<ScaleByAdanOptions> = Object.freeze({
  b1: 0.98,
  b2: 0.92,
  b3: 0.99,
  eps: 1e-8,
  epsRoot: 0,
});

/**
 * Rescales updates by Adan (adaptive Nesterov momentum), Algorithm 1 of the
 * paper. With `t = count + 1` and `d = g - g_prev` (0 at the first step):
 * $$
 * \begin{aligned}
 * m &\leftarrow (1 - b_1)\, g + b_1 m, \qquad v \leftarrow (1 - b_2)\, d + b_2 v, \qquad n \leftarrow (1 - b_3) \big(g + (1 - b_2)\, d\big)^2 + b_3 n, \\
 * u &= \frac{m / (1 - b_1^t) + (1 - b_2)\, v / (1 - b_2^t)}{\sqrt{n / (1 - b_3^t) + \epsilon_{\mathrm{root}}} + \epsilon}
 * \end{aligned}
 * $$
 * Element-wise: it fuses. State `{ count, m, v, n, g }` (`g` the previous
 * gradient). Defaults `b1 = 0.98, b2 = 0.92, b3 = 0.99, eps = 1e-8,
 * epsRoot = 0`. Reference: Xie et al., "Adan: Adaptive Nesterov Momentum
 * Algorithm for Faster Optimizing Deep Models" (2022); optax `scale_by_adan`.
 */
export function scaleByAdan(options?: ScaleByAdanOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByAdan';
  const o = resolveOptions(fn, options, scaleByAdanDefaults);
  const b1 = checkDecay(fn, 'b1', o.b1);
  const b2 = checkDecay(fn, 'b2', o.b2);
  const b3 = checkDecay(fn, 'b3', o.b3);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const epsRoot = checkNonNegative(fn, 'epsRoot', o.epsRoot);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'm', init: 0 },
      { name: 'v', init: 0 },
      { name: 'n', init: 0 },
      { name: 'g', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => ({
      b1,
      b2,
      b3,
      omb1: f32(1 - b1),
      omb2: f32(1 - b2),
      omb3: f32(1 - b3),
      bc1: biasCorrection(b1, count + 1),
      bc2: biasCorrection(b2, count + 1),
      bc3: biasCorrection(b3, count + 1),
      first: count === 0 ? 1 : 0,
      eps,
      epsRoot,
    }),
    body(m, x, k) {
      const { u } = x;
      const diff = m.select(m.gt(k.first, m.c(0)), m.c(0), m.sub(u, x.g));
      const m1 = m.add(m.mul(k.omb1, u), m.mul(k.b1, x.m));
      const v1 = m.add(m.mul(k.omb2, diff), m.mul(k.b2, x.v));
      const sq = m.add(u, m.mul(k.omb2, diff));
      const n1 = m.add(m.mul(k.omb3, m.square(sq)), m.mul(k.b3, x.n));
      const num = m.add(m.div(m1, k.bc1), m.mul(k.omb2, m.div(v1, k.bc2)));
      const den = m.add(m.sqrt(m.add(m.div(n1, k.bc3), k.epsRoot)), k.eps);
      return { u: m.div(num, den), m: m1, v: v1, n: n1, g: u };
    },
  });
}

/** Options of {@link adan}: those of {@link scaleByAdan} (with `epsRoot` 1e-8 by default) and weight decay. */
export interface AdanOptions extends ScaleByAdanOptions {
  /** Decoupled weight decay (default 0); a number or a schedule. */
  weightDecay?: ScalarOrSchedule;
  /** Which params get weight decay (tree of booleans or a function of the params). Default: all. */
  mask?: Mask;
}

/** The defaults of {@link adan}'s options (`epsRoot` 1e-8, unlike {@link scaleByAdan}). */
export const adanDefaults: OptionDefaults<AdanOptions, 'mask'> = Object.freeze({
  ...scaleByAdanDefaults,
  epsRoot: 1e-8,
  weightDecay: 0,
  mask: undefined,
});

/** The state of {@link adan}: `[scaleByAdan's, addDecayedWeights', scaleByLearningRate's]`. */
export type AdanState = [ElementwiseState, import('./decay.js').AddDecayedWeightsState, import('./scaling.js').ScaleByLearningRateState];

/**
 * Adan: `chain(scaleByAdan(...), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(lr))`.
 * Fuses. Defaults `b1 = 0.98, b2 = 0.92, b3 = 0.99, eps = 1e-8, epsRoot = 1e-8, weightDecay = 0`.
 * Reference: Xie et al. (2022); optax `adan`.
 *
 * $$
 * u = -\eta \left( \frac{\hat m + (1 - b_2)\, \hat v}{\sqrt{\hat n + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p \right)
 * $$
 */
export function adan(learningRate: ScalarOrSchedule, options?: AdanOptions): GradientTransformation<AdanState> {
  const fn = 'adan';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, adanDefaults);
  return chain(
    scaleByAdan(optionsFor(o, scaleByAdanDefaults)),
    addDecayedWeights(o.weightDecay, { mask: o.mask }),
    scaleByLearningRate(learningRate),
  );
}
