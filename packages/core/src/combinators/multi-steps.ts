/**
 * Gradient accumulation: `multiSteps`, `hasUpdated`, `skipNotFinite` and
 * `skipLargeUpdates` (optax `MultiSteps`, `skip_not_finite`,
 * `skip_large_updates`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, Updates } from '../base.js';
import { safeIncrement } from '../base.js';
import { isPacked, type PackedSlot } from '../lang/storage/slot-storage.js';
import { lowerStep } from '../lowering.js';
import { checkSlot, checkStorageBackend, decodeSlot, encodeSlot, initSlot } from '../packed-state.js';
import { type AccumulatorStorageOptions, accumulatorStorage, accumulatorStorageDefaults } from '../transforms/state-dtype.js';
import { isTensor, treeFlatten, treeLeaves, treeMap, treeUnflatten } from '../tree.js';
import { treeZerosLike } from '../tree-utils.js';
import {
  checkBoolean,
  checkFinite,
  checkFloatTree,
  checkStateKeys,
  checkTransformation,
  type OptionDefaults,
  resolveOptions,
  showValue,
} from '../validate.js';
import { lowerMiniStep } from './multi-steps-lowering.js';
import { cloneTree } from './prefix-tree.js';

/**
 * Decides whether a mini-step's updates are dropped: returns the decision
 * (a boolean, or a scalar `bool` tensor, read back once) and a tree stored in
 * `state.skipState` (monitoring information). Reference: optax
 * `ShouldSkipUpdateFunction`.
 */
export type ShouldSkipUpdateFn = (updates: Updates, gradientStep: number, params?: Params) => [boolean | tf.Tensor, unknown];

/** Options of {@link multiSteps}: accumulation, skipping, and the storage of the accumulated gradients. */
export interface MultiStepsOptions extends AccumulatorStorageOptions {
  /** Average the accumulated gradients (true, the default) or sum them (false). */
  useGradMean?: boolean;
  /**
   * Decides, for each mini-step, whether its updates are dropped as if the
   * mini-step never happened (e.g. {@link skipNotFinite}). Default: never.
   */
  shouldSkipUpdateFn?: ShouldSkipUpdateFn;
}

/** The state of {@link multiSteps} (optax `MultiStepsState`). */
export interface MultiStepsState<S = unknown> {
  /** Mini-steps accumulated since the last gradient step: 0 up to `k - 1`. */
  miniStep: number;
  /** Gradient steps taken (times the inner transformation has been applied). */
  gradientStep: number;
  /** The state of the inner transformation. */
  innerOptState: S;
  /** The gradients accumulated since the last gradient step (their mean or their sum; packed with `accumulatorDtype`). */
  accGrads: unknown;
  /** What `shouldSkipUpdateFn` returned last (`[]` without one). */
  skipState: unknown;
}

/** The defaults of {@link multiSteps}'s options (`undefined`: no default). */
export const multiStepsDefaults: OptionDefaults<MultiStepsOptions> = Object.freeze({
  useGradMean: true,
  shouldSkipUpdateFn: (): [boolean, unknown] => [false, []],
  ...accumulatorStorageDefaults,
});

/**
 * Accumulates gradients over `k` mini-steps and applies `inner` once per `k`:
 * on the mini-steps in between it returns zero updates. `everyKSchedule` is
 * `k`, or a function of the gradient step count giving `k` (so the effective
 * batch size can change during training).
 *
 * With `useGradMean` (the default) the accumulator is the running mean,
 * `acc ← acc + (g − acc) / (miniStep + 1)`; otherwise the sum `acc ← g + acc`.
 * As in optax, `inner` runs on the accumulator on every mini-step and its
 * output is multiplied by `emit` (0 or 1), and only an emitting mini-step
 * keeps its new inner state; a skipped mini-step (per `shouldSkipUpdateFn`)
 * returns zeros and leaves the state as it was.
 *
 * State `{ miniStep, gradientStep, innerOptState, accGrads, skipState }`.
 * `accumulatorDtype` (optax `accumulator_dtype`) keeps `accGrads` in
 * bfloat16, float16 or block-wise int8 between mini-steps (see
 * {@link AccumulatorStorageOptions}); the accumulation runs in float32.
 * Reference: optax `MultiSteps`.
 */
