/**
 * Adam variants with a different second moment: `scaleByBelief` (AdaBelief),
 * `scaleByYogi` and `scaleByNovograd` (optax `scale_by_belief`,
 * `scale_by_yogi`, `scale_by_novograd`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type Params, safeIncrement, type Updates } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { adamUpdate, correctedFirstMoment, updateMoment } from '../lang/moments.js';
import { biasCorrection, f32 } from '../lang/spec.js';
import {
  assertSameShapes,
  assertSameStructure,
  formatPath,
  isTensor,
  treeFlatten,
  treeLeavesWithPath,
  treeMap,
  treeUnflatten,
} from '../tree.js';
import {
  checkBoolean,
  checkFloatTree,
  checkNonNegative,
  checkStateKeys,
  type OptionDefaults,
  requireParams,
  resolveOptions,
  showValue,
} from '../validate.js';
import { adamScalars, checkAdamHyperparams, momentSlots, resolveAdamOptions } from './adam-hyperparams.js';
import { type MomentStorageOptions, momentStorageDefaults } from './state-dtype.js';

/** Options of {@link scaleByBelief}. */
export interface ScaleByBeliefOptions extends MomentStorageOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment of the prediction error (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-16), ≥ 0. */
  eps?: number;
  /**
   * Added to the second moment of the prediction error at every step, and
   * stored in the state with it (default 1e-16), ≥ 0. Keep it non-zero when
   * differentiating through the transformation.
   */
  epsRoot?: number;
  /** Use Nesterov momentum for the bias-corrected first moment (default false). */
  nesterov?: boolean;
}

/** The defaults of {@link scaleByBelief}'s options (`undefined`: no default). */
export const scaleByBeliefDefaults: OptionDefaults<ScaleByBeliefOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.999,
  eps: 1e-16,
  epsRoot: 1e-16,
  nesterov: false,
  ...momentStorageDefaults,
});

/**
 * Rescales updates by AdaBelief: Adam whose second moment tracks the squared
 * difference between the gradient and its running mean (the "belief" in the
 * gradient) instead of the squared gradient.
 *
 * $$
 * \begin{aligned}
 * \mu &\leftarrow (1 - b_1)\, g + b_1 \mu, \qquad s \leftarrow (1 - b_2)(g - \mu)^2 + b_2 s + \epsilon_{\mathrm{root}}, \\
 * u &= \frac{\mu / (1 - b_1^t)}{\sqrt{s / (1 - b_2^t)} + \epsilon}
 * \end{aligned}
 * $$
 *
 * With `t = count + 1`:
 * ```
 * mu = (1 - b1) g + b1 mu
 * s  = (1 - b2) (g - mu)² + b2 s + epsRoot       (mu: the new first moment)
 * mû = mu / (1 - b1^t)       ŝ = s / (1 - b2^t)
 * u  = mû / (sqrt(ŝ) + eps)
 * ```
 * `epsRoot` is added to the stored second moment itself (so it accumulates
 * over steps), and the square root takes no further term. With `nesterov`,
 * `mû = b1 mu / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)`.
 *
 * State `{ count, mu, nu }` (`nu` holds `s`). Defaults: `b1 = 0.9,
 * b2 = 0.999, eps = 1e-16, epsRoot = 1e-16, nesterov = false`.
 * Reference: Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the
 * Belief in Observed Gradients" (2020); optax `scale_by_belief`.
 */
export function scaleByBelief(options: ScaleByBeliefOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByBelief';
  const { o, storage, hyperparams } = resolveAdamOptions(fn, options, scaleByBeliefDefaults);
  const nesterov = checkBoolean(fn, 'nesterov', o.nesterov);
  return elementwise({
    name: fn,
    key: nesterov ? `${fn}/nesterov` : fn,
    slots: momentSlots(storage),
    counted: true,
    needsParams: false,
    scalars: (count) => {
      const t = safeIncrement(count);
      return adamScalars(hyperparams, t, safeIncrement(t));
    },
    body(m, { u, mu, nu }, k) {
      const mu1 = updateMoment(m, u, mu, k.b1, k.omb1);
      const err = m.sub(u, mu1);
      const nu1 = m.add(updateMoment(m, err, nu, k.b2, k.omb2, 2), k.epsRoot);
      const muHat = correctedFirstMoment(m, mu1, u, k, nesterov);
      const nuHat = m.div(nu1, k.bc2);
      return { u: m.div(muHat, m.add(m.sqrt(nuHat), k.eps)), mu: mu1, nu: nu1 };
    },
  });
}

