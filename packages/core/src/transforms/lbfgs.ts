/**
 * L-BFGS: `scaleByLbfgs` and the `lbfgs` optimizer (optax `scale_by_lbfgs`,
 * `lbfgs`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, ScalarOrSchedule, Updates } from '../base.js';
import { chain, identity } from '../combine.js';
import { assertSameShapes, treeFlatten, treeMap, treeUnflatten } from '../tree.js';
import { treeNorm, treeVdot } from '../tree-utils.js';
import {
  checkBoolean,
  checkFloatTree,
  checkInteger,
  checkScalarOrSchedule,
  checkStateKeys,
  checkTransformation,
  type OptionDefaults,
  requireParams,
  resolveOptions,
} from '../validate.js';
import { type ScaleByLearningRateState, scale, scaleByLearningRate } from './scaling.js';
import { scaleByZoomLinesearch } from './zoom-linesearch.js';

/** Options of {@link scaleByLbfgs}. */
export interface ScaleByLbfgsOptions {
  /** How many past (Δparams, Δgradients) pairs are kept (default 10), an integer ≥ 1. */
  memorySize?: number;
  /** Scale the initial inverse-Hessian estimate by `⟨Δg, Δp⟩ / ‖Δg‖²` (default true). */
  scaleInitPrecond?: boolean;
}

/** The state of {@link scaleByLbfgs}: the last params and updates and the memory, stacked along a first axis of size `memorySize`. */
export interface LbfgsState {
  count: number;
  params: Params;
  updates: Updates;
  diffParamsMemory: unknown;
  diffUpdatesMemory: unknown;
  /** `1 / ⟨Δg, Δp⟩` per memory slot (0 where the product is 0), shape `[memorySize]`. */
  weightsMemory: tf.Tensor;
}

/** The defaults of {@link scaleByLbfgs}'s options. */
export const scaleByLbfgsDefaults: OptionDefaults<ScaleByLbfgsOptions> = Object.freeze({ memorySize: 10, scaleInitPrecond: true });

/** `stacked` with row `index` replaced by `row`. */
function setRow(stacked: tf.Tensor, index: number, row: tf.Tensor): tf.Tensor {
  const n = stacked.shape[0] as number;
  const mask = tf.reshape(tf.equal(tf.range(0, n, 1, 'int32'), index), [n, ...row.shape.map(() => 1)]);
  return tf.where(tf.broadcastTo(mask, stacked.shape), tf.broadcastTo(tf.expandDims(row, 0), stacked.shape), stacked);
}

const row = (stacked: tf.Tensor, index: number): tf.Tensor => tf.squeeze(tf.slice(stacked, [index], [1]), [0]);

/**
 * Preconditions the updates by the L-BFGS estimate of the inverse Hessian
 * (the two-loop recursion over the last `memorySize` pairs
 * `Δp_i = p_i - p_{i-1}`, `Δg_i = g_i - g_{i-1}`, `ρ_i = 1 / ⟨Δg_i, Δp_i⟩`):
 * $$
 * u = H_t\, g, \qquad H_t \approx \big(\nabla^2 f(p)\big)^{-1} \text{ from the pairs } (\Delta p_i, \Delta g_i)
 * $$
 *
 * ```
 * q = g;  for i newest→oldest: α_i = ρ_i ⟨Δp_i, q⟩, q -= α_i Δg_i
 * q *= γ  (γ = ⟨Δg, Δp⟩ / ‖Δg‖² of the newest pair; min(1, 1/‖g‖) at the first step; 1 without scaleInitPrecond)
 * for i oldest→newest: β_i = ρ_i ⟨Δg_i, q⟩, q += (α_i - β_i) Δp_i
 * u = q
 * ```
 * The result is a descent direction once negated (`lbfgs` chains a negative
 * scale and a line search). Needs `params`. Does not fuse (inner products
 * over the whole tree): reference path. Defaults `memorySize = 10,
 * scaleInitPrecond = true`. Reference: Nocedal & Wright, "Numerical
 * Optimization" (2006), Algorithm 7.4; optax `scale_by_lbfgs`.
 */