export function multiSteps<S = unknown>(
  inner: GradientTransformation<S>,
  everyKSchedule: number | ((gradientStep: number) => number),
  options: MultiStepsOptions = {},
): GradientTransformation<MultiStepsState<S>> & { hasUpdated(state: MultiStepsState<S>): boolean } {
  const fn = 'multiSteps';
  const o = resolveOptions(fn, options, multiStepsDefaults);
  checkTransformation(fn, '`inner`', inner);
  if (typeof everyKSchedule === 'number') checkK(fn, everyKSchedule, 0);
  else if (typeof everyKSchedule !== 'function') {
    throw new Error(
      `${fn}: \`everyKSchedule\` must be an integer >= 1 or a function of the gradient step, got ${showValue(everyKSchedule)}`,
    );
  }
  const useGradMean = checkBoolean(fn, 'useGradMean', o.useGradMean);
  const shouldSkip: ShouldSkipUpdateFn = o.shouldSkipUpdateFn;
  if (typeof shouldSkip !== 'function') throw new Error(`${fn}: \`shouldSkipUpdateFn\` must be a function, got ${showValue(shouldSkip)}`);
  const storage = accumulatorStorage(fn, o);
  /** The accumulator as float32 tensors (decoded when packed), for updates of `updates`' structure. */
  const readAcc = (acc: unknown, updates: Updates): unknown => {
    if (!isPacked(storage)) return acc;
    const { leaves, treedef } = treeFlatten<tf.Tensor>(updates);
    return treeUnflatten(
      treedef,
      decodeSlot(
        storage,
        acc as PackedSlot,
        leaves.map((u) => u.shape),
      ),
    );
  };
  /** The accumulator as stored (encoded when packed). */
  const storeAcc = (acc: unknown): unknown => {
    if (!isPacked(storage)) return acc;
    const { leaves, treedef } = treeFlatten<tf.Tensor>(acc);
    return encodeSlot(storage, treedef, leaves);
  };
  const kAt = (step: number) => checkK(fn, typeof everyKSchedule === 'number' ? everyKSchedule : everyKSchedule(step), step);

  return {
    init(params) {
      checkFloatTree(fn, 'params', params);
      checkStorageBackend(fn, storage);
      return tf.tidy(() => {
        const zeros = treeZerosLike(params);
        const [, skipState] = shouldSkip(zeros, 0, params);
        return {
          miniStep: 0,
          gradientStep: 0,
          innerOptState: inner.init(params),
          accGrads: initSlot(fn, storage, params, 0),
          skipState: cloneInputs(skipState, zeros),
        } as never;
      }) as unknown as MultiStepsState<S>;
    },
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkStateKeys(fn, state, ['miniStep', 'gradientStep', 'innerOptState', 'accGrads', 'skipState']);
      checkFloatTree(fn, 'updates', updates);
      if (isPacked(storage)) checkSlot(fn, 'accGrads', storage, state.accGrads, updates);
      const { miniStep, gradientStep } = state;
      const kSteps = kAt(gradientStep);
      const runInner = (g: Updates): [Updates, S] =>
        extraArgs === undefined ? inner.update(g, state.innerOptState, params) : inner.update(g, state.innerOptState, params, extraArgs);
      return tf.tidy(() => {
        const [flag, skipStateRaw] = shouldSkip(updates, gradientStep, params);
        const skipState = cloneInputs(skipStateRaw, updates, params);
        if (readFlag(fn, flag)) {
          // The inner update is run only for the structure of its output (optax uses eval_shape).
          const [shape] = runInner(readAcc(state.accGrads, updates) as Updates);
          return [
            treeMap((x: unknown) => (isTensor(x) ? tf.zerosLike(x) : x), shape),
            { miniStep, gradientStep, innerOptState: cloneTree(state.innerOptState), accGrads: cloneTree(state.accGrads), skipState },
          ] as never;
        }
        const acc = treeMap(
          (g: tf.Tensor, a: tf.Tensor) =>
            useGradMean ? tf.add(a, tf.div(tf.sub(g, a), tf.scalar(miniStep + 1, 'float32'))) : tf.add(g, a),
          updates,
          [readAcc(state.accGrads, updates)],
          { names: ['updates', 'state.accGrads'] },
        );
        const [finalUpdates, newInner] = runInner(acc);
        const emit = miniStep === kSteps - 1;
        const next: MultiStepsState<S> = {
          miniStep: safeIncrement(miniStep) % kSteps,
          gradientStep: emit ? safeIncrement(gradientStep) : gradientStep,
          innerOptState: emit ? newInner : (cloneTree(state.innerOptState) as S),
          // optax multiplies by (1 - emit): on an emitting step the accumulator becomes 0 · acc.
          accGrads: storeAcc(emit ? treeMap((a: tf.Tensor) => tf.mul(a, 0), acc) : acc),
          skipState,
        };
        // optax multiplies the inner output by emit (so 0 · x on the other mini-steps).
        const out = emit ? finalUpdates : treeMap((x: unknown) => (isTensor(x) ? tf.mul(x, 0) : x), finalUpdates);
        return [out, next] as never;
      }) as unknown as [Updates, MultiStepsState<S>];
    },
    hasUpdated: (state) => hasUpdated(state),
    fusion: {
      kind: 'lowering',
      lower(state: MultiStepsState<S>, extraArgs?: ExtraArgs) {
        // a skip decision reads the updates (a global reduction and a branch on it): not lowered
        if (shouldSkip !== multiStepsDefaults.shouldSkipUpdateFn) return null;
        checkStateKeys(fn, state, ['miniStep', 'gradientStep', 'innerOptState', 'accGrads', 'skipState']);
        const inner_ = lowerStep(inner, state.innerOptState, extraArgs);
        if (inner_ === null) return null;
        const { miniStep, gradientStep, accGrads, innerOptState } = state;
        const kSteps = kAt(gradientStep);
        return lowerMiniStep({ miniStep, gradientStep, kSteps, accGrads, innerOptState, useGradMean, storage, inner: inner_ });
      },
    },
  };
}

