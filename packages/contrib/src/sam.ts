/**
 * Sharpness-aware minimization: `sam` and `normalize` (optax `contrib.sam`,
 * `contrib.normalize`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { copyTree } from './copy-tree.js';
import {
  applyUpdates,
  checkBoolean,
  checkInteger,
  checkStateKeys,
  checkTransformation,
  type GradientTransformation,
  type Params,
  requireExtra,
  requireParams,
  resolveOptions,
  treeFlatten,
  treeMap,
  treeUnflatten,
  type Updates,
} from './core-api.js';
import { treeSumSq } from './tree-math.js';

/**
 * Divides the updates by their global norm: `u = g / ‖g‖` over every leaf
 * (a zero gradient gives NaN, as in optax). Stateless (`{}`). Fuses: no (a
 * tree-wide norm; reference path). Reference: optax `contrib.normalize`,
 * the ascent direction of SAM (Foret et al., 2021).
 *
 * $$
 * u = \frac{g}{\lVert g \rVert}
 * $$
 */
export function normalize(): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update(updates, state) {
      const out = tf.tidy(() => {
        const { leaves, treedef } = treeFlatten<tf.Tensor>(updates);
        const norm = tf.sqrt(treeSumSq(leaves));
        return treeUnflatten<Updates>(
          treedef,
          leaves.map((g) => tf.div(g, norm)),
        ) as tf.TensorContainer;
      });
      return [out as Updates, state];
    },
  };
}

/** The state of {@link sam} (optax `SAMState`). */
export interface SAMState {
  /** Adversarial steps taken since the last outer update (0 … syncPeriod - 1). */
  stepsSinceSync: number;
  /** The outer optimizer's state. */
  optState: unknown;
  /** The adversarial optimizer's state. */
  advState: unknown;
  /** The params at the start of the sync period (`null` in opaque mode). */
  cache: Params | null;
}

/** The extra argument of {@link sam} in opaque mode: the gradient at `params` for adversarial step `i`. */
export type SamGradFn = (params: Params, i: number) => Updates;

/** Options of {@link sam}. */
export interface SamOptions {
  /** Every `syncPeriod`-th call runs the outer optimizer (default 2), an integer ≥ 1. */
  syncPeriod?: number;
  /** Re-initialise the adversarial optimizer's state after each outer update (default true). */
  resetState?: boolean;
  /**
   * Run the `syncPeriod - 1` adversarial steps inside each call, with the
   * gradients from the extra argument `gradFn(params, i)`, so that every
   * call is an outer update (default false).
   */
  opaqueMode?: boolean;
}

const DEFAULTS: Required<SamOptions> = { syncPeriod: 2, resetState: true, opaqueMode: false };

/**
 * SAM, sharpness-aware minimization: the outer `optimizer` is applied to the
 * gradient taken at adversarially perturbed params, found by
 * `syncPeriod - 1` steps of `advOptimizer` (ascent: its updates are negated).
 * The classic SAM is `sam(sgd(lr), chain(normalize(), sgd(rho)))`:
 * $$
 * x_{\mathrm{adv}} = x + \rho\, \frac{\nabla f(x)}{\lVert \nabla f(x) \rVert}, \qquad x \leftarrow x + \mathrm{optimizer}\big(\nabla f(x_{\mathrm{adv}})\big)
 * $$
 *
 * ```
 * x_adv = x + rho · g(x) / ‖g(x)‖        x ← x + optimizer(g(x_adv))
 * ```
 * Transparent mode (default): call `k = stepsSinceSync` of a period returns
 * `-advOptimizer(g)` for `k < syncPeriod - 1`; the last call returns
 * `cache - x + optimizer(g, params = cache)`, moving the params from the
 * period's start (`cache`, the params at `k = 0`) by the outer update. With
 * `opaqueMode` every call runs the adversarial steps itself, calling the
 * extra argument `gradFn(advParams, i)` (its result is disposed by `sam`),
 * and returns the outer update. optax's `batch_axis_name` (a pmap mean) has
 * no counterpart. optax computes both branches every call and selects with
 * `c · a + (1 - c) · b`, so a non-finite value in the branch it discards
 * turns the result into NaN; gradtx runs only the branch it keeps.
 *
 * State {@link SAMState}. Defaults: `syncPeriod = 2, resetState = true,
 * opaqueMode = false`. Needs `params`. Fuses: no (reference path; the inner
 * optimizers run inside). Reference: Foret et al., "Sharpness-Aware
 * Minimization for Efficiently Improving Generalization" (ICLR 2021); optax
 * `contrib.sam`.
 */