export function scaleByLbfgs(options?: ScaleByLbfgsOptions): GradientTransformation<LbfgsState> {
  const fn = 'scaleByLbfgs';
  const o = resolveOptions(fn, options, scaleByLbfgsDefaults);
  const m = checkInteger(fn, 'memorySize', o.memorySize, 1);
  const scaleInit = checkBoolean(fn, 'scaleInitPrecond', o.scaleInitPrecond);
  return {
    init(params: Params): LbfgsState {
      checkFloatTree(fn, 'params', params);
      return tf.tidy(() => {
        const zeros = () => treeMap((p: tf.Tensor) => tf.zeros(p.shape), params);
        const stacked = () => treeMap((p: tf.Tensor) => tf.zeros([m, ...p.shape]), params);
        return {
          count: 0,
          params: zeros(),
          updates: zeros(),
          diffParamsMemory: stacked(),
          diffUpdatesMemory: stacked(),
          weightsMemory: tf.zeros([m]),
        };
      }) as never;
    },
    update(updates: Updates, state: LbfgsState, params?: Params) {
      checkFloatTree(fn, 'updates', updates);
      requireParams(fn, params);
      checkFloatTree(fn, 'params', params);
      checkStateKeys(fn, state, ['count', 'params', 'updates', 'diffParamsMemory', 'diffUpdatesMemory', 'weightsMemory']);
      assertSameShapes(updates, params, ['updates', 'params']);
      assertSameShapes(params, state.params, ['params', 'state.params']);
      const count = state.count;
      const memoryIdx = count % m;
      const prevIdx = (((count - 1) % m) + m) % m;
      return tf.tidy(() => {
        const first = count === 0;
        const zeroIfFirst = (t: Updates) => (first ? treeMap((x: tf.Tensor) => tf.zerosLike(x), t) : t);
        const dp = zeroIfFirst(treeMap((p: tf.Tensor, q: tf.Tensor) => tf.sub(p, q), params, [state.params]));
        const du = zeroIfFirst(treeMap((u: tf.Tensor, v: tf.Tensor) => tf.sub(u, v), updates, [state.updates]));
        const vdot = treeVdot(du, dp);
        const weight = first ? tf.scalar(0) : tf.where(tf.equal(vdot, 0), tf.scalar(0), tf.div(1, vdot));
        const dpMem = treeMap((s: tf.Tensor, x: tf.Tensor) => setRow(s, prevIdx, x), state.diffParamsMemory, [dp]);
        const duMem = treeMap((s: tf.Tensor, x: tf.Tensor) => setRow(s, prevIdx, x), state.diffUpdatesMemory, [du]);
        const rhos = setRow(state.weightsMemory, prevIdx, weight);
        let gamma: tf.Tensor = tf.scalar(1);
        if (scaleInit) {
          if (first) gamma = tf.minimum(1, tf.div(1, treeNorm(updates)));
          else {
            const denom = treeNorm(du, 2, true);
            gamma = tf.where(tf.greater(denom, 0), tf.div(vdot, denom), tf.scalar(1));
          }
        }
        const { leaves: dpLeaves, treedef } = treeFlatten<tf.Tensor>(dpMem);
        const duLeaves = treeFlatten<tf.Tensor>(duMem).leaves;
        const pairAt = (i: number) => ({
          dw: treeUnflatten<Updates>(
            treedef,
            dpLeaves.map((s) => row(s, i)),
          ),
          du: treeUnflatten<Updates>(
            treedef,
            duLeaves.map((s) => row(s, i)),
          ),
          rho: tf.reshape(tf.slice(rhos, [i], [1]), []),
        });
        const order = Array.from({ length: m }, (_, k) => (memoryIdx + k) % m);
        let vec: Updates = updates;
        const alphas: tf.Tensor[] = [];
        for (let k = m - 1; k >= 0; k--) {
          const { dw, du: dui, rho } = pairAt(order[k] as number);
          const alpha = tf.mul(rho, treeVdot(dw, vec));
          alphas[k] = alpha;
          vec = treeMap((v: tf.Tensor, d: tf.Tensor) => tf.add(v, tf.mul(tf.neg(alpha), d)), vec, [dui]);
        }
        vec = treeMap((v: tf.Tensor) => tf.mul(gamma, v), vec);
        for (let k = 0; k < m; k++) {
          const { dw, du: dui, rho } = pairAt(order[k] as number);
          const beta = tf.mul(rho, treeVdot(dui, vec));
          vec = treeMap((v: tf.Tensor, d: tf.Tensor) => tf.add(v, tf.mul(tf.sub(alphas[k] as tf.Tensor, beta), d)), vec, [dw]);
        }
        const next: LbfgsState = {
          count: count + 1,
          params: treeMap((p: tf.Tensor) => tf.clone(p), params),
          updates: treeMap((u: tf.Tensor) => tf.clone(u), updates),
          diffParamsMemory: dpMem,
          diffUpdatesMemory: duMem,
          weightsMemory: rhos,
        };
        return [vec === updates ? treeMap((u: tf.Tensor) => tf.clone(u), updates) : vec, next] as never;
      });
    },
  };
}

