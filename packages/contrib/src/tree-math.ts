/**
 * Tree reductions as optax computes them (`optax.tree.vdot`, `optax.tree.sum`):
 * one reduction per leaf, then the leaves' results added in leaf order.
 * Results are float32 scalar tensors, so no value leaves the device.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** Adds per-leaf scalars in leaf order (0 for none). */
function addInOrder(parts: tf.Tensor[]): tf.Scalar {
  return parts.reduce((acc: tf.Tensor, x) => tf.add(acc, x), tf.scalar(0)) as tf.Scalar;
}

/** `Σ_leaves Σ a·b`, optax `tree.vdot`. */
export function treeVdot(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): tf.Scalar {
  return addInOrder(a.map((x, i) => tf.sum(tf.mul(x, b[i] as tf.Tensor))));
}

/** `Σ_leaves Σ |a|`, optax `tree.sum(tree.map(abs, a))`. */
export function treeL1(a: readonly tf.Tensor[]): tf.Scalar {
  return addInOrder(a.map((x) => tf.sum(tf.abs(x))));
}

/** `Σ_leaves Σ a²`, optax `tree.norm(a, squared=True)`. */
export function treeSumSq(a: readonly tf.Tensor[]): tf.Scalar {
  return addInOrder(a.map((x) => tf.sum(tf.square(x))));
}
