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

/** The value of a scalar counter of the state (an int32 scalar tensor); throws on anything else (the reference path then raises). */
function readCount(t: unknown, name: string): number {
  if (!isTensor(t) || t.size !== 1 || t.dtype !== 'int32') throw new Error(`applyIfFinite: state.${name} is not an int32 scalar`);
  return t.dataSync()[0] as number;
}

/**
 * The counters after the step, as new scalar tensors (kept past an enclosing
 * `tf.tidy` when the state was donated, whose old counters are then freed);
 * `totalNotfinite` is the old tensor itself when it does not change and the
 * state was donated.
 */
function nextCounters(state: ApplyIfFiniteState, finite: boolean, count: number, donated: boolean): Omit<ApplyIfFiniteState, 'innerState'> {
  const made = (t: tf.Tensor) => (donated ? tf.keep(t) : t);
  const total = finite
    ? donated
      ? state.totalNotfinite
      : made(tf.clone(state.totalNotfinite))
    : made(tf.scalar(safeIncrement(readCount(state.totalNotfinite, 'totalNotfinite')), 'int32'));
  const next = {
    notfiniteCount: made(tf.scalar(count, 'int32')),
    lastFinite: made(tf.scalar(finite, 'bool')),
    totalNotfinite: total,
  };
  if (donated) {
    state.notfiniteCount.dispose();
    state.lastFinite.dispose();
    if (total !== state.totalNotfinite) state.totalNotfinite.dispose();
  }
  return next;
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
  const count = finite ? 0 : safeIncrement(readCount(state.notfiniteCount, 'notfiniteCount'));
  if (!isTensor(state.lastFinite) || !isTensor(state.totalNotfinite)) throw new Error('applyIfFinite: the state has no counters');
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
