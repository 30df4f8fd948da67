/**
 * Unit-wise norms and clipping (as in adaptive gradient clipping, AGC):
 * `unitwiseNorm`, `unitwiseClip` (optax `unitwise_norm`, `unitwise_clip`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkNonNegative } from '../validate.js';

function checkTensor(fn: string, arg: string, x: unknown): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.isDisposed) throw new Error(`${fn}: \`${arg}\` must be a live tensor, got ${String(x)}`);
  return x;
}

/**
 * The ℓ2 norm of each unit of `x`, broadcast back to `x`'s shape. With `axis`
 * the norm runs over those axes; otherwise over everything for a tensor with
 * at most one non-unit axis, over axis 0 for rank 2 and 3 (a unit is an
 * output column), axes 0-2 for rank 4 (HWIO kernels) and 0-3 for rank 5.
 * Reference: Brock et al., "High-Performance Large-Scale Image Recognition
 * Without Normalization" (2021); optax `unitwise_norm`.
 *
 * $$
 * n = \sqrt{\textstyle\sum_{\text{axes of a unit}} x^2}
 * $$
 */
export function unitwiseNorm(x: tf.Tensor, axis?: number | number[] | null): tf.Tensor {
  const fn = 'unitwiseNorm';
  checkTensor(fn, 'x', x);
  let axes: number[] | null;
  if (axis !== undefined && axis !== null) axes = typeof axis === 'number' ? [axis] : axis;
  else if (x.shape.filter((d) => d !== 1).length <= 1) axes = null;
  else if (x.rank === 2 || x.rank === 3) axes = [0];
  else if (x.rank === 4) axes = [0, 1, 2];
  else if (x.rank === 5) axes = [0, 1, 2, 3];
  else throw new Error(`${fn}: expected a tensor of rank 1 to 5, got shape [${x.shape.join(', ')}]; pass \`axis\` for other shapes`);
  return tf.tidy(() => normOverAxes(x, axes));
}

/** The l2 norm of `x` over `axes` (all axes when null), broadcast back to `x`'s shape (call inside `tf.tidy`). */
export function normOverAxes(x: tf.Tensor, axes: number[] | null): tf.Tensor {
  const sq =
    axes === null
      ? tf.reshape(
          tf.sum(tf.square(x)),
          x.shape.map(() => 1),
        )
      : tf.sum(tf.square(x), axes, true);
  return tf.broadcastTo(tf.sqrt(sq), x.shape);
}

/**
 * Clips `grad` unit-wise: where `gNorm < maxNorm` the gradient is kept, else
 * scaled to `grad · maxNorm / max(gNorm, divEps)`. The three tensors have the
 * same shape. Default `divEps = 1e-6`. Reference: optax `unitwise_clip`.
 *
 * $$
 * u = \begin{cases} g & \lVert g \rVert < m \\ g\, \dfrac{m}{\max(\lVert g \rVert, \epsilon)} & \text{otherwise} \end{cases}
 * $$
 */
export function unitwiseClip(gNorm: tf.Tensor, maxNorm: tf.Tensor, grad: tf.Tensor, divEps = 1e-6): tf.Tensor {
  const fn = 'unitwiseClip';
  for (const [name, t] of [
    ['gNorm', gNorm],
    ['maxNorm', maxNorm],
    ['grad', grad],
  ] as const) {
    checkTensor(fn, name, t);
    if (t.shape.length !== gNorm.shape.length || t.shape.some((d, i) => d !== gNorm.shape[i])) {
      throw new Error(
        `${fn}: \`${name}\` has shape [${t.shape.join(', ')}] but \`gNorm\` has shape [${gNorm.shape.join(', ')}]; they must be equal`,
      );
    }
  }
  checkNonNegative(fn, 'divEps', divEps);
  return tf.tidy(() => tf.where(tf.less(gNorm, maxNorm), grad, tf.mul(grad, tf.div(maxNorm, tf.maximum(gNorm, divEps)))));
}
