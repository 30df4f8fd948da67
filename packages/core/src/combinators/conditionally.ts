/**
 * Step-conditional application: `conditionallyTransform` and
 * `conditionallyMask` (optax `conditionally_transform`, `conditionally_mask`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ExtraArgs, type GradientTransformation, safeIncrement, type Updates } from '../base.js';
import { isTensor, treeMap } from '../tree.js';
import { checkBoolean, checkStateKeys, checkTransformation, type OptionDefaults, resolveOptions, showValue } from '../validate.js';
import { cloneTree } from './prefix-tree.js';

/**
 * Decides from the step counter (the number of earlier updates, from 0)
 * whether the inner transformation runs: a boolean, or a scalar `bool`
 * tensor (read back once). With `forwardExtraArgs` it also receives the
 * update's extra arguments. Reference: optax `ConditionFn`.
 */
export type ConditionFn = (step: number, extraArgs?: ExtraArgs) => boolean | tf.Tensor;

/** Options of {@link conditionallyTransform} and {@link conditionallyMask}. */
export interface ConditionallyOptions {
  /** Pass the update's extra arguments to `shouldTransformFn` as its second argument (default false). */
  forwardExtraArgs?: boolean;
}

/** The defaults of the options of {@link conditionallyTransform} and {@link conditionallyMask}. */
export const conditionallyDefaults: OptionDefaults<ConditionallyOptions> = Object.freeze({ forwardExtraArgs: false });

/** The state of {@link conditionallyTransform} (optax `ConditionallyTransformState`). */
export interface ConditionallyTransformState<S = unknown> {
  /** The state of the inner transformation. */
  innerState: S;
  /** Number of updates so far (whether or not the inner transformation ran). */
  step: number;
}

/** The state of {@link conditionallyMask} (optax `ConditionallyMaskState`). */
export interface ConditionallyMaskState<S = unknown> {
  /** Number of updates so far (whether or not the inner transformation ran). */
  step: number;
  /** The state of the inner transformation. */
  innerState: S;
}

function decide(fn: string, cond: ConditionFn, step: number, forward: boolean, extraArgs: ExtraArgs | undefined): boolean {
  const v = forward && extraArgs !== undefined ? cond(step, extraArgs) : cond(step);
  if (typeof v === 'boolean') return v;
  if (isTensor(v) && v.dtype === 'bool' && v.size === 1) {
    const out = v.dataSync()[0] === 1;
    return out;
  }
  throw new Error(
    `${fn}: \`shouldTransformFn\` must return a boolean (or a scalar bool tensor), got ${isTensor(v) ? `a ${v.dtype} tensor` : String(v)} at step ${step}`,
  );
}

function makeConditional<S>(
  fn: string,
  inner: GradientTransformation<S>,
  shouldTransformFn: ConditionFn,
  options: ConditionallyOptions,
  reject: (updates: Updates) => Updates,
): GradientTransformation<{ step: number; innerState: S }> {
  checkTransformation(fn, '`inner`', inner);
  if (typeof shouldTransformFn !== 'function')
    throw new Error(`${fn}: \`shouldTransformFn\` must be a function of the step, got ${showValue(shouldTransformFn)}`);
  const forward = checkBoolean(fn, 'forwardExtraArgs', resolveOptions(fn, options, conditionallyDefaults).forwardExtraArgs);
  return {
    init: (params) => ({ step: 0, innerState: inner.init(params) }),
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkStateKeys(fn, state, ['step', 'innerState']);
      const step = state.step;
      const run = tf.tidy(() => decide(fn, shouldTransformFn, step, forward, extraArgs));
      if (run) {
        const [u, s] =
          extraArgs === undefined
            ? inner.update(updates, state.innerState, params)
            : inner.update(updates, state.innerState, params, extraArgs);
        return [u, { step: safeIncrement(step), innerState: s }];
      }
      return tf.tidy(
        () => [reject(updates), { step: safeIncrement(step), innerState: cloneTree(state.innerState) }] as never,
      ) as unknown as [Updates, { step: number; innerState: S }];
    },
  };
}

/**
 * Runs `inner` only at the steps where `shouldTransformFn(step)` is true; at
 * the other steps the updates and the inner state pass through unchanged (as
 * fresh copies). `step` counts every update from 0.
 *
 * State `{ innerState, step }`. Reference: optax `conditionally_transform`.
 */
export function conditionallyTransform<S = unknown>(
  inner: GradientTransformation<S>,
  shouldTransformFn: ConditionFn,
  options: ConditionallyOptions = {},
): GradientTransformation<ConditionallyTransformState<S>> {
  const tx = makeConditional('conditionallyTransform', inner, shouldTransformFn, options, (u) => cloneTree(u) as Updates);
  return {
    init: (params) => {
      const { step, innerState } = tx.init(params);
      return { innerState, step };
    },
    update: (updates, state, params, extraArgs?: ExtraArgs) => {
      const [u, { step, innerState }] = tx.update(updates, state, params, extraArgs);
      return [u, { innerState, step }];
    },
  };
}

/**
 * Runs `inner` only at the steps where `shouldTransformFn(step)` is true; at
 * the other steps the updates are zeros and the inner state is unchanged.
 * `step` counts every update from 0.
 *
 * State `{ step, innerState }`. Reference: optax `conditionally_mask`.
 */
export function conditionallyMask<S = unknown>(
  inner: GradientTransformation<S>,
  shouldTransformFn: ConditionFn,
  options: ConditionallyOptions = {},
): GradientTransformation<ConditionallyMaskState<S>> {
  return makeConditional('conditionallyMask', inner, shouldTransformFn, options, (u) =>
    treeMap((x: unknown) => (isTensor(x) ? tf.zerosLike(x) : x), u),
  );
}
