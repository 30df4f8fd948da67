/**
 * The zoom line search (strong Wolfe conditions): `scaleByZoomLinesearch`
 * (optax `scale_by_zoom_linesearch`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, UpdateExtras, Updates } from '../base.js';
import { treeAddScale, treeVdot, treeZerosLike } from '../tree-utils.js';
import { checkFloatTree, checkInteger, checkNonNegative, checkPositive, type OptionDefaults, resolveOptions } from '../validate.js';
import { evaluateWithGrad, linesearchInputs, linesearchResult, lossValue, withLeadingCount } from './value-and-grad.js';

/** Options of {@link scaleByZoomLinesearch}. */
export interface ScaleByZoomLinesearchOptions {
  /** (Also the first argument, positionally.) The most evaluations of the objective per update (required), an integer ≥ 1. */
  maxLinesearchSteps: number;
  /** The largest step size tried (default: none). */
  maxLearningRate?: number | null;
  /** Tolerance on the Wolfe conditions' errors (default 0). */
  tol?: number;
  /** How much the step grows while no interval is found (default 2). */
  increaseFactor?: number;
  /** The sufficient-decrease constant `c1` (default 1e-4). */
  slopeRtol?: number;
  /** The curvature constant `c2` (default 0.9). */
  curvRtol?: number;
  /** Relative tolerance of the approximate sufficient-decrease condition (default 1e-6; `null`: exact condition only). */
  approxDecRtol?: number | null;
  /** The interval length below which the search gives up (default 1e-5). */
  stepsizePrecision?: number;
  /** The first step tried: `'keep'` the last accepted step (default) or `'one'`. */
  initialGuessStrategy?: 'keep' | 'one';
}

/** The state of {@link scaleByZoomLinesearch}. */
export interface ZoomLinesearchState {
  /** The accepted step size (1 before the first update). */
  learningRate: number;
  /** The objective at the accepted point (a float32 scalar; +∞ before the first update). */
  value: tf.Tensor;
  /** The gradient at the accepted point (zeros before the first update). */
  grad: Updates;
  /** What the last search did. */
  info: { numLinesearchSteps: number; decreaseError: number; curvatureError: number };
}

/** The defaults of {@link scaleByZoomLinesearch}'s options (`maxLinesearchSteps` has none). */
export const scaleByZoomLinesearchDefaults: OptionDefaults<ScaleByZoomLinesearchOptions, 'maxLinesearchSteps'> = Object.freeze({
  maxLinesearchSteps: undefined,
  maxLearningRate: null,
  tol: 0,
  increaseFactor: 2,
  slopeRtol: 1e-4,
  curvRtol: 0.9,
  approxDecRtol: 1e-6,
  stepsizePrecision: 1e-5,
  initialGuessStrategy: 'keep',
});

const f = Math.fround;

/** One point on the line `params + stepsize · updates`: value, slope and gradient. */
interface Point {
  stepsize: number;
  value: number;
  slope: number;
  grad: Updates;
}

/** The search's variables (optax's `ZoomLinesearchState`), float32 scalars as JS numbers. */
interface Search {
  count: number;
  cur: Point;
  decreaseError: number;
  curvatureError: number;
  intervalFound: boolean;
  done: boolean;
  failed: boolean;
  low: Omit<Point, 'grad'>;
  high: Omit<Point, 'grad'>;
  cubicRef: number;
  valueCubicRef: number;
  safe: Point;
}

/** The minimizer of the cubic through (a, fa) with slope fpa, (b, fb) and (c, fc), in float32. */
function cubicMin(a: number, fa: number, fpa: number, b: number, fb: number, c: number, fc: number): number {
  const db = f(b - a);
  const dc = f(c - a);
  const denom = f(f(f(db * dc) * f(db * dc)) * f(db - dc));
  const v0 = f(f(fb - fa) - f(fpa * db));
  const v1 = f(f(fc - fa) - f(fpa * dc));
  const dc2 = f(dc * dc);
  const db2 = f(db * db);
  const A = f(f(f(dc2 * v0) + f(f(-db2) * v1)) / denom);
  const B = f(f(f(f(-f(dc2 * dc)) * v0) + f(f(db2 * db) * v1)) / denom);
  const radical = f(f(B * B) - f(f(3 * A) * fpa));
  return f(a + f(f(-B + f(Math.sqrt(radical))) / f(3 * A)));
}

/** The minimizer of the quadratic through (a, fa) with slope fpa and (b, fb), in float32. */
function quadMin(a: number, fa: number, fpa: number, b: number, fb: number): number {
  const db = f(b - a);
  const B = f(f(f(fb - fa) - f(fpa * db)) / f(db * db));
  return f(a - f(fpa / f(2 * B)));
}

