/**
 * Sophia: `sophia` and `hutchinsonEstimatorDiagHessian` (optax
 * `contrib.sophia`, `contrib.hutchinson_estimator_diag_hessian`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { copyTree } from './copy-tree.js';
import {
  addDecayedWeights,
  chain,
  checkDecay,
  checkInteger,
  checkNonNegative,
  checkPositive,
  checkScalarOrSchedule,
  checkStateKeys,
  checkTransformation,
  type GradientTransformation,
  type Mask,
  type Params,
  requireExtra,
  requireParams,
  resolveOptions,
  type ScalarOrSchedule,
  safeIncrement,
  scaleByLearningRate,
  treeBiasCorrection,
  treeFlatten,
  treeMap,
  treeUnflatten,
  treeUpdateMoment,
  treeZerosLike,
  type Updates,
} from './core-api.js';
import { checkKey, leafSeed, nextKey } from './seeds.js';

/** The state of {@link hutchinsonEstimatorDiagHessian} (optax `HutchinsonState`): the generator's key. */
export interface HutchinsonState {
  key: number;
}

/** The objective {@link hutchinsonEstimatorDiagHessian} differentiates twice: params to a scalar tensor. */
export type ObjectiveFn = (params: Params) => tf.Scalar;

/**
 * Hutchinson's estimator of the Hessian's diagonal of the objective given as
 * the extra argument `objFn` (optax's `obj_fn`), at `params`:
 * $$
 * u = v \odot \big(\nabla^2 f(p)\, v\big), \qquad v \sim \mathrm{Rademacher}, \qquad \mathbb{E}[u] = \operatorname{diag} \nabla^2 f(p)
 * $$
 *
 * ```
 * v ~ Rademacher (±1 per element)        u = v ⊙ (∇²f(x) v)
 * ```
 * an unbiased estimate, `E[u] = diag ∇²f(x)`. The Hessian-vector product is
 * a gradient of `<∇f(x), v>` (tfjs's nested `tf.grads`; optax uses a jvp of
 * the gradient), so tfjs's gradients must be registered (`@tensorflow/tfjs`
 * does; with `@tensorflow/tfjs-core` alone import
 * `@tensorflow/tfjs-core/dist/register_all_gradients`). The incoming updates
 * are ignored. The signs are drawn from
 * tfjs's seeded generator, not JAX's threefry stream: the estimate equals
 * optax's where the Hessian is diagonal (then `u = diag ∇²f` for every draw)
 * and is checked statistically otherwise.
 *
 * State {@link HutchinsonState}; `seed` (default 0, as optax's default
 * key) an integer in [0, 2^32 - 1]. Needs `params` and `{ objFn }`. Fuses:
 * no (reference path). Reference: Hutchinson, "A stochastic estimator of the
 * trace of the influence matrix" (1989); Liu et al., "Sophia" (ICLR 2024);
 * optax `contrib.hutchinson_estimator_diag_hessian`.
 */