export function sam(
  optimizer: GradientTransformation,
  advOptimizer: GradientTransformation,
  options?: SamOptions,
): GradientTransformation<SAMState> {
  const fn = 'sam';
  checkTransformation(fn, '`optimizer`', optimizer);
  checkTransformation(fn, '`advOptimizer`', advOptimizer);
  const o = resolveOptions(fn, options, DEFAULTS);
  const period = checkInteger(fn, 'syncPeriod', o.syncPeriod, 1);
  const reset = checkBoolean(fn, 'resetState', o.resetState);
  const opaque = checkBoolean(fn, 'opaqueMode', o.opaqueMode);
  const negate = (u: Updates): Updates => tf.tidy(() => treeMap((x: tf.Tensor) => tf.neg(x), u) as tf.TensorContainer) as Updates;

  function transparentUpdate(updates: Updates, state: SAMState, params: Params): [Updates, SAMState] {
    const k = state.stepsSinceSync;
    const cache = state.cache as Params;
    const next = {
      stepsSinceSync: (k + 1) % period,
      cache: k === 0 ? copyTree(params) : copyTree(cache),
    };
    if (k < period - 1) {
      const [adv, advState] = advOptimizer.update(updates, state.advState, params);
      const out = negate(adv);
      tf.dispose(adv as tf.TensorContainer);
      return [out, { ...next, optState: copyTree(state.optState), advState }];
    }
    const [u, optState] = optimizer.update(updates, state.optState, cache);
    const out = tf.tidy(
      () => treeMap((c: tf.Tensor, p: tf.Tensor, ui: tf.Tensor) => tf.add(tf.sub(c, p), ui), cache, [params, u]) as tf.TensorContainer,
    ) as Updates;
    tf.dispose(u as tf.TensorContainer);
    const advState = reset ? advOptimizer.init(params) : copyTree(state.advState);
    return [out, { ...next, optState, advState }];
  }

  function opaqueUpdate(updates: Updates, state: SAMState, params: Params, gradFn: SamGradFn): [Updates, SAMState] {
    let [advParams, advUpdates, advState] = [params, updates, state.advState];
    for (let i = 0; i < period - 1; i++) {
      const [adv, nextState] = advOptimizer.update(advUpdates, advState, advParams);
      const step = negate(adv);
      const nextParams = applyUpdates(advParams, step);
      tf.dispose([adv, step] as tf.TensorContainer);
      if (advState !== state.advState) tf.dispose(advState as tf.TensorContainer);
      if (advParams !== params) tf.dispose(advParams as tf.TensorContainer);
      if (advUpdates !== updates) tf.dispose(advUpdates as tf.TensorContainer);
      [advParams, advState] = [nextParams, nextState];
      advUpdates = gradFn(advParams, i);
    }
    if (reset) {
      if (advState !== state.advState) tf.dispose(advState as tf.TensorContainer);
      advState = advOptimizer.init(params);
    } else if (advState === state.advState) advState = copyTree(advState);
    if (advParams !== params) tf.dispose(advParams as tf.TensorContainer);
    const [out, optState] = optimizer.update(advUpdates, state.optState, params);
    if (advUpdates !== updates) tf.dispose(advUpdates as tf.TensorContainer);
    return [out, { stepsSinceSync: 0, optState, advState, cache: null }];
  }

  return {
    init: (params) => ({
      stepsSinceSync: 0,
      optState: optimizer.init(params),
      advState: advOptimizer.init(params),
      cache: opaque ? null : copyTree(params),
    }),
    update(updates, state, params, extraArgs) {
      requireParams(fn, params);
      checkStateKeys(fn, state, ['stepsSinceSync', 'optState', 'advState', 'cache']);
      const k = state.stepsSinceSync;
      if (!Number.isInteger(k) || k < 0 || k >= period) {
        throw new Error(`${fn}: state.stepsSinceSync must be an integer in [0, ${period - 1}], got ${String(k)}`);
      }
      if (!opaque) return transparentUpdate(updates, state, params);
      const gradFn = requireExtra(fn, extraArgs, 'gradFn');
      if (typeof gradFn !== 'function') throw new Error(`${fn}: the extra argument \`gradFn\` must be a function (params, i) => grads`);
      return opaqueUpdate(updates, state, params, gradFn as SamGradFn);
    },
  };
}
