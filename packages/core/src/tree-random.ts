/**
 * Random trees: `treeRandomLike` (optax.tree `random_like`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { leafSeed } from './seeds.js';
import { treeFlatten, treeUnflatten } from './tree.js';
import { checkInteger } from './validate.js';

/** Draws a tensor of `shape` from the seed `seed`. */
export type TreeSampler = (shape: number[], seed: number) => tf.Tensor;

/** The largest seed of {@link treeRandomLike} (an unsigned 32-bit integer). */
const MAX_SEED = 2 ** 32 - 1;

/**
 * A tree with the structure and shapes of `targetTree`, each leaf drawn by
 * `sampler` (default: standard normal float32) from its own tfjs seed,
 * derived from `seed` and the leaf's index `i` by a 32-bit scramble and never
 * 0 (tfjs treats a seed of 0 as "no seed", so every seed here, 0 included,
 * gives the same tree on every call, and the trees of different seeds do not
 * share leaves). optax splits one PRNG key per leaf; tfjs's generator is not
 * JAX's, so the values differ from jax's. Reference: optax `tree_random_like`.
 */
export function treeRandomLike<T>(seed: number, targetTree: T, sampler?: TreeSampler): T {
  checkInteger('treeRandomLike', 'seed', seed, 0);
  if (seed > MAX_SEED) throw new Error(`treeRandomLike: \`seed\` must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  const draw: TreeSampler = sampler ?? ((shape, s) => tf.randomNormal(shape, 0, 1, 'float32', s));
  if (typeof draw !== 'function')
    throw new Error(`treeRandomLike: \`sampler\` must be a function (shape, seed) => tensor, got ${String(sampler)}`);
  const { leaves, treedef } = treeFlatten<tf.Tensor>(targetTree);
  return tf.tidy(
    () =>
      treeUnflatten(
        treedef,
        leaves.map((x, i) => draw(x.shape, leafSeed(seed, i))),
      ) as tf.TensorContainer,
  ) as T;
}