export function hutchinsonEstimatorDiagHessian(options?: { seed?: number }): GradientTransformation<HutchinsonState> {
  const fn = 'hutchinsonEstimatorDiagHessian';
  const seed = checkKey(fn, 'seed', resolveOptions(fn, options, { seed: 0 }).seed);
  return {
    init: () => ({ key: seed }),
    update(_updates, state, params, extraArgs) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['key']);
      const key = checkKey(fn, 'state.key', state.key);
      const objFn = requireExtra(fn, extraArgs, 'objFn');
      if (typeof objFn !== 'function') throw new Error(`${fn}: the extra argument \`objFn\` must be a function (params) => scalar tensor`);
      const out = tf.tidy(() => {
        const { leaves, treedef } = treeFlatten<tf.Tensor>(params);
        const signs = leaves.map((x, i) => tf.where(tf.less(tf.randomUniform(x.shape, 0, 1, 'float32', leafSeed(key, i)), 0.5), -1, 1));
        const value = (...xs: tf.Tensor[]): tf.Scalar => {
          const f = (objFn as ObjectiveFn)(treeUnflatten<Params>(treedef, xs));
          if (!(f instanceof tf.Tensor) || f.rank !== 0) {
            throw new Error(
              `${fn}: \`objFn\` must return a scalar tensor, got ${f instanceof tf.Tensor ? `a tensor of shape [${f.shape}]` : String(f)}`,
            );
          }
          return f;
        };
        const grad = tf.grads(value);
        const inner = (...xs: tf.Tensor[]): tf.Scalar =>
          grad(xs).reduce((acc: tf.Tensor, g, i) => tf.add(acc, tf.sum(tf.mul(g, signs[i] as tf.Tensor))), tf.scalar(0)) as tf.Scalar;
        const hvp = withGradientHint(fn, () => tf.grads(inner)(leaves));
        return treeUnflatten<Updates>(
          treedef,
          hvp.map((h, i) => tf.mul(h, signs[i] as tf.Tensor)),
        ) as tf.TensorContainer;
      }) as Updates;
      return [out, { key: nextKey(key) }];
    },
  };
}

/** Runs `f`; tfjs's "gradient function not found" (gradients not registered) becomes an error that says what to import. */
function withGradientHint<T>(fn: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (!message.includes('gradient function not found')) throw err;
    throw new Error(
      `${fn}: ${message}; the Hessian-vector product needs tfjs's gradients: import '@tensorflow/tfjs' or '@tensorflow/tfjs-core/dist/register_all_gradients'`,
    );
  }
}

/** The state of {@link sophia}'s scaling stage (optax `SophiaState`). */
export interface SophiaState {
  count: number;
  /** The momentum. */
  mu: Updates;
  /** The moving average of the Hessian diagonal estimates. */
  nu: Updates;
  /** The state of `hessianDiagonalFn`. */
  hessianFnState: unknown;
}

/** Options of {@link sophia}. */
export interface SophiaOptions {
  /** Momentum decay (default 0.965), in [0, 1). */
  b1?: number;
  /** Decay of the Hessian average (default 0.99), in [0, 1). */
  b2?: number;
  /** Floor of the denominator (default 1e-8), > 0. */
  eps?: number;
  /** Decoupled weight decay (default 1e-4). */
  weightDecay?: number;
  /** Which params get weight decay (a boolean tree or a function of the params). */
  weightDecayMask?: Mask;
  /** Scale of the Hessian in the denominator (default 0.01), ≥ 0. */
  gamma?: number;
  /** Clip the scaled update to [-clipThreshold, clipThreshold] (default 1; `null`: no clipping). */
  clipThreshold?: number | null;
  /** Re-estimate the Hessian every `updateInterval` steps (default 10), an integer ≥ 1. */
  updateInterval?: number;
  /** The Hessian diagonal estimator (default {@link hutchinsonEstimatorDiagHessian}()); it gets the gradients, params and extra arguments. */
  hessianDiagonalFn?: GradientTransformation;
}

const DEFAULTS = {
  b1: 0.965,
  b2: 0.99,
  eps: 1e-8,
  weightDecay: 1e-4,
  weightDecayMask: undefined as Mask | undefined,
  gamma: 0.01,
  clipThreshold: 1 as number | null,
  updateInterval: 10,
  hessianDiagonalFn: undefined as GradientTransformation | undefined,
};

