/**
 * Element-wise transforms whose state starts from a copy of the params
 * (optax's `x0 = params` in MADGRAD, `init_particles = params` in COCOB).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ElementwiseSpec, type ElementwiseState, elementwise, type GradientTransformation, treeMap } from './core-api.js';

/**
 * `elementwise(spec)` whose `init` fills the slots named in `copies` with
 * copies of the params instead of the slot's constant. The body and the fused
 * kernels are those of `spec`: only the initial state differs.
 */
export function elementwiseWithParamCopies(spec: ElementwiseSpec, copies: readonly string[]): GradientTransformation<ElementwiseState> {
  const tx = elementwise(spec);
  return {
    ...tx,
    init(params) {
      const state = tx.init(params);
      for (const name of copies) {
        tf.dispose(state[name] as tf.TensorContainer);
        state[name] = treeMap((p: tf.Tensor) => tf.clone(p), params);
      }
      return state;
    },
  };
}

/**
 * A copy of a tree in which every tensor is cloned and every other leaf kept
 * (for state a transformation carries over unchanged: the caller disposes the
 * old state, so the new one must not share its tensors).
 */
export function copyTree<T>(tree: T): T {
  return treeMap((x: unknown) => (x instanceof tf.Tensor ? tf.clone(x) : x), tree);
}