/**
 * Finds a step size along the incoming updates (a descent direction) that
 * satisfies the strong Wolfe conditions, by the zoom algorithm: grow the step
 * until an interval holding an acceptable step is bracketed, then shrink the
 * interval by cubic, quadratic or bisection steps. With `d` the updates,
 * `f0`, `s0 = ⟨∇f0, d⟩` the value and slope at the params:
 * $$
 * f(p + \eta d) \le f_0 + c_1\, \eta\, s_0, \qquad \big|\langle \nabla f(p + \eta d), d \rangle\big| \le c_2\, |s_0|, \qquad u = \eta\, d
 * $$
 *
 * ```
 * sufficient decrease:  f(p + η d) <= f0 + slopeRtol · η · s0
 *                       (or, within approxDecRtol · |f0|, the approximate condition of Hager & Zhang)
 * curvature:            |⟨∇f(p + η d), d⟩| <= curvRtol · |s0|
 * u = η · d
 * ```
 * Called as `scaleByZoomLinesearch(maxLinesearchSteps, options)` or with
 * every option in one object. When the search fails it takes the best step that decreased the objective
 * enough (or 0 when every try gave a non-finite value). The update needs the
 * extra arguments `value` (the objective at `params`), `grad` (its gradient)
 * and `valueFn` (the objective; gradients along the line come from
 * `tf.valueAndGrads`), and `params`. The state keeps the accepted value and
 * gradient for {@link valueAndGradFromState}. Does not fuse (it evaluates
 * the objective): reference path. The scalar arithmetic is float32, as
 * optax's. Defaults `maxLearningRate = none, tol = 0, increaseFactor = 2,
 * slopeRtol = 1e-4, curvRtol = 0.9, approxDecRtol = 1e-6,
 * stepsizePrecision = 1e-5, initialGuessStrategy = 'keep'`.
 * Reference: Nocedal & Wright, "Numerical Optimization" (2006), Algorithms
 * 3.5-3.6; Hager & Zhang (2006); optax `scale_by_zoom_linesearch`.
 */
