/**
 * MoMo and MoMo-Adam (optax `contrib.momo`, `contrib.momo_adam`): model-based
 * momentum methods that take the loss value through the update's extra
 * arguments, `tx.update(grads, state, params, { value })`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  biasCorrection,
  checkBoolean,
  checkDecay,
  checkFinite,
  checkNonNegative,
  checkScalarOrSchedule,
  checkScheduleValue,
  checkStateKeys,
  f32,
  type GradientTransformation,
  requireExtra,
  requireParams,
  resolveOptions,
  resolveScalar,
  type ScalarOrSchedule,
  safeIncrement,
  treeFlatten,
  treeUnflatten,
  type UpdateExtras,
  type Updates,
} from './core-api.js';
import { treeSumSq, treeVdot } from './tree-math.js';

/** The state of {@link momo} (optax `MomoState`); {@link momoAdam} adds `expAvgSq`. */
export interface MomoState {
  expAvg: Updates;
  /** The averaged loss `f̄` (float32 scalar tensor). */
  barf: tf.Scalar;
  /** The averaged `<g, x>` (float32 scalar tensor). */
  gamma: tf.Scalar;
  /** The lower bound of the loss in use (float32 scalar tensor). */
  lb: tf.Scalar;
  count: number;
}

/** The state of {@link momoAdam} (optax `MomoAdamState`). */
export interface MomoAdamState extends MomoState {
  expAvgSq: Updates;
}

/** Options shared by {@link momo} and {@link momoAdam}. */
interface MomoCommonOptions {
  /** A lower bound of the loss (default 0). */
  lowerBound?: number;
  /** Weight decay (default 0), ≥ 0. */
  weightDecay?: number;
  /** Raise the lower bound from the observed values as training goes (default false). */
  adaptLowerBound?: boolean;
}

/** Options of {@link momo}. */
export interface MomoOptions extends MomoCommonOptions {
  /** Momentum of the averages (default 0.9), in [0, 1). */
  beta?: number;
}

/** Options of {@link momoAdam}. */
export interface MomoAdamOptions extends MomoCommonOptions {
  /** Momentum of the averages (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the preconditioner (default 1e-8), ≥ 0. */
  eps?: number;
}

/** The loss `value` of an update as a float32 scalar tensor, with errors naming it. */
function lossValue(fn: string, extras: UpdateExtras | undefined): tf.Scalar {
  const v = requireExtra(fn, extras, 'value');
  if (typeof v === 'number') return tf.scalar(checkFinite(fn, 'value', v));
  if (v instanceof tf.Tensor && v.size === 1) return tf.cast(tf.reshape(v, []), 'float32') as tf.Scalar;
  throw new Error(
    `${fn}: the extra argument \`value\` must be a number or a scalar tensor, got ${v instanceof tf.Tensor ? `a tensor of shape [${v.shape}]` : String(v)}`,
  );
}

/**
 * `1 + lr · weightDecay` and the decay factor `lr · wd / (1 + lr · wd)`, as
 * optax forms them: in doubles for a constant learning rate (Python floats),
 * in float32 for a schedule's value.
 */
function decayTerms(learningRate: ScalarOrSchedule, lr: number, wd: number): { c: number; twoC: number; shrink: number } {
  if (typeof learningRate !== 'function')
    return { c: f32(1 + lr * wd), twoC: f32(2 * (1 + lr * wd)), shrink: f32(-(lr * wd) / (1 + lr * wd)) };
  const a = f32(f32(lr) * f32(wd));
  const c = f32(1 + a);
  return { c, twoC: f32(2 * c), shrink: f32(f32(-a) / c) };
}