/** Options of {@link scaleByYogi}. */
export interface ScaleByYogiOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Rate of the additive second-moment update (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-3), ≥ 0. */
  eps?: number;
  /** Added to the second moment inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
  /** The value both moments start from (default 1e-6), ≥ 0. */
  initialAccumulatorValue?: number;
}

/** The defaults of {@link scaleByYogi}'s options (`undefined`: no default). */
export const scaleByYogiDefaults: OptionDefaults<ScaleByYogiOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.999,
  eps: 1e-3,
  epsRoot: 0,
  initialAccumulatorValue: 1e-6,
});

/**
 * Rescales updates by Yogi: Adam whose second moment moves towards `g²` by an
 * additive step of fixed size `(1 - b2) g²`, in the direction of `g²`, rather
 * than multiplicatively.
 *
 * With `t = count + 1`:
 * $$
 * \begin{aligned}
 * \mu &\leftarrow (1 - b_1)\, g + b_1 \mu, \qquad \nu \leftarrow \nu - (1 - b_2) \operatorname{sign}(\nu - g^2)\, g^2, \\
 * u &= \frac{\mu / (1 - b_1^t)}{\sqrt{\nu / (1 - b_2^t) + \epsilon_{\mathrm{root}}} + \epsilon}
 * \end{aligned}
 * $$
 * Both `mu` and `nu` start at `initialAccumulatorValue` (not zero), and the
 * bias corrections are applied as in Adam.
 *
 * State `{ count, mu, nu }`. Defaults: `b1 = 0.9, b2 = 0.999, eps = 1e-3,
 * epsRoot = 0, initialAccumulatorValue = 1e-6`. Reference: Zaheer et al.,
 * "Adaptive Methods for Nonconvex Optimization" (2018); optax `scale_by_yogi`.
 */
export function scaleByYogi(options: ScaleByYogiOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByYogi';
  const o = resolveOptions(fn, options, scaleByYogiDefaults);
  const { b1, b2, eps, epsRoot } = checkAdamHyperparams(fn, o);
  const initial = checkNonNegative(fn, 'initialAccumulatorValue', o.initialAccumulatorValue);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'mu', init: initial },
      { name: 'nu', init: initial },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => {
      const t = safeIncrement(count);
      return {
        b1,
        omb1: f32(1 - b1),
        omb2: f32(1 - b2),
        bc1: biasCorrection(b1, t),
        bc2: biasCorrection(b2, t),
        eps,
        epsRoot,
      };
    },
    body(m, { u, mu, nu }, k) {
      const mu1 = updateMoment(m, u, mu, k.b1, k.omb1);
      const g2 = m.square(u);
      const nu1 = m.sub(nu, m.mul(m.mul(k.omb2, m.sign(m.sub(nu, g2))), g2));
      const muHat = m.div(mu1, k.bc1);
      const nuHat = m.div(nu1, k.bc2);
      return { u: adamUpdate(m, muHat, nuHat, k.eps, k.epsRoot), mu: mu1, nu: nu1 };
    },
  });
}

/** Options of {@link scaleByNovograd}. */
export interface ScaleByNovogradOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the per-leaf second moment (default 0.25), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Added to the second moment inside the square root (default 0), ≥ 0. */
  epsRoot?: number;
  /** Weight decay added to the normalized gradient, times the params (default 0), ≥ 0. */
  weightDecay?: number;
}

/**
 * The state of {@link scaleByNovograd}: the step count, the first moment
 * `mu` (the params' shapes) and, per leaf, the second moment `nu` as a
 * scalar float32 tensor.
 */
export interface ScaleByNovogradState {
  /** Updates seen so far (saturating). */
  count: number;
  /** The first moment, one tensor per leaf with the leaf's shape. */
  mu: Updates;
  /** The second moment, one scalar tensor per leaf (the params' tree structure). */
  nu: Updates;
}

/** The defaults of {@link scaleByNovograd}'s options (`undefined`: no default). */
export const scaleByNovogradDefaults: OptionDefaults<ScaleByNovogradOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.25,
  eps: 1e-8,
  epsRoot: 0,
  weightDecay: 0,
});