export function scaleByZoomLinesearch(
  maxLinesearchSteps: number | ScaleByZoomLinesearchOptions,
  options?: Omit<ScaleByZoomLinesearchOptions, 'maxLinesearchSteps'>,
): GradientTransformation<ZoomLinesearchState> {
  const fn = 'scaleByZoomLinesearch';
  const given = withLeadingCount(fn, 'maxLinesearchSteps', maxLinesearchSteps, options);
  const o = resolveOptions(fn, given, scaleByZoomLinesearchDefaults);
  const maxSteps = checkInteger(fn, 'maxLinesearchSteps', o.maxLinesearchSteps as number, 1);
  const maxStepsize = o.maxLearningRate === null ? null : f(checkPositive(fn, 'maxLearningRate', o.maxLearningRate));
  const tol = f(checkNonNegative(fn, 'tol', o.tol));
  const increase = f(checkPositive(fn, 'increaseFactor', o.increaseFactor));
  const slopeRtol = f(checkNonNegative(fn, 'slopeRtol', o.slopeRtol));
  const curvRtol = f(checkNonNegative(fn, 'curvRtol', o.curvRtol));
  const approxDecRtol = o.approxDecRtol === null ? null : f(checkNonNegative(fn, 'approxDecRtol', o.approxDecRtol));
  const approxSlopeFactor = f(2 * o.slopeRtol - 1);
  const threshold = f(checkNonNegative(fn, 'stepsizePrecision', o.stepsizePrecision));
  if (o.initialGuessStrategy !== 'keep' && o.initialGuessStrategy !== 'one') {
    throw new Error(`${fn}: \`initialGuessStrategy\` must be 'keep' or 'one', got ${JSON.stringify(o.initialGuessStrategy)}`);
  }
  const nanToInf = (x: number): number => (Number.isNaN(x) ? Infinity : x);

  const decreaseError = (step: number, value: number, slope: number, value0: number, slope0: number): number => {
    let err = f(f(value - value0) - f(f(slopeRtol * step) * slope0));
    if (approxDecRtol !== null) {
      const approx = f(slope - f(approxSlopeFactor * slope0));
      const delta = f(f(value - value0) - f(approxDecRtol * Math.abs(value0)));
      err = Math.min(Math.max(approx, delta), err);
    }
    return nanToInf(Math.max(err, 0));
  };
  const curvatureError = (slope: number, slope0: number): number =>
    nanToInf(Math.max(f(Math.abs(slope) - f(curvRtol * Math.abs(slope0))), 0));

  /**
   * A new point's errors in the sufficient-decrease and the curvature
   * condition, and the search moved on to it (the fields every step sets).
   */
  const measure = (s: Search, p: Point, value0: number, slope0: number) => {
    const dec = decreaseError(p.stepsize, p.value, p.slope, value0, slope0);
    const curv = curvatureError(p.slope, slope0);
    return { p, dec, curv, next: { ...s, count: s.count + 1, cur: p, decreaseError: dec, curvatureError: curv } };
  };

  function search(s: Search, at: (step: number) => Point, value0: number, slope0: number, guess: number): Search {
    const prev = s.cur;
    let step = s.count === 0 ? guess : f(increase * prev.stepsize);
    let maxReached = false;
    if (maxStepsize !== null) {
      maxReached = step >= maxStepsize;
      step = Math.min(step, maxStepsize);
    }
    const { p, dec, curv, next } = measure(s, at(step), value0, slope0);
    const error = Math.max(dec, curv);
    const safe = dec <= tol ? p : s.safe;
    const setHigh = dec > 0 || (p.value >= prev.value && s.count > 0);
    const setLow = p.slope >= 0 && !setHigh;
    const [low, high] = setLow ? [p, prev] : [prev, p];
    const intervalFound = setHigh || setLow || error <= tol;
    const done = error <= tol || (maxReached && !intervalFound);
    const failed = s.count + 1 >= maxSteps && !done;
    return {
      ...next,
      intervalFound,
      done,
      failed,
      low: { stepsize: low.stepsize, value: low.value, slope: low.slope },
      high: { stepsize: high.stepsize, value: high.value, slope: high.slope },
      cubicRef: low.stepsize,
      valueCubicRef: low.value,
      safe,
    };
  }

  function zoom(s: Search, at: (step: number) => Point, value0: number, slope0: number): Search {
    const { low, high } = s;
    const delta = Math.abs(f(high.stepsize - low.stepsize));
    const left = Math.min(high.stepsize, low.stepsize);
    const right = Math.max(high.stepsize, low.stepsize);
    const cubicChk = f(f(0.2) * delta);
    const quadChk = f(f(0.1) * delta);
    const tooSmall = delta <= threshold;
    const mc = cubicMin(low.stepsize, low.value, low.slope, high.stepsize, high.value, s.cubicRef, s.valueCubicRef);
    const useCubic = mc > f(left + cubicChk) && mc < f(right - cubicChk);
    const mq = quadMin(low.stepsize, low.value, low.slope, high.stepsize, high.value);
    const useQuad = !useCubic && mq > f(left + quadChk) && mq < f(right - quadChk);
    const middle = useCubic ? mc : useQuad ? mq : f(f(low.stepsize + high.stepsize) / 2);
    const { p, dec, curv, next } = measure(s, at(middle), value0, slope0);
    const done = Math.max(dec, curv) <= tol;
    const safe = dec <= tol && p.value < s.safe.value ? p : s.safe;
    const highToMiddle = dec > 0 || p.value >= low.value;
    const highToLow = f(p.slope * f(high.stepsize - low.stepsize)) >= 0 && !highToMiddle;
    const mid = { stepsize: middle, value: p.value, slope: p.slope };
    const newHigh = highToLow ? low : highToMiddle ? mid : high;
    const newLow = highToMiddle ? low : mid;
    const ref = highToMiddle || highToLow ? high : low;
    const failed = (s.count + 1 >= maxSteps || (tooSmall && safe.stepsize > 0)) && !done;
    return {
      ...next,
      done,
      failed,
      low: newLow,
      high: newHigh,
      cubicRef: ref.stepsize,
      valueCubicRef: ref.value,
      safe,
    };
  }

  /** On failure: the safe step when there is one (or when the values left the domain). */
  const trySafeStep = (s: Search): Search => (s.safe.stepsize > 0 || s.decreaseError === Infinity ? { ...s, cur: s.safe } : s);

  return {
    init(params: Params): ZoomLinesearchState {
      checkFloatTree(fn, 'params', params);
      return {
        learningRate: 1,
        value: tf.scalar(Infinity),
        grad: treeZerosLike(params),
        info: { numLinesearchSteps: 0, decreaseError: Infinity, curvatureError: Infinity },
      };
    },
    update(updates: Updates, state: ZoomLinesearchState, given?: Params, extras?: UpdateExtras) {
      const { params, value0, grad0, valueFn } = linesearchInputs(fn, updates, state, given, extras);
      return tf.tidy(() => {
        const at = (stepsize: number): Point => {
          const { value, grad } = evaluateWithGrad(fn, valueFn, treeAddScale(params, stepsize, updates));
          return { stepsize, value: lossValue(fn, '`valueFn`', value), slope: treeVdot(grad, updates).dataSync()[0] as number, grad };
        };
        const slope0 = treeVdot(updates, grad0).dataSync()[0] as number;
        const guess = o.initialGuessStrategy === 'one' ? 1 : f(state.learningRate);
        const start: Point = { stepsize: 0, value: value0, slope: slope0, grad: grad0 };
        let s: Search = {
          count: 0,
          cur: start,
          decreaseError: Infinity,
          curvatureError: Infinity,
          intervalFound: false,
          done: false,
          failed: false,
          low: { stepsize: 0, value: value0, slope: slope0 },
          high: { stepsize: 0, value: value0, slope: slope0 },
          cubicRef: 0,
          valueCubicRef: value0,
          safe: start,
        };
        while (!(s.done || s.failed)) {
          s = s.intervalFound ? zoom(s, at, value0, slope0) : search(s, at, value0, slope0, guess);
          if (s.failed) s = trySafeStep(s);
        }
        const info = { numLinesearchSteps: s.count, decreaseError: s.decreaseError, curvatureError: s.curvatureError };
        return linesearchResult(updates, s.cur.stepsize, s.cur.value, s.cur.grad, info) as never;
      });
    },
  };
}
