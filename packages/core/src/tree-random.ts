/**
 * Random trees: `treeRandomLike` (optax.tree `random_like`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeFlatten, treeUnflatten } from './tree.js';
import { checkInteger } from './validate.js';

/** Draws a tensor of `shape` from the seed `seed`. */
export type TreeSampler = (shape: number[], seed: number) => tf.Tensor;

/**
 * A tree with the structure and shapes of `targetTree`, each leaf drawn by
 * `sampler` (default: standard normal float32) from its own seed, `seed + i`
 * for the `i`-th leaf (optax splits one PRNG key per leaf; tfjs seeds are
 * integers, so the values differ from jax's). Reference: optax `tree_random_like`.
 */
export function treeRandomLike<T>(seed: number, targetTree: T, sampler?: TreeSampler): T {
  checkInteger('treeRandomLike', 'seed', seed, 0);
  const draw: TreeSampler = sampler ?? ((shape, s) => tf.randomNormal(shape, 0, 1, 'float32', s));
  if (typeof draw !== 'function')
    throw new Error(`treeRandomLike: \`sampler\` must be a function (shape, seed) => tensor, got ${String(sampler)}`);
  const { leaves, treedef } = treeFlatten<tf.Tensor>(targetTree);
  return tf.tidy(
    () =>
      treeUnflatten(
        treedef,
        leaves.map((x, i) => draw(x.shape, seed + i)),
      ) as tf.TensorContainer,
  ) as T;
}
