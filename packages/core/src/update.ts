/**
 * Applying updates to params: `applyUpdates`, `incrementalUpdate` and
 * `periodicUpdate` (optax `update.py`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AsTensors, Params, Updates } from './base.js';
import { assertSameShapes, describe, isTensor, TreeMismatchError, treeMap, treeMapWithPath } from './tree.js';
import { checkFloatTree, checkInteger, checkUnitInterval } from './validate.js';

/**
 * `params + updates`, leaf by leaf, as fresh tensors. A `null` update leaves
 * its param as it is (returned as a fresh tensor); a `null` param stays
 * `null`. Params may be `tf.Variable`s; they are read, never assigned.
 * The result has the params' type with each `tf.Variable` leaf read as a
 * `tf.Tensor` of its rank ({@link AsTensors}), so `applyUpdates({ w }, u).w`
 * type-checks. A loop that declares its params with the wide type
 * (`let params: Params`) and keeps the result in a new variable before
 * reassigning names that variable's type too (`const next: Params = ...`):
 * TypeScript cannot infer a variable from a call whose argument's type
 * depends on that variable (TS7022); `params = applyUpdates(params, u)` and
 * params of a concrete tree type need nothing.
 * Reference: optax `apply_updates`.
 *
 * $$
 * p' = p + u
 * $$
 */
export function applyUpdates<P extends Params>(params: P, updates: Updates): AsTensors<P>;
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
