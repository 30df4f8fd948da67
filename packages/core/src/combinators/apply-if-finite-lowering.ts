/**
 * One step of `applyIfFinite` as a step of a plain transformation, so the
 * fused engine runs it. The decision is taken on the host before the step,
 * from the finiteness of the incoming updates (one reduction pass over them,
 * `LoweringInputs.allFinite`) and the consecutive-error count:
 * `accept = finite ∨ safeIncrement(notfiniteCount) > maxConsecutiveErrors`.
 * An accepted step is the inner transformation's step (its output is optax's
 * `where(accept, u, 0)`, that is `u`); a dropped one is a stage writing zero
 * updates with the inner state kept as it was. The counters are then set as
 * the reference path sets them.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, LoweredStep, LoweringInputs } from '../base.js';
import { safeIncrement } from '../base.js';
import { setToZero } from '../combine.js';
import { lowerStep } from '../lowering.js';
import { isTensor } from '../tree.js';
import { cloneTree } from './prefix-tree.js';

/** The state of `applyIfFinite` (optax `ApplyIfFiniteState`); the three counters are scalar tensors, as in optax. */
export interface ApplyIfFiniteState<S = unknown> {
  /** Consecutive updates that held a NaN or an infinity (`int32` scalar); reset to 0 by a finite one. */
  notfiniteCount: tf.Tensor;
  /** Whether the last updates were all finite (`bool` scalar). */
  lastFinite: tf.Tensor;
  /** All updates so far that held a NaN or an infinity (`int32` scalar); never reset. */
  totalNotfinite: tf.Tensor;
  /** The state of the inner transformation. */
  innerState: S;
}

/** The step of a dropped update: zero updates (optax's `where(False, u, 0)`, +0 everywhere), no state. */
const dropped: GradientTransformation = setToZero();

/** The values of the counters this module made (so a step reads none back: its counters are the last step's). */
const made = new WeakMap<tf.Tensor, number>();

/** The value of a scalar counter of the state (an int32 or bool scalar tensor); throws on anything else (the reference path then raises). */
function counter(t: unknown, name: string, dtype: 'int32' | 'bool'): number {
  if (!isTensor(t) || t.size !== 1 || t.dtype !== dtype || t.isDisposed)
    throw new Error(`applyIfFinite: state.${name} is not a ${dtype} scalar`);
  let v = made.get(t);
  if (v === undefined) {
    v = t.dataSync()[0] as number;
    made.set(t, v);
  }
  return v;
}

/**
 * A counter after the step: the old tensor when its value does not change
 * and the state was donated, else a new scalar tensor (kept past an
 * enclosing `tf.tidy` when donated, the old one then freed).
 */
function nextCounter(old: tf.Tensor, value: number, dtype: 'int32' | 'bool', donated: boolean): tf.Tensor {
  if (donated && made.get(old) === value) return old;
  const t = tf.scalar(dtype === 'bool' ? value === 1 : value, dtype);
  made.set(t, value);
  if (!donated) return t;
  old.dispose();
  return tf.keep(t);
}

/** The counters after a step (as the reference path sets them, from the finiteness and the new consecutive count). */
function nextCounters(state: ApplyIfFiniteState, finite: boolean, count: number, donated: boolean): Omit<ApplyIfFiniteState, 'innerState'> {
  const total = counter(state.totalNotfinite, 'totalNotfinite', 'int32');
  counter(state.lastFinite, 'lastFinite', 'bool');
  return {
    notfiniteCount: nextCounter(state.notfiniteCount, count, 'int32', donated),
    lastFinite: nextCounter(state.lastFinite, finite ? 1 : 0, 'bool', donated),
    totalNotfinite: nextCounter(state.totalNotfinite, finite ? total : safeIncrement(total), 'int32', donated),
  };
}

/**
 * The step of `applyIfFinite(inner, maxConsecutiveErrors)` on `state` as a
 * step of the inner transformation (accepted) or of the zero stage
 * (dropped); null without the step's inputs or when the inner step cannot
 * be lowered. Throws on a state it cannot read.
 */
export function lowerApplyIfFinite(
  inner: GradientTransformation,
  maxConsecutiveErrors: number,
  state: ApplyIfFiniteState,
  extraArgs: ExtraArgs | undefined,
  inputs: LoweringInputs | undefined,
): LoweredStep | null {
  if (inputs === undefined) return null;
  const finite = inputs.allFinite();
  const count = finite ? 0 : safeIncrement(counter(state.notfiniteCount, 'notfiniteCount', 'int32'));
  counter(state.lastFinite, 'lastFinite', 'bool');
  counter(state.totalNotfinite, 'totalNotfinite', 'int32');
  if (state.notfiniteCount === state.totalNotfinite) throw new Error('applyIfFinite: the two counts share a tensor');
  if (finite || count > maxConsecutiveErrors) {
    const low = lowerStep(inner, state.innerState, extraArgs, inputs);
    if (low === null) return null;
    return {
      tx: low.tx,
      state: low.state,
      finish: (s, donated) => ({ ...nextCounters(state, finite, count, donated), innerState: low.finish(s, donated) }),
    };
  }
  return {
    tx: dropped,
    state: {},
    finish: (_s, donated) => ({
      ...nextCounters(state, finite, count, donated),
      innerState: donated ? state.innerState : cloneTree(state.innerState),
    }),
  };
}
