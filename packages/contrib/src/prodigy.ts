/**
 * Prodigy (optax `contrib.prodigy`).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  checkBoolean,
  checkDecay,
  checkFinite,
  f32,
  type GradientTransformation,
  type Params,
  resolveOptions,
  type ScalarOrSchedule,
  type Updates,
} from './core-api.js';
import { DISTANCE_ESTIMATE_DEFAULTS, type DistanceEstimateOptions, decayTerm, distanceEstimate } from './d-adaptation.js';

/** The state of {@link prodigy} (optax `ProdigyState`). */
export interface ProdigyState {
  expAvg: Updates;
  expAvgSq: Updates;
  gradSum: Updates;
  /** A copy of the params at `init`. */
  params0: Params;
  /** The distance estimate `d` (a float32 scalar tensor). */
  estimLr: tf.Scalar;
  /** The running weighted numerator of the estimate (a float32 scalar tensor). */
  numeratorWeighted: tf.Scalar;
  count: number;
}

/** Options of {@link prodigy}. */
export interface ProdigyOptions extends DistanceEstimateOptions {
  /** Decay of the estimate's sums (default `sqrt(beta2)`), in [0, 1). */
  beta3?: number | null;
  /** Multiplies the estimate (default 1). */
  estimLrCoef?: number;
  /** Leave the learning rate out of the gradient sum, to avoid an early overestimate under warmup (default false). */
  safeguardWarmup?: boolean;
}

const DEFAULTS: Required<ProdigyOptions> = { ...DISTANCE_ESTIMATE_DEFAULTS, beta3: null, estimLrCoef: 1, safeguardWarmup: false };

/**
 * Prodigy: Adam whose step size `d` is estimated from the distance travelled
 * from the initial params, so the learning rate (default 1) need not be
 * tuned.
 *
 * With $t = \mathrm{count} + 1$ and
 * $d_{lr} = d \cdot lr(\mathrm{count}) \cdot \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$:
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, d g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2)\, (d g)^2,\\
 * s &\leftarrow \beta_3 s + d_{lr}\, d g / d_0 \quad (\text{safeguardWarmup: } d \cdot d g / d_0),\\
 * r &\leftarrow \beta_3 r + (d / d_0)\, d_{lr} \langle g, x_0 - x \rangle, \qquad
 * d' = \max(d,\ \mathrm{estimLrCoef} \cdot r / \lVert s \rVert_1),\\
 * u &= -\mathrm{weightDecay}\, d_{lr}\, x - d_{lr}\, m / (\sqrt{v} + d' \epsilon).
 * \end{aligned}
 * $$
 *
 * State {@link ProdigyState}. Defaults: `learningRate = 1, betas = [0.9, 0.999],
 * beta3 = sqrt(beta2), eps = 1e-8, estimLr0 = 1e-6, estimLrCoef = 1,
 * weightDecay = 0, safeguardWarmup = false`. Needs `params`. An element-wise
 * spec with scalar state: on cpu and wasm it fuses (one kernel for the two
 * tree-wide sums, one for the step); on WebGPU it runs on the reference path
 * (the estimate would have to be read back each step). Reference: Mishchenko
 * & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner"
 * (ICML 2024); optax `contrib.prodigy`.
 */
export function prodigy(learningRate: ScalarOrSchedule = 1, options?: ProdigyOptions): GradientTransformation<ProdigyState> {
  const fn = 'prodigy';
  const o = resolveOptions(fn, options, DEFAULTS);
  const b3 = o.beta3 === null || o.beta3 === undefined ? o.betas[1] ** 0.5 : checkDecay(fn, 'beta3', o.beta3);
  const coef = checkFinite(fn, 'estimLrCoef', o.estimLrCoef);
  const safeguard = checkBoolean(fn, 'safeguardWarmup', o.safeguardWarmup);
  return distanceEstimate(
    {
      fn,
      key: `${fn}:${safeguard ? 'safeguard' : 'plain'}`,
      extraSlots: [{ name: 'params0', init: 'params' }],
      extraScalars: { b3: f32(b3), coef },
      // <g, x0 - x>
      numeratorTerm: (m, x) => m.mul(x.u, m.sub(x.params0, x.p)),
      gradSum: (m, x, k, dlr) => m.add(m.mul(k.b3, x.gradSum), m.div(m.mul(safeguard ? k.estimLr : dlr, m.mul(k.estimLr, x.u)), k.d0)),
      estimate(m, k, dlr) {
        const numerator = m.add(m.mul(k.b3, k.numeratorWeighted), m.mul(m.mul(m.div(k.estimLr, k.d0), dlr), k.acc));
        return { numerator, candidate: m.div(m.mul(k.coef, numerator), k.sNorm) };
      },
      step(m, x, k, dlr) {
        const dg = m.mul(k.estimLr, x.u);
        const expAvg = m.add(m.mul(k.b1, x.expAvg), m.mul(k.omb1, dg));
        const expAvgSq = m.add(m.mul(k.b2, x.expAvgSq), m.mul(m.mul(k.omb2, dg), dg));
        const denom = m.add(m.sqrt(expAvgSq), m.mul(k.dNext, k.eps));
        return { u: m.sub(decayTerm(m, x.p, k, dlr), m.div(m.mul(dlr, expAvg), denom)), expAvg, expAvgSq };
      },
    },
    learningRate,
    o,
  ) as unknown as GradientTransformation<ProdigyState>;
}