/** optax's private `scale_by_sophia`: the clipped, Hessian-scaled momentum. */
function scaleBySophia(o: typeof DEFAULTS, hessian: GradientTransformation): GradientTransformation<SophiaState> {
  const fn = 'sophia';
  return {
    init: (params) => ({
      count: 0,
      mu: treeZerosLike(params) as Updates,
      nu: treeZerosLike(params) as Updates,
      hessianFnState: hessian.init(params),
    }),
    update(grads, state, params, extraArgs) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['count', 'mu', 'nu', 'hessianFnState']);
      const countInc = safeIncrement(state.count);
      const mu = treeUpdateMoment(grads, state.mu, o.b1, 1);
      const out = tf.tidy(() => {
        const muHat = treeBiasCorrection(mu, o.b1, countInc);
        const scaled = treeMap((m: tf.Tensor, h: tf.Tensor) => tf.div(m, tf.maximum(tf.mul(o.gamma, h), o.eps)), muHat, [state.nu]);
        const c = o.clipThreshold;
        return (c === null ? scaled : treeMap((u: tf.Tensor) => tf.clipByValue(u, -c, c), scaled)) as tf.TensorContainer;
      }) as Updates;
      if (state.count % o.updateInterval !== 0) {
        return [out, { count: countInc, mu, nu: copyTree(state.nu), hessianFnState: copyTree(state.hessianFnState) }];
      }
      const [diag, hessianFnState] = hessian.update(grads, state.hessianFnState, params, extraArgs);
      const nu = treeUpdateMoment(diag, state.nu, o.b2, 1);
      tf.dispose(diag as tf.TensorContainer);
      return [out, { count: countInc, mu, nu, hessianFnState }];
    },
  };
}

/**
 * Sophia, a second-order clipped optimizer with a Hessian-diagonal
 * preconditioner re-estimated every `updateInterval` steps. With `t` the
 * step, `h` the moving average of the estimates:
 * $$
 * u = -\eta \left( \operatorname{clip}\!\Big( \frac{\hat m}{\max(\gamma h, \epsilon)}, -\rho, \rho \Big) + \lambda p \right), \qquad \rho = \mathrm{clipThreshold}
 * $$
 *
 * ```
 * m = (1 - b1) g + b1 m          m̂ = m / (1 - b1^t)
 * u = clip(m̂ / max(gamma · h, eps), -clipThreshold, clipThreshold)
 * h = (1 - b2) ĥ + b2 h          (after u, when (t - 1) % updateInterval = 0; ĥ = hessianDiagonalFn(g))
 * ```
 * then `addDecayedWeights(weightDecay, weightDecayMask)` and
 * `scaleByLearningRate(learningRate)`. The default estimator needs the
 * objective as the extra argument `objFn`: `tx.update(grads, state, params,
 * { objFn })`, `opt.step(grads, { objFn })`. optax's `verbose` and
 * `print_win_rate_every_n_steps` (debug printing) and `mu_dtype` are not
 * offered.
 *
 * State `[SophiaState, decay state, {}]`. Defaults `b1 = 0.965, b2 = 0.99,
 * eps = 1e-8, weightDecay = 1e-4, gamma = 0.01, clipThreshold = 1,
 * updateInterval = 10`. Needs `params`. Fuses: no (the estimator
 * differentiates the objective; reference path). Reference: Liu et al.,
 * "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model
 * Pre-training" (ICLR 2024); optax `contrib.sophia`.
 */
export function sophia(learningRate: ScalarOrSchedule, options?: SophiaOptions): GradientTransformation {
  const fn = 'sophia';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, DEFAULTS);
  checkDecay(fn, 'b1', o.b1);
  checkDecay(fn, 'b2', o.b2);
  checkPositive(fn, 'eps', o.eps);
  checkNonNegative(fn, 'gamma', o.gamma);
  if (o.clipThreshold !== null) checkNonNegative(fn, 'clipThreshold', o.clipThreshold);
  checkInteger(fn, 'updateInterval', o.updateInterval, 1);
  const hessian = o.hessianDiagonalFn ?? hutchinsonEstimatorDiagHessian();
  checkTransformation(fn, '`hessianDiagonalFn`', hessian);
  return chain(scaleBySophia(o, hessian), addDecayedWeights(o.weightDecay, { mask: o.weightDecayMask }), scaleByLearningRate(learningRate));
}