/**
 * Whether the last update of a {@link multiSteps} transformation applied the
 * inner transformation (it emitted non-zero updates): `miniStep == 0 &&
 * gradientStep > 0`. Reference: optax `MultiSteps.has_updated`.
 */
export function hasUpdated(state: Pick<MultiStepsState, 'miniStep' | 'gradientStep'>): boolean {
  return state.miniStep === 0 && state.gradientStep > 0;
}

/**
 * A {@link ShouldSkipUpdateFn} that skips a mini-step whose updates hold a
 * NaN or an infinity. Skip state `{ shouldSkip, numNotFinite }` (a `bool`
 * and an `int32` scalar tensor). Reference: optax `skip_not_finite`.
 */
export function skipNotFinite(
  updates: Updates,
  _gradientStep?: number,
  _params?: Params,
): [tf.Tensor, { shouldSkip: tf.Tensor; numNotFinite: tf.Tensor }] {
  return tf.tidy(() => {
    const counts = treeLeaves<tf.Tensor>(updates).map((u) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(u)), 'int32')));
    const numNotFinite = counts.length === 0 ? tf.scalar(0, 'int32') : tf.addN(counts);
    const shouldSkip = tf.greater(numNotFinite, 0);
    return [shouldSkip, { shouldSkip, numNotFinite }] as never;
  }) as unknown as [tf.Tensor, { shouldSkip: tf.Tensor; numNotFinite: tf.Tensor }];
}

/**
 * A {@link ShouldSkipUpdateFn} (after fixing `maxSquaredNorm`) that skips a
 * mini-step whose squared global norm `Σ u²` is not below `maxSquaredNorm`
 * (a NaN norm is skipped too). Skip state `{ shouldSkip, normSquared }`.
 * Reference: optax `skip_large_updates`.
 *
 * @example
 * ```ts
 * multiSteps(adam(1e-3), 4, { shouldSkipUpdateFn: (u, s, p) => skipLargeUpdates(u, s, p, 42) });
 * ```
 */
export function skipLargeUpdates(
  updates: Updates,
  _gradientStep: number | undefined,
  _params: Params | undefined,
  maxSquaredNorm: number,
): [tf.Tensor, { shouldSkip: tf.Tensor; normSquared: tf.Tensor }] {
  checkFinite('skipLargeUpdates', 'maxSquaredNorm', maxSquaredNorm);
  return tf.tidy(() => {
    const sums = treeLeaves<tf.Tensor>(updates).map((u) => tf.sum(tf.square(u)));
    const normSquared = sums.length === 0 ? tf.scalar(0, 'float32') : tf.sum(tf.stack(sums));
    const shouldSkip = tf.logicalNot(tf.less(normSquared, maxSquaredNorm));
    return [shouldSkip, { shouldSkip, normSquared }] as never;
  }) as unknown as [tf.Tensor, { shouldSkip: tf.Tensor; normSquared: tf.Tensor }];
}

function checkK(fn: string, k: number, step: number): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new Error(`${fn}: \`everyKSchedule\` must give an integer >= 1, got ${showValue(k)} at gradient step ${step}`);
  }
  return k;
}

/** The skip decision as a JS boolean: a boolean, or a scalar `bool` tensor read back (as optax checks its dtype and shape). */
function readFlag(fn: string, flag: unknown): boolean {
  if (typeof flag === 'boolean') return flag;
  if (isTensor(flag) && flag.dtype === 'bool' && flag.shape.length === 0) return flag.dataSync()[0] === 1;
  const what = isTensor(flag) ? `a ${flag.dtype} tensor of shape [${flag.shape.join(', ')}]` : String(flag);
  throw new Error(`${fn}: \`shouldSkipUpdateFn\` must return a boolean or a scalar bool tensor as its decision, got ${what}`);
}

/** `tree` with any tensor that is one of the inputs' leaves cloned, so the state never shares a tensor with an input. */
function cloneInputs(tree: unknown, ...inputs: unknown[]): unknown {
  const seen = new Set<unknown>(inputs.flatMap((t) => treeLeaves(t)));
  return treeMap((x: unknown) => (isTensor(x) && seen.has(x) ? tf.clone(x) : x), tree);
}
