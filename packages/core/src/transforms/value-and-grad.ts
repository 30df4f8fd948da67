/**
 * The objective of a line search: `valueAndGradFromState` (optax
 * `value_and_grad_from_state`) and the evaluations the line searches make.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params, UpdateExtras, Updates } from '../base.js';
import { treeFlatten, treeMap, treeUnflatten } from '../tree.js';
import { treeGet } from '../tree-utils.js';
import { checkFloatTree, checkStateKeys, requireExtra, requireParams, resolveOptions } from '../validate.js';

/** An objective: params to a scalar loss (a number or a scalar tensor). It must not dispose its argument. */
export type ValueFn = (params: Params) => number | tf.Tensor;

/** The loss as a JS number (float32), checking that it is one. */
export function lossValue(fn: string, what: string, value: unknown): number {
  if (typeof value === 'number') return Math.fround(value);
  if (value instanceof tf.Tensor && value.size === 1 && !value.isDisposed) return value.dataSync()[0] as number;
  throw new Error(
    `${fn}: ${what} must be a number or a scalar tensor, got ${value instanceof tf.Tensor ? `a tensor of shape [${value.shape.join(', ')}]` : String(value)}`,
  );
}

/**
 * `valueFn(params)` and its gradient with respect to every leaf of `params`,
 * through `tf.valueAndGrads` (so the backend's gradients must be registered,
 * e.g. by importing `@tensorflow/tfjs`). Call inside `tf.tidy`.
 */
export function evaluateWithGrad(fn: string, valueFn: ValueFn, params: Params): { value: tf.Tensor; grad: Updates } {
  const { leaves, treedef } = treeFlatten<tf.Tensor>(params);
  const f = (...xs: tf.Tensor[]): tf.Scalar => {
    const v = valueFn(treeUnflatten(treedef, xs));
    if (!(v instanceof tf.Tensor) || v.size !== 1) {
      throw new Error(
        `${fn}: \`valueFn\` must return a scalar tensor to be differentiated, got ${v instanceof tf.Tensor ? `shape [${v.shape.join(', ')}]` : String(v)}`,
      );
    }
    return tf.reshape(v, []) as tf.Scalar;
  };
  let out: { value: tf.Tensor; grads: tf.Tensor[] };
  try {
    out = tf.valueAndGrads(f)(leaves);
  } catch (err) {
    const msg = (err as Error).message;
    if (msg.startsWith(fn)) throw err;
    throw new Error(
      `${fn}: differentiating \`valueFn\` failed: ${msg} (the backend's gradients must be registered, e.g. import '@tensorflow/tfjs')`,
    );
  }
  return { value: out.value, grad: treeUnflatten(treedef, out.grads) };
}

/**
 * Wraps an objective so that it reuses the value and gradient a line search
 * stored in the optimizer state (under the keys `value` and `grad`, as
 * {@link scaleByZoomLinesearch} keeps them) when the stored value is finite,
 * and computes them with `tf.valueAndGrads` otherwise (the first step):
 * $$
 * (f, \nabla f) = \begin{cases} (f_s, g_s) & f_s \text{ finite (stored by the line search)} \\ \big(f(p), \nabla f(p)\big) & \text{otherwise} \end{cases}
 * $$
 *
 * ```ts
 * const valueAndGrad = valueAndGradFromState(f);
 * const [value, grad] = valueAndGrad(params, state);
 * [updates, state] = tx.update(grad, state, params, { value, grad, valueFn: f });
 * ```
 * Returns fresh tensors (the caller disposes them). Reference: optax `value_and_grad_from_state`.
 */
export function valueAndGradFromState(valueFn: ValueFn): (params: Params, state: unknown) => [tf.Tensor, Updates] {
  const fn = 'valueAndGradFromState';
  if (typeof valueFn !== 'function') throw new Error(`${fn}: \`valueFn\` must be a function, got ${String(valueFn)}`);
  return (params, state) => {
    const value = treeGet(state, 'value');
    const grad = treeGet(state, 'grad');
    if (value === undefined || value === null || grad === undefined || grad === null) {
      throw new Error(
        `${fn}: the state holds no \`value\` and \`grad\`; use it with a transformation that stores them (scaleByZoomLinesearch, lbfgs)`,
      );
    }
    if (Number.isFinite(lossValue(fn, 'the stored `value`', value))) {
      return tf.tidy(() => [tf.clone(value as tf.Tensor), treeMap((x: tf.Tensor) => tf.clone(x), grad)]) as never;
    }
    return tf.tidy(() => {
      const { value: v, grad: g } = evaluateWithGrad(fn, valueFn, params);
      return [v, g] as never;
    });
  };
}

/**
 * The options of a line search called as `f(steps, options)` or as
 * `f({ [key]: steps, ...options })`: one object, with a misplaced number
 * refused as every factory refuses it.
 */
export function withLeadingCount(fn: string, key: string, first: unknown, options: unknown): unknown {
  if (typeof first !== 'number') {
    if (options !== undefined) throw new Error(`${fn}: pass either \`${key}\` first and the options second, or one options object`);
    return first;
  }
  // only the object check: the keys are checked against the defaults afterwards
  if (options !== undefined) resolveOptions(fn, options, typeof options === 'object' && options !== null ? options : {});
  return { ...(options as object | undefined), [key]: first };
}

/** What a line search's update starts from: the objective's value `value0` and gradient `grad0` at the params, and the objective. */
export interface LinesearchInputs {
  readonly params: Params;
  readonly value0: number;
  readonly grad0: Updates;
  readonly valueFn: ValueFn;
}

/**
 * Checks a line search's update arguments (`updates`, `params`, a state with
 * `learningRate`, `value`, `grad` and `info`) and reads the extra arguments
 * `value`, `grad` and `valueFn`, naming `fn` in every error.
 */
export function linesearchInputs(
  fn: string,
  updates: Updates,
  state: unknown,
  params: Params | undefined,
  extras: UpdateExtras | undefined,
): LinesearchInputs {
  checkFloatTree(fn, 'updates', updates);
  requireParams(fn, params);
  checkStateKeys(fn, state, ['learningRate', 'value', 'grad', 'info']);
  const value0 = lossValue(fn, 'the extra argument `value`', requireExtra(fn, extras, 'value'));
  const grad0 = requireExtra(fn, extras, 'grad');
  checkFloatTree(fn, 'the extra argument `grad`', grad0);
  const valueFn = requireExtra(fn, extras, 'valueFn') as ValueFn;
  if (typeof valueFn !== 'function') throw new Error(`${fn}: the extra argument \`valueFn\` must be a function, got ${String(valueFn)}`);
  return { params: params as Params, value0, grad0, valueFn };
}

/**
 * A line search's result (call inside `tf.tidy`): the updates times the
 * accepted `stepsize`, and the state keeping the step, the value there, a
 * copy of the gradient there (or null) and what the search did.
 */
export function linesearchResult<G extends Updates | null, I>(
  updates: Updates,
  stepsize: number,
  value: number,
  grad: G,
  info: I,
): [Updates, { learningRate: number; value: tf.Tensor; grad: G; info: I }] {
  const next = {
    learningRate: stepsize,
    value: tf.scalar(value),
    grad: (grad === null ? null : treeMap((g: tf.Tensor) => tf.clone(g), grad)) as G,
    info,
  };
  return [treeMap((u: tf.Tensor) => tf.mul(stepsize, u), updates), next];
}
