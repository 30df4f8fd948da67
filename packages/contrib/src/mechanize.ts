/**
 * Mechanic: `mechanize` (optax `contrib.mechanize`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkStateKeys,
  checkTransformation,
  f32,
  type GradientTransformation,
  type Params,
  requireParams,
  resolveOptions,
  safeIncrement,
  treeFlatten,
  treeMap,
  treeUnflatten,
  type Updates,
} from './core-api.js';
import { treeSumSq, treeVdot } from './tree-math.js';

/** The state of {@link mechanize} (optax `MechanicState`): `r`, `m`, `v`, `s` hold one value per beta. */
export interface MechanicState {
  baseOptimizerState: unknown;
  count: number;
  r: tf.Tensor1D;
  m: tf.Tensor1D;
  v: tf.Tensor1D;
  s: tf.Tensor1D;
  /** A copy of the params at `init`. */
  x0: Params;
}

/** Options of {@link mechanize}. */
export interface MechanizeOptions {
  /** Weight decay of the scale's own gradient (default 1e-2). */
  weightDecay?: number;
  /** Added to denominators (default 1e-8), ≥ 0. */
  eps?: number;
  /** The initial scale per beta (default 1e-6). */
  sInit?: number;
  /** How many betas `1 - 0.1^k`, k = 1…numBetas, the scale is learnt with (default 6), ≥ 1. */
  numBetas?: number;
}

const DEFAULTS: Required<MechanizeOptions> = { weightDecay: 1e-2, eps: 1e-8, sInit: 1e-6, numBetas: 6 };

/**
 * Mechanic: learns a scale for any base optimizer's updates by online
 * learning on the direction `Δ` the base optimizer has moved the params from
 * `x0`, so the base learning rate need not be tuned. The params become
 * `x0 - Σs · Δ`.
 *
 * $$
 * u = \Big( x_0 - \sum_k s_k\, \Delta \Big) - x, \qquad s_k = \frac{s_{\mathrm{init}}\, m_k / K + \max(r_k, 0)}{\sqrt{v_k} + \epsilon}
 * $$
 *
 * With `S = Σ s`, `β_k = 1 - 0.1^k`:
 * ```
 * g' = g + weightDecay · S · |g| / (|x| + eps) · x
 * Δp = (x0 - x) / (S + eps)          Δ = Δp - baseOptimizer(g)          h = <g', Δp>
 * m = max(β m, |h| + eps)            v = β² v + h²          r = β r + clip(h, -m_old, m_old) s
 * s = (sInit / numBetas · m + max(r, 0)) / (sqrt(v) + eps)
 * u = (x0 - Σs · Δ) - x
 * ```
 *
 * State {@link MechanicState}. Defaults: `weightDecay = 1e-2, eps = 1e-8,
 * sInit = 1e-6, numBetas = 6`. Needs `params`. Runs on the reference path
 * (tree-wide norms and inner products feed the scale; the base optimizer
 * runs inside). Reference: Cutkosky, Defazio & Mehta, "Mechanic: A Learning
 * Rate Tuner" (NeurIPS 2023); optax `contrib.mechanize`.
 */
export function mechanize(baseOptimizer: GradientTransformation, options?: MechanizeOptions): GradientTransformation<MechanicState> {
  const fn = 'mechanize';
  checkTransformation(fn, '`baseOptimizer`', baseOptimizer);
  const o = resolveOptions(fn, options, DEFAULTS);
  const wd = checkFinite(fn, 'weightDecay', o.weightDecay);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const sInit = checkFinite(fn, 'sInit', o.sInit);
  const n = checkInteger(fn, 'numBetas', o.numBetas, 1);
  const betas = Array.from({ length: n }, (_, k) => f32(1 - 0.1 ** (k + 1)));
  return {
    init: (params) => ({
      baseOptimizerState: baseOptimizer.init(params),
      count: 0,
      r: tf.zeros([n]),
      m: tf.zeros([n]),
      v: tf.zeros([n]),
      s: tf.fill([n], sInit) as tf.Tensor1D,
      x0: treeMap((p: tf.Tensor) => tf.clone(p), params),
    }),
    update(updates, state, params, extraArgs) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['baseOptimizerState', 'count', 'r', 'm', 'v', 's', 'x0']);
      const [baseUpdates, baseState] = baseOptimizer.update(updates, state.baseOptimizerState, params, extraArgs);
      const [out, next] = tf.tidy(() => {
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const xs = treeFlatten<tf.Tensor>(params).leaves;
        const x0s = state.count === 0 ? xs : treeFlatten<tf.Tensor>(state.x0).leaves;
        const bus = treeFlatten<tf.Tensor>(baseUpdates).leaves;
        const sSum = tf.sum(state.s);
        const coef = tf.div(tf.mul(tf.mul(wd, sSum), tf.sqrt(treeSumSq(gs))), tf.add(tf.sqrt(treeSumSq(xs)), eps));
        const decayed = gs.map((g, i) => tf.add(g, tf.mul(coef, xs[i] as tf.Tensor)));
        const deltaPrev = xs.map((x, i) => tf.div(tf.sub(x0s[i] as tf.Tensor, x), tf.add(sSum, eps)));
        const delta = deltaPrev.map((d, i) => tf.sub(d, bus[i] as tf.Tensor));
        const h = treeVdot(decayed, deltaPrev);
        const b = tf.tensor1d(betas);
        const clipped = tf.minimum(tf.maximum(h, tf.neg(state.m)), state.m);
        const m = tf.maximum(tf.mul(b, state.m), tf.add(tf.abs(h), eps));
        const v = tf.add(tf.mul(tf.square(b), state.v), tf.square(h));
        const r = tf.add(tf.mul(b, state.r), tf.mul(clipped, state.s));
        const wealth = tf.add(tf.mul(sInit / n, m), tf.maximum(0, r));
        const s = tf.div(wealth, tf.add(tf.sqrt(v), eps));
        const total = tf.sum(s);
        const u = x0s.map((x0, i) => tf.sub(tf.sub(x0, tf.mul(total, delta[i] as tf.Tensor)), xs[i] as tf.Tensor));
        const x0 = treeUnflatten<Params>(
          treedef,
          x0s.map((x) => tf.clone(x)),
        );
        return [treeUnflatten<Updates>(treedef, u), { r, m, v, s, x0 }] as never;
      }) as [Updates, Pick<MechanicState, 'r' | 'm' | 'v' | 's' | 'x0'>];
      tf.dispose(baseUpdates as tf.TensorContainer);
      return [out, { baseOptimizerState: baseState, count: safeIncrement(state.count), ...next }];
    },
  };
}
