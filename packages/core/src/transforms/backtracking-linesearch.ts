/**
 * The backtracking (Armijo) line search: `scaleByBacktrackingLinesearch`
 * (optax `scale_by_backtracking_linesearch`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, UpdateExtras, Updates } from '../base.js';
import { treeAddScale, treeVdot, treeZerosLike } from '../tree-utils.js';
import {
  checkBoolean,
  checkFloatTree,
  checkInteger,
  checkNonNegative,
  checkPositive,
  checkUnitInterval,
  type OptionDefaults,
  resolveOptions,
} from '../validate.js';
import { evaluateWithGrad, linesearchInputs, linesearchResult, lossValue, withLeadingCount } from './value-and-grad.js';

/** Options of {@link scaleByBacktrackingLinesearch}. */
export interface ScaleByBacktrackingLinesearchOptions {
  /** (Also the first argument, positionally.) The most step-size reductions per update (required), an integer ≥ 0. */
  maxBacktrackingSteps: number;
  /** The sufficient-decrease constant (default 1e-4). */
  slopeRtol?: number;
  /** The factor a rejected step is multiplied by (default 0.8), in [0, 1]. */
  decreaseFactor?: number;
  /** The factor the previous step grows by before the next search (default 1.5). */
  increaseFactor?: number;
  /** The largest step size (default 1). */
  maxLearningRate?: number;
  /** Absolute tolerance on the decrease condition (default 0). */
  atol?: number;
  /** Relative tolerance on the decrease condition (default 0). */
  rtol?: number;
  /** Also compute and keep the gradient at the accepted point (default false), for {@link valueAndGradFromState}. */
  storeGrad?: boolean;
}

/** The state of {@link scaleByBacktrackingLinesearch}. */
export interface BacktrackingLinesearchState {
  /** The accepted step size (1 before the first update). */
  learningRate: number;
  /** The objective at the accepted point (a float32 scalar; +∞ before the first update). */
  value: tf.Tensor;
  /** The gradient at the accepted point with `storeGrad`, else `null`. */
  grad: Updates | null;
  /** What the last search did. */
  info: { numLinesearchSteps: number; decreaseError: number };
}

/** The defaults of {@link scaleByBacktrackingLinesearch}'s options (`maxBacktrackingSteps` has none). */
export const scaleByBacktrackingLinesearchDefaults: OptionDefaults<ScaleByBacktrackingLinesearchOptions, 'maxBacktrackingSteps'> =
  Object.freeze({
    maxBacktrackingSteps: undefined,
    slopeRtol: 1e-4,
    decreaseFactor: 0.8,
    increaseFactor: 1.5,
    maxLearningRate: 1,
    atol: 0,
    rtol: 0,
    storeGrad: false,
  });

const f = Math.fround;

/**
 * Shrinks the step along the incoming updates `d` until the objective
 * decreases enough (the Armijo condition), starting from the last accepted
 * step grown by `increaseFactor` (capped at `maxLearningRate`):
 * $$
 * f(p + \eta d) \le (1 + r)\, f(p) + c\, \eta\, \langle d, \nabla f(p) \rangle + a, \qquad u = \eta\, d
 * $$
 *
 * ```
 * η ← min(increaseFactor · η_prev, maxLearningRate)
 * while f(p + η d) > (1 + rtol) f(p) + slopeRtol · η · ⟨d, ∇f(p)⟩ + atol:  η ← decreaseFactor · η
 * u = η · d                      (η = 0 when the last try was non-finite)
 * ```
 * Called as `scaleByBacktrackingLinesearch(maxBacktrackingSteps, options)` or
 * with every option in one object. The update needs `params` and the extra
 * arguments `value`, `grad` and `valueFn`. Does not fuse (it evaluates the objective): reference path;
 * scalar arithmetic in float32, as optax's. Defaults `slopeRtol = 1e-4,
 * decreaseFactor = 0.8, increaseFactor = 1.5, maxLearningRate = 1, atol = 0,
 * rtol = 0, storeGrad = false`. Reference: Nocedal & Wright, "Numerical
 * Optimization" (2006), Algorithm 3.1; optax `scale_by_backtracking_linesearch`.
 */
export function scaleByBacktrackingLinesearch(
  maxBacktrackingSteps: number | ScaleByBacktrackingLinesearchOptions,
  options?: Omit<ScaleByBacktrackingLinesearchOptions, 'maxBacktrackingSteps'>,
): GradientTransformation<BacktrackingLinesearchState> {
  const fn = 'scaleByBacktrackingLinesearch';
  const given = withLeadingCount(fn, 'maxBacktrackingSteps', maxBacktrackingSteps, options);
  const o = resolveOptions(fn, given, scaleByBacktrackingLinesearchDefaults);
  const maxSteps = checkInteger(fn, 'maxBacktrackingSteps', o.maxBacktrackingSteps as number, 0);
  const slopeRtol = f(checkNonNegative(fn, 'slopeRtol', o.slopeRtol));
  const decrease = f(checkUnitInterval(fn, 'decreaseFactor', o.decreaseFactor));
  const increase = f(checkPositive(fn, 'increaseFactor', o.increaseFactor));
  const maxLr = f(checkPositive(fn, 'maxLearningRate', o.maxLearningRate));
  const atol = f(checkNonNegative(fn, 'atol', o.atol));
  const onePlusRtol = f(1 + checkNonNegative(fn, 'rtol', o.rtol));
  const storeGrad = checkBoolean(fn, 'storeGrad', o.storeGrad);
  return {
    init(params: Params): BacktrackingLinesearchState {
      checkFloatTree(fn, 'params', params);
      return {
        learningRate: 1,
        value: tf.scalar(Infinity),
        grad: storeGrad ? treeZerosLike(params) : null,
        info: { numLinesearchSteps: 0, decreaseError: Infinity },
      };
    },
    update(updates: Updates, state: BacktrackingLinesearchState, given?: Params, extras?: UpdateExtras) {
      const { params, value0, grad0, valueFn } = linesearchInputs(fn, updates, state, given, extras);
      return tf.tidy(() => {
        const slope = treeVdot(updates, grad0).dataSync()[0] as number;
        let lr = Math.min(f(increase * state.learningRate), maxLr);
        let value = value0;
        let grad: Updates | null = storeGrad ? treeZerosLike(params) : null;
        let decreaseError = Infinity;
        let iter = 0;
        while (!(decreaseError <= atol) && iter <= maxSteps) {
          if (iter > 0) lr = f(decrease * lr);
          const trial = treeAddScale(params, lr, updates);
          const out = storeGrad ? evaluateWithGrad(fn, valueFn, trial) : undefined;
          value = lossValue(fn, '`valueFn`', out ? out.value : valueFn(trial));
          const err = f(f(value - f(onePlusRtol * value0)) - f(f(lr * slopeRtol) * slope));
          decreaseError = Number.isNaN(err) ? Infinity : Math.max(err, 0);
          if (out && (decreaseError <= atol || iter === maxSteps)) grad = out.grad;
          iter += 1;
        }
        const accepted = decreaseError === Infinity ? 0 : lr;
        return linesearchResult(updates, accepted, value, grad, { numLinesearchSteps: iter, decreaseError }) as never;
      });
    },
  };
}