/** The Polyak-type step `tau = min(alphaMax, max(c (barf - k·lb - gamma) + iprod, 0) / norm)` (0 when `norm ≤ 2^-52`). */
function momoStep(
  c: number,
  barf: tf.Tensor,
  lbTerm: tf.Tensor,
  gamma: tf.Tensor,
  iprod: tf.Tensor,
  norm: tf.Tensor,
  alphaMax: number,
): tf.Tensor {
  const t1 = tf.div(tf.maximum(tf.add(tf.mul(c, tf.sub(tf.sub(barf, lbTerm), gamma)), iprod), 0), norm);
  return tf.minimum(alphaMax, tf.where(tf.lessEqual(norm, 2 ** -52), tf.scalar(0), t1));
}

const MOMO_DEFAULTS: Required<MomoOptions> = { beta: 0.9, lowerBound: 0, weightDecay: 0, adaptLowerBound: false };

/**
 * MoMo: SGD with momentum whose step size is a truncated Polyak step on a
 * model of the loss built from averages of the values, gradients and `<g, x>`.
 * Needs the loss: `tx.update(grads, state, params, { value })` (or
 * `opt.step(grads, { value })`).
 *
 * $$
 * \tau = \min\!\left( \eta, \frac{\max\big(c\, (\bar f - f_{\mathrm{lb}} - \gamma) + \langle d, x \rangle, 0\big)}{\lVert d \rVert^2} \right), \qquad u = -\frac{\eta \lambda}{c}\, x - \tau\, d
 * $$
 *
 * With `b = count = 0 ? 0 : beta`, `lr = learningRate(count)`, `c = 1 + lr · weightDecay`:
 * ```
 * f̄ = b f̄ + (1 - b) value        d = b d + (1 - b) g        γ = b γ + (1 - b) <g, x>
 * τ = min(lr, max(c (f̄ - lb - γ) + <d, x>, 0) / |d|²)
 * u = -(lr · weightDecay / c) x - τ d
 * ```
 * With `adaptLowerBound`, `lb` is lowered towards the values seen, as optax does.
 *
 * State {@link MomoState}. Defaults: `learningRate = 1, beta = 0.9,
 * lowerBound = 0, weightDecay = 0, adaptLowerBound = false`. Needs `params`
 * and `value`. Runs on the reference path (tree-wide inner products).
 * Reference: Schaipp, Ohana, Eickenberg, Defazio & Gower, "MoMo: Momentum
 * Models for Adaptive Learning Rates" (ICML 2024); optax `contrib.momo`.
 */
export function momo(learningRate: ScalarOrSchedule = 1, options?: MomoOptions): GradientTransformation<MomoState> {
  const fn = 'momo';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, MOMO_DEFAULTS);
  const beta = checkDecay(fn, 'beta', o.beta);
  const lower = checkFinite(fn, 'lowerBound', o.lowerBound);
  const wd = checkNonNegative(fn, 'weightDecay', o.weightDecay);
  const adapt = checkBoolean(fn, 'adaptLowerBound', o.adaptLowerBound);
  return {
    init: (params) =>
      ({ ...zeroMoments(params, ['expAvg']), barf: tf.scalar(0), gamma: tf.scalar(0), lb: tf.scalar(lower), count: 0 }) as MomoState,
    update(updates, state, params, extras) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['expAvg', 'barf', 'gamma', 'lb', 'count']);
      const { count } = state;
      const lr = checkScheduleValue(fn, 'learningRate', resolveScalar(learningRate, count), count);
      const { c, twoC, shrink } = decayTerms(learningRate, lr, wd);
      const b = count === 0 ? 0 : f32(beta);
      const omb = f32(1 - b);
      return tf.tidy(() => {
        const value = lossValue(fn, extras);
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const ps = treeFlatten<tf.Tensor>(params).leaves;
        const eas = treeFlatten<tf.Tensor>(state.expAvg).leaves;
        const barf = tf.add(tf.mul(b, state.barf), tf.mul(omb, value));
        const d = gs.map((g, i) => tf.add(tf.mul(b, eas[i] as tf.Tensor), tf.mul(omb, g)));
        const gamma = tf.add(tf.mul(b, state.gamma), tf.mul(omb, treeVdot(gs, ps)));
        const norm = treeSumSq(d);
        const iprod = treeVdot(d, ps);
        const lb = adapt ? adaptedBound(c, twoC, barf, gamma, iprod, state.lb, tf.scalar(1), lower) : state.lb;
        const tau = momoStep(c, barf, lb, gamma, iprod, norm, lr);
        const u = d.map((di, i) => tf.sub(tf.mul(shrink, ps[i] as tf.Tensor), tf.mul(tau, di)));
        const newLb = adapt
          ? tf.maximum(tf.sub(tf.sub(tf.add(barf, iprod), gamma), tf.mul(tf.mul(0.5, tau), norm)), lower)
          : tf.clone(state.lb);
        const next: MomoState = {
          expAvg: treeUnflatten(treedef, d),
          barf,
          gamma,
          lb: newLb as tf.Scalar,
          count: safeIncrement(count),
        } as MomoState;
        return [treeUnflatten<Updates>(treedef, u), next] as never;
      }) as [Updates, MomoState];
    },
  };
}

