/**
 * D-Adaptation AdamW (optax `contrib.dadapt_adamw`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamStepCorrection } from './adam-bias.js';
import {
  checkFinite,
  checkPositive,
  checkScalarOrSchedule,
  checkScheduleValue,
  checkStateKeys,
  type GradientTransformation,
  requireParams,
  resolveOptions,
  resolveScalar,
  type ScalarOrSchedule,
  safeIncrement,
  treeFlatten,
  treeUnflatten,
  treeZerosLike,
  type Updates,
} from './core-api.js';
import { checkBetas } from './decay.js';
import { treeL1, treeVdot } from './tree-math.js';

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
export interface DAdaptAdamWOptions {
  /** `[beta1, beta2]`: decays of the first and second moments (default `[0.9, 0.999]`). */
  betas?: readonly [number, number];
  /** Added to `sqrt(v)` (default 1e-8). */
  eps?: number;
  /** The initial distance estimate `d0` (default 1e-6), > 0. */
  estimLr0?: number;
  /** Weight decay, times `d · lr` (default 0). */
  weightDecay?: number;
}

const DEFAULTS: DAdaptAdamWOptions = { betas: [0.9, 0.999], eps: 1e-8, estimLr0: 1e-6, weightDecay: 0 };

/**
 * D-Adaptation AdamW: AdamW whose step size `d` is a lower bound on the
 * distance to the solution, estimated from the gradients, so the learning
 * rate (default 1) need not be tuned.
 *
 * With `t = count + 1`, `sb2 = sqrt(b2)`, `dlr = d · lr(count) · sqrt(1 - b2^t) / (1 - b1^t)`:
 * ```
 * a = <g, s / (sqrt(v) + eps)>                        (from the state before this step)
 * m = b1 m + (1 - b1) dlr g        v = b2 v + (1 - b2) g²        s = sb2 s + (1 - sb2) dlr g
 * r = sb2 r + (1 - sb2) dlr a
 * d = max(d, r / ((1 - sb2) |s|₁))
 * u = -weightDecay dlr x - m / (sqrt(v) + eps)
 * ```
 *
 * State {@link DAdaptAdamWState}. Defaults: `learningRate = 1,
 * betas = [0.9, 0.999], eps = 1e-8, estimLr0 = 1e-6, weightDecay = 0`. Needs
 * `params`. Runs on the reference path: `d` feeds back through the state
 * from tree-wide sums. Reference: Defazio & Mishchenko, "Learning-Rate-Free
 * Learning by D-Adaptation" (ICML 2023); optax `contrib.dadapt_adamw`.
 */
export function dadaptAdamw(learningRate: ScalarOrSchedule = 1, options?: DAdaptAdamWOptions): GradientTransformation<DAdaptAdamWState> {
  const fn = 'dadaptAdamw';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, DEFAULTS);
  const [b1, b2] = checkBetas(fn, o.betas);
  const sb2 = b2 ** 0.5;
  const eps = checkFinite(fn, 'eps', o.eps as number);
  const d0 = checkPositive(fn, 'estimLr0', o.estimLr0 as number);
  const weightDecay = checkFinite(fn, 'weightDecay', o.weightDecay as number);
  const KEYS = ['expAvg', 'expAvgSq', 'gradSum', 'estimLr', 'numeratorWeighted', 'count'];
  return {
    init: (params) => ({
      expAvg: treeZerosLike(params),
      expAvgSq: treeZerosLike(params),
      gradSum: treeZerosLike(params),
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
        const [ps, eas, vs, ss] = [params, state.expAvg, state.expAvgSq, state.gradSum].map(
          (t) => treeFlatten<tf.Tensor>(t).leaves,
        ) as tf.Tensor[][];
        const dlr = tf.mul(tf.mul(state.estimLr, lr), bc);
        const acc = treeVdot(
          gs,
          ss!.map((s, i) => tf.div(s, tf.add(tf.sqrt(vs![i] as tf.Tensor), eps))),
        );
        const m = gs.map((g, i) => tf.add(tf.mul(b1, eas![i] as tf.Tensor), tf.mul(tf.mul(1 - b1, dlr), g)));
        const v = gs.map((g, i) => tf.add(tf.mul(b2, vs![i] as tf.Tensor), tf.mul(tf.mul(1 - b2, g), g)));
        const s = gs.map((g, i) => tf.add(tf.mul(sb2, ss![i] as tf.Tensor), tf.mul(tf.mul(1 - sb2, dlr), g)));
        const r = tf.add(tf.mul(sb2, state.numeratorWeighted), tf.mul(tf.mul(1 - sb2, dlr), acc));
        const dNew = tf.maximum(state.estimLr, tf.div(r, tf.mul(1 - sb2, treeL1(s))));
        const u = m.map((mi, i) => {
          const decay = tf.mul(tf.mul(-weightDecay, dlr), ps![i] as tf.Tensor);
          return tf.sub(decay, tf.div(mi, tf.add(tf.sqrt(v[i] as tf.Tensor), eps)));
        });
        const tree = (xs: tf.Tensor[]) => treeUnflatten<Updates>(treedef, xs);
        const next: DAdaptAdamWState = {
          expAvg: tree(m),
          expAvgSq: tree(v),
          gradSum: tree(s),
          estimLr: dNew as tf.Scalar,
          numeratorWeighted: r as tf.Scalar,
          count: safeIncrement(count),
        };
        return [tree(u), next] as never;
      }) as [Updates, DAdaptAdamWState];
    },
  };
}
