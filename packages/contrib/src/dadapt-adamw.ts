/**
 * D-Adaptation AdamW (optax `contrib.dadapt_adamw`).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { f32, type GradientTransformation, resolveOptions, type ScalarOrSchedule, type Updates } from './core-api.js';
import { DISTANCE_ESTIMATE_DEFAULTS, type DistanceEstimateOptions, decayTerm, distanceEstimate } from './d-adaptation.js';

/** The state of {@link dadaptAdamw} (optax `DAdaptAdamWState`). */
export interface DAdaptAdamWState {
  expAvg: Updates;
  expAvgSq: Updates;
  gradSum: Updates;
  /** The distance estimate `d` (a float32 scalar tensor). */
  estimLr: tf.Scalar;
  /** The running weighted numerator of the estimate (a float32 scalar tensor). */
  numeratorWeighted: tf.Scalar;
  count: number;
}

/** Options of {@link dadaptAdamw}. */
export type DAdaptAdamWOptions = DistanceEstimateOptions;

/**
 * D-Adaptation AdamW: AdamW whose step size `d` is a lower bound on the
 * distance to the solution, estimated from the gradients, so the learning
 * rate (default 1) need not be tuned.
 *
 * With $t = \mathrm{count} + 1$, $\sigma = \sqrt{\beta_2}$ and
 * $d_{lr} = d \cdot lr(\mathrm{count}) \cdot \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$,
 * where $a = \langle g, s / (\sqrt{v} + \epsilon) \rangle$ reads the state before the step:
 * $$
 * \begin{aligned}
 * m &\leftarrow \beta_1 m + (1 - \beta_1)\, d_{lr}\, g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2, \qquad
 * s \leftarrow \sigma s + (1 - \sigma)\, d_{lr}\, g,\\
 * r &\leftarrow \sigma r + (1 - \sigma)\, d_{lr}\, a, \qquad d' = \max\!\big(d,\ r / ((1 - \sigma) \lVert s \rVert_1)\big),\\
 * u &= -\mathrm{weightDecay}\, d_{lr}\, x - m / (\sqrt{v} + \epsilon).
 * \end{aligned}
 * $$
 *
 * State {@link DAdaptAdamWState}. Defaults: `learningRate = 1,
 * betas = [0.9, 0.999], eps = 1e-8, estimLr0 = 1e-6, weightDecay = 0`. Needs
 * `params`. An element-wise spec with scalar state: on cpu and wasm it fuses
 * (one kernel for the two tree-wide sums, one for the step); on WebGPU it
 * runs on the reference path (the estimate would have to be read back each
 * step). Reference: Defazio & Mishchenko, "Learning-Rate-Free Learning by
 * D-Adaptation" (ICML 2023); optax `contrib.dadapt_adamw`.
 */
export function dadaptAdamw(learningRate: ScalarOrSchedule = 1, options?: DAdaptAdamWOptions): GradientTransformation<DAdaptAdamWState> {
  const fn = 'dadaptAdamw';
  const o = resolveOptions(fn, options, DISTANCE_ESTIMATE_DEFAULTS);
  const sb2 = (o.betas as readonly number[])[1] ** 0.5;
  return distanceEstimate(
    {
      fn,
      key: fn,
      extraSlots: [],
      extraScalars: { sb2: f32(sb2), omsb2: f32(1 - sb2) },
      // g · s / (sqrt(v) + eps)
      numeratorTerm: (m, x, k) => m.mul(x.u, m.div(x.gradSum, m.add(m.sqrt(x.expAvgSq), k.eps))),
      gradSum: (m, x, k, dlr) => m.add(m.mul(k.sb2, x.gradSum), m.mul(m.mul(k.omsb2, dlr), x.u)),
      estimate(m, k, dlr) {
        const numerator = m.add(m.mul(k.sb2, k.numeratorWeighted), m.mul(m.mul(k.omsb2, dlr), k.acc));
        return { numerator, candidate: m.div(numerator, m.mul(k.omsb2, k.sNorm)) };
      },
      step(m, x, k, dlr) {
        const expAvg = m.add(m.mul(k.b1, x.expAvg), m.mul(m.mul(k.omb1, dlr), x.u));
        const expAvgSq = m.add(m.mul(k.b2, x.expAvgSq), m.mul(m.mul(k.omb2, x.u), x.u));
        const denom = m.add(m.sqrt(expAvgSq), k.eps);
        return { u: m.sub(decayTerm(m, x.p, k, dlr), m.div(expAvg, denom)), expAvg, expAvgSq };
      },
    },
    learningRate,
    o,
  ) as unknown as GradientTransformation<DAdaptAdamWState>;
}
