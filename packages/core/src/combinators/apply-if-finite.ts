/**
 * Skipping non-finite updates: `applyIfFinite` (optax `apply_if_finite`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ExtraArgs, type GradientTransformation, type LoweringInputs, MAX_COUNT, type Updates } from '../base.js';
import { treeAllFinite } from '../numerics.js';
import { isNode, isPlainObject, isTensor, treeMap } from '../tree.js';
import { checkInteger, checkStateKeys, checkTransformation } from '../validate.js';
import { type ApplyIfFiniteState, lowerApplyIfFinite } from './apply-if-finite-lowering.js';
import { cloneTree } from './prefix-tree.js';

export type { ApplyIfFiniteState };

/**
 * Makes `inner` robust to a few NaNs or infinities: an update whose incoming
 * updates hold a non-finite value is dropped (zero updates, inner state
 * unchanged), unless more than `maxConsecutiveErrors` such updates came in a
 * row, in which case it is applied anyway.
 *
 * The decision is computed with tensor ops (`tf.where`, as optax uses
 * `jnp.where`), so nothing is read back to JS when the inner state holds only
 * tensors. When the inner state holds JS numbers that the inner update
 * changes (a step `count`), choosing between the old and the new value needs
 * the decision in JS: it is then read back once (one boolean) per update.
 * On the fused engine the decision is taken on the host before the step (one
 * reduction pass over the updates) and the step is the inner
 * transformation's, fused, or a zero update.
 *
 * State `{ notfiniteCount, lastFinite, totalNotfinite, innerState }`.
 * Reference: optax `apply_if_finite`.
 */
export function applyIfFinite<S = unknown>(
  inner: GradientTransformation<S>,
  maxConsecutiveErrors: number,
): GradientTransformation<ApplyIfFiniteState<S>> {
  const fn = 'applyIfFinite';
  checkTransformation(fn, '`inner`', inner);
  checkInteger(fn, 'maxConsecutiveErrors', maxConsecutiveErrors, 0);
  return {
    init: (params) => ({
      notfiniteCount: tf.scalar(0, 'int32'),
      lastFinite: tf.scalar(true, 'bool'),
      totalNotfinite: tf.scalar(0, 'int32'),
      innerState: inner.init(params),
    }),
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkStateKeys(fn, state, ['notfiniteCount', 'lastFinite', 'totalNotfinite', 'innerState']);
      return tf.tidy(() => {
        const allFinite = treeAllFinite(updates);
        const notfiniteCount = tf.where(allFinite, tf.scalar(0, 'int32'), safeIncrementTensor(state.notfiniteCount));
        const accept = tf.logicalOr(allFinite, tf.greater(notfiniteCount, tf.scalar(maxConsecutiveErrors, 'int32')));
        const [innerUpdates, innerState] =
          extraArgs === undefined
            ? inner.update(updates, state.innerState, params)
            : inner.update(updates, state.innerState, params, extraArgs);
        const out = treeMap((u: unknown) => (isTensor(u) ? tf.where(accept, u, tf.zerosLike(u)) : u), innerUpdates);
        let decision: boolean | undefined;
        const accepted = () => (decision ??= accept.dataSync()[0] === 1);
        const next: ApplyIfFiniteState<S> = {
          notfiniteCount,
          lastFinite: allFinite,
          totalNotfinite: tf.where(allFinite, state.totalNotfinite, safeIncrementTensor(state.totalNotfinite)),
          innerState: (needsDecision(innerState, state.innerState)
            ? accepted()
              ? innerState
              : cloneTree(state.innerState)
            : selectTree(accept, innerState, state.innerState)) as S,
        };
        return [out, next] as never;
      }) as unknown as [Updates, ApplyIfFiniteState<S>];
    },
    fusion: {
      kind: 'lowering',
      lower(state: ApplyIfFiniteState<S>, extraArgs?: ExtraArgs, inputs?: LoweringInputs) {
        checkStateKeys(fn, state, ['notfiniteCount', 'lastFinite', 'totalNotfinite', 'innerState']);
        return lowerApplyIfFinite(inner, maxConsecutiveErrors, state, extraArgs, inputs);
      },
    },
  };
}

/** `count + 1` on an `int32` scalar tensor, saturating at 2^31 - 1 (optax `safe_increment`). */
function safeIncrementTensor(count: tf.Tensor): tf.Tensor {
  const max = tf.scalar(MAX_COUNT, 'int32');
  return tf.where(tf.less(count, max), tf.add(count, tf.scalar(1, 'int32')), max);
}

/** Whether choosing between two inner states needs the decision in JS: their structures or non-tensor leaves differ. */
function needsDecision(a: unknown, b: unknown): boolean {
  if (isTensor(a) || isTensor(b)) return !(isTensor(a) && isTensor(b) && a.dtype === b.dtype && sameShape(a, b));
  if (isNode(a) || isNode(b)) {
    if (Array.isArray(a) && Array.isArray(b)) return a.length !== b.length || a.some((x, i) => needsDecision(x, b[i]));
    if (isPlainObject(a) && isPlainObject(b)) {
      const ka = Object.keys(a).sort();
      const kb = Object.keys(b).sort();
      return ka.length !== kb.length || ka.some((k, i) => k !== kb[i] || needsDecision(a[k], b[k]));
    }
    return true;
  }
  return !Object.is(a, b);
}

function sameShape(a: tf.Tensor, b: tf.Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** `cond ? a : b` leaf by leaf for two states with the same structure whose non-tensor leaves are equal. */
function selectTree(cond: tf.Tensor, a: unknown, b: unknown): unknown {
  return treeMap((x: unknown, y: unknown) => (isTensor(x) ? tf.where(cond, x, y as tf.Tensor) : x), a, [b]);
}