/**
 * Rescales updates by NovoGrad: the gradient of each leaf is normalized by a
 * running average of that leaf's squared l2 norm (one scalar per leaf, not per
 * element), weight decay is added, and the result is accumulated as momentum.
 *
 * $$
 * \nu \leftarrow (1 - b_2) \lVert g \rVert^2 + b_2 \nu, \qquad \mu \leftarrow b_1 \mu + \frac{g}{\sqrt{\nu + \epsilon_{\mathrm{root}}} + \epsilon} + \lambda p, \qquad u = \mu
 * $$
 *
 * Per leaf, with `n = ‖g‖²` over the whole leaf:
 * ```
 * first update:  nu = n                      mu = a
 * later:         nu = (1 - b2) n + b2 nu     mu = b1 mu + a
 * where a = g / (sqrt(nu + epsRoot) + eps) + weightDecay · p,   u = mu
 * ```
 * There is no bias correction: the first update initializes the moments.
 * Needs `params`. Not element-wise (the second moment is a per-leaf scalar),
 * so it runs on the reference path only.
 *
 * State {@link ScaleByNovogradState} `{ count, mu, nu }`. Defaults:
 * `b1 = 0.9, b2 = 0.25, eps = 1e-8, epsRoot = 0, weightDecay = 0`.
 * Reference: Ginsburg et al., "Stochastic Gradient Methods with Layer-wise
 * Adaptive Moments for Training of Deep Networks" (2019); optax
 * `scale_by_novograd`.
 */
export function scaleByNovograd(options: ScaleByNovogradOptions = {}): GradientTransformation<ScaleByNovogradState> {
  const fn = 'scaleByNovograd';
  const o = resolveOptions(fn, options, scaleByNovogradDefaults);
  const { b1, b2, eps, epsRoot } = checkAdamHyperparams(fn, o);
  const weightDecay = checkNonNegative(fn, 'weightDecay', o.weightDecay);
  return {
    init(params: Params): ScaleByNovogradState {
      checkFloatTree(fn, 'params', params);
      return {
        count: 0,
        mu: treeMap((p: tf.Tensor) => tf.zeros(p.shape, 'float32'), params),
        nu: treeMap(() => tf.scalar(0, 'float32'), params),
      };
    },
    update(updates: Updates, state: ScaleByNovogradState, params?: Params): [Updates, ScaleByNovogradState] {
      checkFloatTree(fn, 'updates', updates);
      checkStateKeys(fn, state, ['count', 'mu', 'nu']);
      if (typeof state.count !== 'number' || !(state.count >= 0)) {
        throw new Error(`${fn}: state.count must be a number >= 0, got ${showValue(state.count)}`);
      }
      assertSameShapes(updates, state.mu, ['updates', 'state.mu']);
      assertSameStructure(updates, state.nu, ['updates', 'state.nu']);
      for (const [path, leaf] of treeLeavesWithPath(state.nu)) {
        if (!isTensor(leaf) || leaf.rank !== 0) {
          throw new Error(
            `${fn}: state.nu at \`${formatPath(path)}\` must be a scalar tensor, got ${isTensor(leaf) ? `shape [${leaf.shape.join(', ')}]` : String(leaf)}`,
          );
        }
      }
      requireParams(fn, params);
      checkFloatTree(fn, 'params', params);
      assertSameShapes(updates, params, ['updates', 'params']);
      const count = safeIncrement(state.count);
      const first = count === 1;
      return tf.tidy(() => {
        const b1s = tf.scalar(b1, 'float32');
        const b2s = tf.scalar(b2, 'float32');
        const omb2 = tf.scalar(f32(1 - b2), 'float32');
        const epsS = tf.scalar(eps, 'float32');
        const epsRootS = tf.scalar(epsRoot, 'float32');
        const wd = tf.scalar(weightDecay, 'float32');
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const nus = treeFlatten<tf.Tensor>(state.nu).leaves;
        const mus = treeFlatten<tf.Tensor>(state.mu).leaves;
        const ps = treeFlatten<tf.Tensor>(params).leaves;
        const newNu: tf.Tensor[] = [];
        const newMu: tf.Tensor[] = [];
        gs.forEach((g, i) => {
          // optax squares the leaf's l2 norm, which rounds differently from the raw sum of squares.
          const n = tf.square(tf.sqrt(tf.sum(tf.square(g))));
          const nu1 = first ? n : tf.add(tf.mul(omb2, n), tf.mul(b2s, nus[i] as tf.Tensor));
          const a = tf.add(tf.div(g, tf.add(tf.sqrt(tf.add(nu1, epsRootS)), epsS)), tf.mul(wd, ps[i] as tf.Tensor));
          newNu.push(nu1);
          newMu.push(first ? a : tf.add(tf.mul(b1s, mus[i] as tf.Tensor), a));
        });
        const out = treeUnflatten<Updates>(
          treedef,
          newMu.map((x) => tf.clone(x)),
        );
        return [out, { count, mu: treeUnflatten(treedef, newMu), nu: treeUnflatten(treedef, newNu) }] as never;
      });
    },
  };
}
