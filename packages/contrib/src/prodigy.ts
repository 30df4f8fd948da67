/**
 * Prodigy (optax `contrib.prodigy`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamStepCorrection } from './adam-bias.js';
import {
  checkBoolean,
  checkDecay,
  checkFinite,
  checkPositive,
  checkScalarOrSchedule,
  checkScheduleValue,
  checkStateKeys,
  type GradientTransformation,
  type Params,
  requireParams,
  resolveOptions,
  resolveScalar,
  type ScalarOrSchedule,
  safeIncrement,
  treeFlatten,
  treeMap,
  treeUnflatten,
  treeZerosLike,
  type Updates,
} from './core-api.js';
import { checkBetas } from './decay.js';
import { treeL1, treeVdot } from './tree-math.js';

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
export interface ProdigyOptions {
  /** `[beta1, beta2]`: decays of the first and second moments (default `[0.9, 0.999]`). */
  betas?: readonly [number, number];
  /** Decay of the estimate's sums (default `sqrt(beta2)`), in [0, 1). */
  beta3?: number | null;
  /** Added to `sqrt(v)`, times `d` (default 1e-8). */
  eps?: number;
  /** The initial distance estimate `d0` (default 1e-6), > 0. */
  estimLr0?: number;
  /** Multiplies the estimate (default 1). */
  estimLrCoef?: number;
  /** Weight decay, times `d · lr` (default 0). */
  weightDecay?: number;
  /** Leave the learning rate out of the gradient sum, to avoid an early overestimate under warmup (default false). */
  safeguardWarmup?: boolean;
}

const DEFAULTS: ProdigyOptions = {
  betas: [0.9, 0.999],
  beta3: null,
  eps: 1e-8,
  estimLr0: 1e-6,
  estimLrCoef: 1,
  weightDecay: 0,
  safeguardWarmup: false,
};

/**
 * Prodigy: Adam whose step size `d` is estimated from the distance travelled
 * from the initial params, so the learning rate (default 1) need not be
 * tuned.
 *
 * With `t = count + 1`, `dlr = d · lr(count) · sqrt(1 - b2^t) / (1 - b1^t)`:
 * ```
 * m = b1 m + (1 - b1) d g          v = b2 v + (1 - b2) (d g)²
 * s = b3 s + dlr d g / d0           (safeguardWarmup: d · d g / d0)
 * r = b3 r + (d / d0) dlr <g, x0 - x>
 * d = max(d, estimLrCoef · r / |s|₁)
 * u = -weightDecay dlr x - dlr m / (sqrt(v) + d eps)        (with the new d)
 * ```
 *
 * State {@link ProdigyState}. Defaults: `learningRate = 1, betas = [0.9, 0.999],
 * beta3 = sqrt(beta2), eps = 1e-8, estimLr0 = 1e-6, estimLrCoef = 1,
 * weightDecay = 0, safeguardWarmup = false`. Needs `params`. Runs on the
 * reference path: the estimate `d` feeds back through the state from the
 * tree-wide sums, so a step is not one element-wise pass. Reference:
 * Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
 * Learner" (ICML 2024); optax `contrib.prodigy`.
 */
export function prodigy(learningRate: ScalarOrSchedule = 1, options?: ProdigyOptions): GradientTransformation<ProdigyState> {
  const fn = 'prodigy';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, DEFAULTS);
  const [b1, b2] = checkBetas(fn, o.betas);
  const b3 = o.beta3 === null || o.beta3 === undefined ? b2 ** 0.5 : checkDecay(fn, 'beta3', o.beta3);
  const eps = checkFinite(fn, 'eps', o.eps as number);
  const d0 = checkPositive(fn, 'estimLr0', o.estimLr0 as number);
  const coef = checkFinite(fn, 'estimLrCoef', o.estimLrCoef as number);
  const weightDecay = checkFinite(fn, 'weightDecay', o.weightDecay as number);
  const safeguard = checkBoolean(fn, 'safeguardWarmup', o.safeguardWarmup);
  const KEYS = ['expAvg', 'expAvgSq', 'gradSum', 'params0', 'estimLr', 'numeratorWeighted', 'count'];
  return {
    init: (params) => ({
      expAvg: treeZerosLike(params),
      expAvgSq: treeZerosLike(params),
      gradSum: treeZerosLike(params),
      params0: treeMap((p: tf.Tensor) => tf.clone(p), params),
      estimLr: tf.scalar(d0),
      numeratorWeighted: tf.scalar(0),
      count: 0,
    }),
    update(updates, state, params) {
      requireParams(fn, params);
      checkStateKeys(fn, state, KEYS);
      const { count } = state;
      const lr = checkScheduleValue(fn, 'learningRate', resolveScalar(learningRate, count), count);
      const bc = adamStepCorrection(b1, b2, count);
      return tf.tidy(() => {
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const [ps, p0s, eas, vs, ss] = [params, state.params0, state.expAvg, state.expAvgSq, state.gradSum].map(
          (t) => treeFlatten<tf.Tensor>(t).leaves,
        ) as tf.Tensor[][];
        const d = state.estimLr;
        const dlr = tf.mul(tf.mul(d, lr), bc);
        const dgs = gs.map((g) => tf.mul(d, g));
        const acc = treeVdot(
          gs,
          p0s!.map((p0, i) => tf.sub(p0, ps![i] as tf.Tensor)),
        );
        const m = dgs.map((dg, i) => tf.add(tf.mul(b1, eas![i] as tf.Tensor), tf.mul(1 - b1, dg)));
        const v = dgs.map((dg, i) => tf.add(tf.mul(b2, vs![i] as tf.Tensor), tf.mul(tf.mul(1 - b2, dg), dg)));
        const sScale = safeguard ? d : dlr;
        const s = dgs.map((dg, i) => tf.add(tf.mul(b3, ss![i] as tf.Tensor), tf.div(tf.mul(sScale, dg), d0)));
        const r = tf.add(tf.mul(b3, state.numeratorWeighted), tf.mul(tf.mul(tf.div(d, d0), dlr), acc));
        const dNew = tf.maximum(d, tf.div(tf.mul(coef, r), treeL1(s)));
        const u = m.map((mi, i) => {
          const decay = tf.mul(tf.mul(-weightDecay, dlr), ps![i] as tf.Tensor);
          return tf.sub(decay, tf.div(tf.mul(dlr, mi), tf.add(tf.sqrt(v[i] as tf.Tensor), tf.mul(dNew, eps))));
        });
        const tree = (xs: tf.Tensor[]) => treeUnflatten<Updates>(treedef, xs);
        const next: ProdigyState = {
          expAvg: tree(m),
          expAvgSq: tree(v),
          gradSum: tree(s),
          params0: tree(p0s!.map((p0) => tf.clone(p0))),
          estimLr: dNew as tf.Scalar,
          numeratorWeighted: r as tf.Scalar,
          count: safeIncrement(count),
        };
        return [tree(u), next] as never;
      }) as [Updates, ProdigyState];
    },
  };
}
