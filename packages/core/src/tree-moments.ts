/**
 * Moment updates on trees, optax's building blocks for optimizers:
 * `treeUpdateMoment`, `treeUpdateMomentPerElemNorm`,
 * `treeUpdateInfinityMoment`, `treeBiasCorrection` (optax.tree
 * `update_moment`, `update_moment_per_elem_norm`, `update_infinity_moment`,
 * `bias_correction`). Pure: fresh tensors, inputs untouched; a `null` update
 * leaf stays `null`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { biasCorrection } from './lang/spec.js';
import { treeMap } from './tree.js';
import { checkFinite, checkInteger } from './validate.js';

const NAMES = { names: ['updates', 'moments'] };

function moment(updates: unknown, moments: unknown, decay: number, power: (g: tf.Tensor) => tf.Tensor): unknown {
  return tf.tidy(
    () =>
      treeMap(
        (g: tf.Tensor | null, t: tf.Tensor) => (g === null ? null : tf.add(tf.mul(Math.fround(1 - decay), power(g)), tf.mul(decay, t))),
        updates,
        [moments],
        NAMES,
      ) as tf.TensorContainer,
  );
}

/** `(1 - decay) · g^order + decay · m`, leaf by leaf. Reference: optax `tree_update_moment`. */
export function treeUpdateMoment<T>(updates: T, moments: T, decay: number, order: number): T {
  checkFinite('treeUpdateMoment', 'decay', decay);
  checkFinite('treeUpdateMoment', 'order', order);
  return moment(updates, moments, decay, (g) => (order === 1 ? g : order === 2 ? tf.square(g) : tf.pow(g, order))) as T;
}

/**
 * `(1 - decay) · |g|^order + decay · m`, leaf by leaf (for real tensors the
 * same as {@link treeUpdateMoment}). Reference: optax `tree_update_moment_per_elem_norm`.
 */
export function treeUpdateMomentPerElemNorm<T>(updates: T, moments: T, decay: number, order: number): T {
  checkFinite('treeUpdateMomentPerElemNorm', 'decay', decay);
  checkFinite('treeUpdateMomentPerElemNorm', 'order', order);
  return moment(updates, moments, decay, (g) => (order === 1 ? g : order === 2 ? tf.square(g) : tf.pow(g, order))) as T;
}

/** `max(|g| + eps, decay · m)`, leaf by leaf (Adamax's moment). Reference: optax `tree_update_infinity_moment`. */
export function treeUpdateInfinityMoment<T>(updates: T, moments: T, decay: number, eps: number): T {
  checkFinite('treeUpdateInfinityMoment', 'decay', decay);
  checkFinite('treeUpdateInfinityMoment', 'eps', eps);
  return tf.tidy(
    () =>
      treeMap(
        (g: tf.Tensor | null, t: tf.Tensor) => (g === null ? null : tf.maximum(tf.add(tf.abs(g), eps), tf.mul(decay, t))),
        updates,
        [moments],
        NAMES,
      ) as tf.TensorContainer,
  ) as T;
}

/**
 * `m / (1 - decay^count)`, leaf by leaf, with the correction computed in
 * float32 as optax does. Reference: optax `tree_bias_correction`.
 */
export function treeBiasCorrection<T>(moment: T, decay: number, count: number): T {
  checkFinite('treeBiasCorrection', 'decay', decay);
  checkInteger('treeBiasCorrection', 'count', count, 0);
  const bc = biasCorrection(decay, count);
  return tf.tidy(() => treeMap((t: tf.Tensor) => tf.div(t, bc), moment) as tf.TensorContainer) as T;
}
