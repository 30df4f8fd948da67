/**
 * Flattening: `flatten` (optax `flatten`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, Updates } from '../base.js';
import { isTensor, treeFlatten, treeUnflatten } from '../tree.js';
import { checkFloatTree, checkTransformation } from '../validate.js';

/** All the leaves of `tree`, flattened and concatenated into one 1-D tensor (in tree order). */
function concatLeaves(fn: string, tree: unknown, treeName: string): tf.Tensor {
  const { leaves } = treeFlatten<tf.Tensor>(tree);
  if (leaves.length === 0) throw new Error(`${fn}: ${treeName} has no tensor leaves to flatten`);
  return tf.concat(leaves.map((x) => tf.reshape(x, [-1])));
}

/**
 * Runs `inner` on one flat vector: every leaf of the params and updates is
 * flattened and the results are concatenated (in tree order) into a single
 * 1-D tensor, which is what `inner` sees at `init` and `update`; its output
 * is split and reshaped back into the updates' tree. Fewer, larger kernels
 * for trees of many small leaves, at the cost of a copy.
 *
 * The state is the inner state, for the flat vector. Reference: optax `flatten`.
 */
export function flatten<S = unknown>(inner: GradientTransformation<S>): GradientTransformation<S> {
  const fn = 'flatten';
  checkTransformation(fn, '`inner`', inner);
  return {
    init(params) {
      checkFloatTree(fn, 'params', params);
      return tf.tidy(() => inner.init(concatLeaves(fn, params, 'params')) as never) as unknown as S;
    },
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkFloatTree(fn, 'updates', updates);
      if (params !== null && params !== undefined) checkFloatTree(fn, 'params', params);
      return tf.tidy(() => {
        const flatUpdates = concatLeaves(fn, updates, 'updates');
        const flatParams: Params = params === null || params === undefined ? params : concatLeaves(fn, params, 'params');
        const [flatOut, next] =
          extraArgs === undefined ? inner.update(flatUpdates, state, flatParams) : inner.update(flatUpdates, state, flatParams, extraArgs);
        const { leaves, treedef } = treeFlatten<tf.Tensor>(updates);
        if (!isTensor(flatOut) || flatOut.size !== flatUpdates.size) {
          throw new Error(`${fn}: the inner transformation must return one tensor of ${flatUpdates.size} elements for the flat updates`);
        }
        const pieces = tf.split(
          tf.reshape(flatOut, [-1]),
          leaves.map((x) => x.size),
        );
        const out = treeUnflatten<Updates>(
          treedef,
          pieces.map((piece, i) => tf.reshape(piece, (leaves[i] as tf.Tensor).shape)),
        );
        return [out, next] as never;
      }) as unknown as [Updates, S];
    },
  };
}
