/**
 * `scaleGradient` (optax `scale_gradient`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeMap } from './tree.js';
import { checkFinite } from './validate.js';

/**
 * The identity on a tree of tensors whose gradient is multiplied by `scale`:
 * `y = x` forwards and `∂L/∂x = scale · ∂L/∂y` backwards (leaf by leaf, with
 * `tf.customGrad`), e.g. to slow down or stop (`scale = 0`) the training of
 * one part of a model (`scale = 0` gives zeros, as optax's `stop_gradient`). With `scale = 1` the inputs are returned as they are
 * (as optax does); otherwise every leaf is a new tensor. Reference: optax
 * `scale_gradient`.
 */
export function scaleGradient<T>(inputs: T, scale: number): T {
  checkFinite('scaleGradient', 'scale', scale);
  if (scale === 1) return inputs;
  const scaled = tf.customGrad(((x: tf.Tensor) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => (scale === 0 ? tf.zerosLike(dy) : tf.mul(dy, scale)),
  })) as never);
  return treeMap((x: tf.Tensor) => scaled(x), inputs);
}
