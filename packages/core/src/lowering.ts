/**
 * Lowering a combinator's step: a combinator whose `fusion` is of kind
 * `'lowering'` rewrites each of its steps, on the host, as a step of a plain
 * transformation (chains and element-wise stages) that the fused engine can
 * run; see {@link LoweredStep}.
 *
 * @module
 */
import type { ExtraArgs, GradientTransformation, LoweredStep } from './base.js';

/**
 * The step of `tx` for `state` as a step of a transformation that is not
 * itself a lowering combinator: `tx` as it is when it is not one, else its
 * lowering, repeated while the result is one (`multiSteps(injectHyperparams(…))`).
 * `null` when a combinator cannot lower this step (or its state is not one it
 * can read: the reference path then raises the canonical error).
 */
export function lowerStep(tx: GradientTransformation, state: unknown, extraArgs?: ExtraArgs): LoweredStep | null {
  let low: LoweredStep = { tx, state, finish: (s) => s };
  for (let f = tx.fusion; f?.kind === 'lowering'; f = low.tx.fusion) {
    let next: LoweredStep | null;
    try {
      next = f.lower(low.state, extraArgs);
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