/** optax's adapted lower bound: `cap < c·k·lb ? max(cap / (2 k c), lowerBound) : lb`, `cap = c (f̄ - γ) + iprod`. */
function adaptedBound(
  c: number,
  twoC: number,
  barf: tf.Tensor,
  gamma: tf.Tensor,
  iprod: tf.Tensor,
  lb: tf.Tensor,
  k: tf.Tensor,
  lower: number,
): tf.Tensor {
  const cap = tf.add(tf.mul(c, tf.sub(barf, gamma)), iprod);
  return tf.where(tf.less(cap, tf.mul(tf.mul(c, k), lb)), tf.maximum(tf.div(cap, tf.mul(twoC, k)), lower), lb);
}

/** Zero trees like `params` under each of `names`. */
function zeroMoments(params: unknown, names: readonly string[]): Record<string, Updates> {
  const { leaves, treedef } = treeFlatten<tf.Tensor>(params);
  return Object.fromEntries(
    names.map((n) => [
      n,
      treeUnflatten<Updates>(
        treedef,
        leaves.map((p) => tf.zerosLike(p)),
      ),
    ]),
  );
}

const MOMO_ADAM_DEFAULTS: Required<MomoAdamOptions> = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-8,
  lowerBound: 0,
  weightDecay: 0,
  adaptLowerBound: false,
};

/**
 * MoMo-Adam: {@link momo}'s truncated Polyak step in Adam's geometry (the
 * momentum preconditioned by `eps + sqrt(v / (1 - b2^t))`, with the first
 * moment's bias correction `bc1 = 1 - b1^t` in the step and bound).
 *
 * $$
 * \tau = \min\!\left( \frac{\eta}{1 - b_1^t}, \frac{\max\big(c\, (\bar f - (1 - b_1^t) f_{\mathrm{lb}} - \gamma) + \langle d, x \rangle, 0\big)}{\langle d, d / P \rangle} \right), \qquad u = -\frac{\eta \lambda}{c}\, x - \tau\, \frac{d}{P}
 * $$
 *
 * With `t = count + 1`, `P = eps + sqrt(v / bc2)`, `c = 1 + lr · weightDecay`:
 * ```
 * f̄ = b1 f̄ + (1 - b1) value    d = b1 d + (1 - b1) g    v = b2 v + (1 - b2) g²    γ = b1 γ + (1 - b1) <g, x>
 * τ = min(lr / bc1, max(c (f̄ - bc1 lb - γ) + <d, x>, 0) / <d, d / P>)
 * u = -(lr · weightDecay / c) x - τ d / P
 * ```
 *
 * State {@link MomoAdamState}. Defaults: `learningRate = 1e-2, b1 = 0.9,
 * b2 = 0.999, eps = 1e-8, lowerBound = 0, weightDecay = 0,
 * adaptLowerBound = false`. Needs `params` and `value`. Runs on the
 * reference path. Reference: Schaipp et al. (2024); optax `contrib.momo_adam`.
 */
