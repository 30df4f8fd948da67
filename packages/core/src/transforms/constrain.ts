/**
 * Constraints on updates: `keepParamsNonnegative` and `zeroNans` (optax
 * `constrain.py`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, Updates } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { type TensorTree, treeMap } from '../tree.js';
import { checkFloatTree, checkStateKeys } from '../validate.js';

/**
 * Changes the updates so that the params stay ≥ 0 after they are applied:
 * `u = p + g < 0 ? -p : g` (a param driven below zero lands on zero; a param
 * that is already negative is moved to zero). Put it last in a chain, after
 * the learning rate. Needs `params`. Stateless (`{}`).
 * Reference: optax `keep_params_nonnegative`.
 *
 * $$
 * u = \begin{cases} -p & p + g < 0 \\ g & \text{otherwise} \end{cases}
 * $$
 */
export function keepParamsNonnegative(): GradientTransformation<ElementwiseState> {
  return elementwise({
    name: 'keepParamsNonnegative',
    key: 'keepParamsNonnegative',
    slots: [],
    counted: false,
    needsParams: true,
    scalars: () => ({}),
    body: (m, { u, p }) => ({ u: m.select(m.lt(m.add(p, u), m.c(0)), m.neg(p), u) }),
  });
}

/**
 * The state of {@link zeroNans}: `foundNan` has the params' structure, and
 * each leaf is a scalar `bool` tensor that is true iff the matching leaf of
 * the last update held a NaN (false after `init`). Tensors rather than JS
 * booleans, so that recording it never waits for the device.
 */
export interface ZeroNansState {
  /** Per leaf, a scalar bool tensor: did the last update's leaf contain a NaN? */
  foundNan: TensorTree;
}

/**
 * Replaces every NaN in the updates by 0 (±Infinity is kept):
 * `u = isNaN(g) ? 0 : g`, and records per leaf whether a NaN was found, in
 * the state `{ foundNan }` (see {@link ZeroNansState}); the state is only for
 * the caller to inspect, the transformation never reads it.
 * Reference: optax `zero_nans`.
 *
 * $$
 * u = \begin{cases} 0 & g = \mathrm{NaN} \\ g & \text{otherwise} \end{cases}
 * $$
 */
export function zeroNans(): GradientTransformation<ZeroNansState> {
  const fn = 'zeroNans';
  return {
    init(params: Params): ZeroNansState {
      checkFloatTree(fn, 'params', params);
      return { foundNan: treeMap(() => tf.scalar(false, 'bool'), params) };
    },
    update(updates: Updates, state: ZeroNansState): [Updates, ZeroNansState] {
      checkStateKeys(fn, state, ['foundNan']);
      checkFloatTree(fn, 'updates', updates);
      return tf.tidy(() => {
        const foundNan = treeMap((g: tf.Tensor) => tf.any(tf.isNaN(g)), updates);
        const out = treeMap((g: tf.Tensor) => tf.where(tf.isNaN(g), tf.zerosLike(g), g), updates);
        return [out, { foundNan }] as never;
      }) as unknown as [Updates, ZeroNansState];
    },
  };
}
