/**
 * Lowering a combinator's step: a combinator whose `fusion` is of kind
 * `'lowering'` rewrites each of its steps, on the host, as a step of a plain
 * transformation (chains and element-wise stages) that the fused engine can
 * run; see {@link LoweredStep}.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, LoweredStep, LoweringInputs, Updates } from './base.js';
import { treeAllFinite } from './numerics.js';
import { isTensor, treeLeaves } from './tree.js';

/**
 * The step of `tx` for `state` as a step of a transformation that is not
 * itself a lowering combinator: `tx` as it is when it is not one, else its
 * lowering, repeated while the result is one (`multiSteps(injectHyperparams(…))`).
 * `null` when a combinator cannot lower this step (or its state is not one it
 * can read: the reference path then raises the canonical error). `inputs`
 * gives the step's updates to a lowering that decides by them.
 */
export function lowerStep(tx: GradientTransformation, state: unknown, extraArgs?: ExtraArgs, inputs?: LoweringInputs): LoweredStep | null {
  let low: LoweredStep = { tx, state, finish: (s) => s };
  for (let f = tx.fusion; f?.kind === 'lowering'; f = low.tx.fusion) {
    let next: LoweredStep | null;
    try {
      next = f.lower(low.state, extraArgs, inputs);
    } catch {
      return null;
    }
    if (next === null) return null;
    const outer = low.finish;
    const inner = next;
    low = { tx: inner.tx, state: inner.state, finish: (s, donated) => outer(inner.finish(s, donated), donated) };
  }
  return low;
}

/**
 * The {@link LoweringInputs} of a step on `updates`: finiteness from
 * `finite(leaves)` (a device's own check of its memory; null when it cannot
 * check these leaves) when given, else tfjs ops read back once; computed at
 * most once, when a lowering asks.
 */
export function loweringInputs(updates: Updates, finite?: (leaves: readonly tf.Tensor[]) => boolean | null): LoweringInputs {
  let all: boolean | undefined;
  const check = (): boolean => {
    const leaves = treeLeaves(updates).filter(isTensor);
    const got = finite?.(leaves) ?? null;
    if (got !== null) return got;
    const flag = treeAllFinite(leaves);
    const value = flag.dataSync()[0] === 1;
    flag.dispose();
    return value;
  };
  return {
    updates,
    allFinite: () => {
      all ??= check();
      return all;
    },
  };
}