/** Options of {@link lbfgs}. */
export interface LbfgsOptions extends ScaleByLbfgsOptions {
  /**
   * The line search chained last (default
   * `scaleByZoomLinesearch(20, { initialGuessStrategy: 'one' })`);
   * `null` for none.
   */
  linesearch?: GradientTransformation | null;
}

/** The defaults of {@link lbfgs}'s options (`linesearch` unset: the zoom line search). */
export const lbfgsDefaults: OptionDefaults<LbfgsOptions, 'linesearch'> = Object.freeze({ ...scaleByLbfgsDefaults, linesearch: undefined });

/**
 * The state of {@link lbfgs}: `[scaleByLbfgs's state, the learning rate's
 * (scaleByLearningRate's, or scale's without one), the line search's]`; the
 * line search is any transformation, so its state is not known here.
 */
export type LbfgsAliasState = [LbfgsState, ScaleByLearningRateState, unknown];

/**
 * L-BFGS with a line search:
 * `chain(scaleByLbfgs({ memorySize, scaleInitPrecond }), learningRate ? scaleByLearningRate(learningRate) : scale(-1), linesearch)`.
 * Each update needs `params` and the extra arguments `value`, `grad` and
 * `valueFn` (the objective) for the line search:
 * $$
 * u = -\eta_{\mathrm{ls}}\, \mathrm{lr}\; H_t\, g, \qquad H_t \approx \big(\nabla^2 f(p)\big)^{-1}
 * $$
 *
 * ```ts
 * const valueAndGrad = valueAndGradFromState(f);
 * const [value, grad] = valueAndGrad(params, state);
 * const [u, next] = opt.update(grad, state, params, { value, grad, valueFn: f });
 * ```
 * Does not fuse. Defaults `learningRate = none, memorySize = 10,
 * scaleInitPrecond = true`, the zoom line search with 20 steps.
 * Reference: Liu & Nocedal, "On the Limited Memory BFGS Method for Large
 * Scale Optimization" (1989); optax `lbfgs`.
 */
export function lbfgs(learningRate?: ScalarOrSchedule | null, options?: LbfgsOptions): GradientTransformation<LbfgsAliasState> {
  const fn = 'lbfgs';
  const o = resolveOptions(fn, options, lbfgsDefaults);
  if (learningRate !== undefined && learningRate !== null) checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const linesearch =
    o.linesearch === undefined
      ? scaleByZoomLinesearch(20, { initialGuessStrategy: 'one' })
      : o.linesearch === null
        ? identity()
        : o.linesearch;
  checkTransformation(fn, '`linesearch`', linesearch);
  return chain(
    scaleByLbfgs({ memorySize: o.memorySize, scaleInitPrecond: o.scaleInitPrecond }),
    learningRate === undefined || learningRate === null ? scale(-1) : scaleByLearningRate(learningRate),
    linesearch,
  );
}