export function momoAdam(learningRate: ScalarOrSchedule = 1e-2, options?: MomoAdamOptions): GradientTransformation<MomoAdamState> {
  const fn = 'momoAdam';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, MOMO_ADAM_DEFAULTS);
  const b1 = checkDecay(fn, 'b1', o.b1);
  const b2 = checkDecay(fn, 'b2', o.b2);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const lower = checkFinite(fn, 'lowerBound', o.lowerBound);
  const wd = checkNonNegative(fn, 'weightDecay', o.weightDecay);
  const adapt = checkBoolean(fn, 'adaptLowerBound', o.adaptLowerBound);
  return {
    init: (params) =>
      ({
        ...zeroMoments(params, ['expAvg', 'expAvgSq']),
        barf: tf.scalar(0),
        gamma: tf.scalar(0),
        lb: tf.scalar(lower),
        count: 0,
      }) as MomoAdamState,
    update(updates, state, params, extras) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['expAvg', 'expAvgSq', 'barf', 'gamma', 'lb', 'count']);
      const { count } = state;
      const lr = checkScheduleValue(fn, 'learningRate', resolveScalar(learningRate, count), count);
      const { c, twoC, shrink } = decayTerms(learningRate, lr, wd);
      const bc1 = biasCorrection(b1, count + 1);
      const bc2 = biasCorrection(b2, count + 1);
      return tf.tidy(() => {
        const value = lossValue(fn, extras);
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const ps = treeFlatten<tf.Tensor>(params).leaves;
        const eas = treeFlatten<tf.Tensor>(state.expAvg).leaves;
        const vs = treeFlatten<tf.Tensor>(state.expAvgSq).leaves;
        const barf = tf.add(tf.mul(b1, state.barf), tf.mul(1 - b1, value));
        const d = gs.map((g, i) => tf.add(tf.mul(b1, eas[i] as tf.Tensor), tf.mul(1 - b1, g)));
        const v = gs.map((g, i) => tf.add(tf.mul(b2, vs[i] as tf.Tensor), tf.mul(tf.mul(1 - b2, g), g)));
        const precond = v.map((vi) => tf.add(eps, tf.sqrt(tf.div(vi, bc2))));
        const weighted = d.map((di, i) => tf.div(di, precond[i] as tf.Tensor));
        const norm = treeVdot(d, weighted);
        const gamma = tf.add(tf.mul(b1, state.gamma), tf.mul(1 - b1, treeVdot(gs, ps)));
        const iprod = treeVdot(d, ps);
        const k = tf.scalar(bc1);
        const lb = adapt ? adaptedBound(c, twoC, barf, gamma, iprod, state.lb, k, lower) : state.lb;
        const tau = momoStep(c, barf, tf.mul(bc1, lb), gamma, iprod, norm, f32(f32(lr) / bc1));
        const u = d.map((di, i) => tf.sub(tf.mul(shrink, ps[i] as tf.Tensor), tf.div(tf.mul(tau, di), precond[i] as tf.Tensor)));
        const newLb = adapt
          ? tf.maximum(tf.div(tf.sub(tf.sub(tf.add(barf, iprod), gamma), tf.mul(tf.mul(0.5, tau), norm)), bc1), lower)
          : tf.clone(state.lb);
        const next: MomoAdamState = {
          expAvg: treeUnflatten(treedef, d),
          expAvgSq: treeUnflatten(treedef, v),
          barf,
          gamma,
          lb: newLb as tf.Scalar,
          count: safeIncrement(count),
        } as MomoAdamState;
        return [treeUnflatten<Updates>(treedef, u), next] as never;
      }) as [Updates, MomoAdamState];
    },
  };
}
