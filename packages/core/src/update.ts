/**
 * Applying updates to params: `applyUpdates`, `incrementalUpdate` and
 * `periodicUpdate` (optax `update.py`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params, Updates } from './base.js';
import { assertSameShapes, describe, isTensor, TreeMismatchError, treeMap, treeMapWithPath } from './tree.js';
import { checkFloatTree, checkInteger, checkUnitInterval } from './validate.js';

/**
 * `params + updates`, leaf by leaf, as fresh tensors. A `null` update leaves
 * its param as it is (returned as a fresh tensor); a `null` param stays
 * `null`. Params may be `tf.Variable`s; they are read, never assigned.
 * Reference: optax `apply_updates`.
 */
export function applyUpdates(params: Params, updates: Updates): Params {
  checkFloatTree('applyUpdates', 'params', params);
  checkFloatTree('applyUpdates', 'updates', updates);
  // Structure and shapes first (no tensor is made before the inputs are known
  // to line up); an empty update slot is allowed where a param sits.
  treeMapWithPath(
    (path, p: tf.Tensor, u: unknown) => {
      if (u === null || u === undefined) return null;
      if (!isTensor(u)) throw new TreeMismatchError(path, `applyUpdates: params has ${describe(p)} but updates has ${describe(u)}`);
      if (p.shape.length !== u.shape.length || p.shape.some((d, i) => d !== u.shape[i])) {
        throw new TreeMismatchError(
          path,
          `applyUpdates: params has shape [${p.shape.join(', ')}] but updates has shape [${u.shape.join(', ')}]`,
        );
      }
      return null;
    },
    params,
    [updates],
    { names: ['params', 'updates'] },
  );
  return tf.tidy(() =>
    treeMap((p: tf.Tensor, u: tf.Tensor | null) => (u === null || u === undefined ? tf.clone(p) : tf.add(p, u)), params, [updates], {
      names: ['params', 'updates'],
    }),
  );
}

/**
 * Polyak-style averaging: `stepSize * newTensors + (1 - stepSize) * oldTensors`.
 * Reference: optax `incremental_update`.
 */
export function incrementalUpdate(newTensors: Params, oldTensors: Params, stepSize: number): Params {
  checkUnitInterval('incrementalUpdate', 'stepSize', stepSize);
  checkFloatTree('incrementalUpdate', 'newTensors', newTensors);
  checkFloatTree('incrementalUpdate', 'oldTensors', oldTensors);
  assertSameShapes(newTensors, oldTensors, ['newTensors', 'oldTensors']);
  return tf.tidy(() =>
    treeMap((n: tf.Tensor, o: tf.Tensor) => tf.add(tf.mul(n, stepSize), tf.mul(o, 1 - stepSize)), newTensors, [oldTensors], {
      names: ['newTensors', 'oldTensors'],
    }),
  );
}

/**
 * Returns `newTensors` every `updatePeriod` steps (when `steps % updatePeriod == 0`)
 * and `oldTensors` otherwise, as fresh tensors. Reference: optax `periodic_update`.
 */
export function periodicUpdate(newTensors: Params, oldTensors: Params, steps: number, updatePeriod: number): Params {
  checkInteger('periodicUpdate', 'updatePeriod', updatePeriod, 1);
  checkInteger('periodicUpdate', 'steps', steps, 0);
  checkFloatTree('periodicUpdate', 'newTensors', newTensors);
  checkFloatTree('periodicUpdate', 'oldTensors', oldTensors);
  assertSameShapes(newTensors, oldTensors, ['newTensors', 'oldTensors']);
  const pick = steps % updatePeriod === 0 ? newTensors : oldTensors;
  return treeMap((t: tf.Tensor) => tf.clone(t), pick);
}
