/**
 * `createOptimizer`: a stateful helper for a training loop that owns the
 * params and the state of a transformation and steps them with the fused
 * engine.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, Updates } from './base.js';
import { type Precision, withPrecision } from './precision.js';
import { DonatingStepper } from './stepper.js';
import { describe, isPlainObject, isTensor, treeLeaves } from './tree.js';
import { checkBoolean, checkParamsTree, checkTransformation, type OptionDefaults, resolveOptions } from './validate.js';

/** Options of {@link createOptimizer}. */
export interface OptimizerOptions {
  /**
   * Run steps on the fused engine where it applies (the `cpu` and `wasm`
   * backends, element-wise stages) (default true). False runs every step on
   * the reference path: `tx.update` with tfjs ops, then `applyUpdates`.
   */
  fused?: boolean;
  /**
   * Let a step write the new params and state into the buffers of the old
   * ones (default true): no memory is allocated per step. False writes every
   * step's results to fresh tensors (and still disposes the old ones).
   */
  inPlace?: boolean;
  /**
   * The arithmetic (default `'exact'`: bit for bit the reference path, as
   * optax computes). `'fast'` multiplies by reciprocals of the per-step
   * scalars instead of dividing by them (bias corrections and the like; see
   * {@link fastPrecision}): each such operation may differ by about one
   * float32 ulp, and a step runs faster where divisions bound it.
   */
  precision?: Precision;
}

/** The defaults of {@link createOptimizer}'s options (its known option keys). */
export const createOptimizerDefaults: OptionDefaults<OptimizerOptions> = Object.freeze({ fused: true, inPlace: true, precision: 'exact' });

/** A training-loop helper made by {@link createOptimizer}. */
export interface Optimizer<S = unknown> {
  /**
   * Applies one step for `grads` (a tree with the params' structure): the
   * transformation's update followed by `applyUpdates`. `grads` are read,
   * never changed or disposed. `extraArgs` are passed to the transformation.
   */
  step(grads: Updates, extraArgs?: ExtraArgs): void;
  /** The current params (the same `tf.Variable` objects when the params are variables). */
  readonly params: Params;
  /** The current state of the transformation. */
  readonly state: S;
  /** Disposes the state. The params are left to the caller (variables as they are, tensors not disposed). */
  dispose(): void;
}

/**
 * Creates an optimizer that owns `params` and the state `tx.init(params)`,
 * for a training loop: `opt.step(grads)` runs `tx.update` and
 * `applyUpdates`, and keeps `tf.memory().numTensors` flat step after step.
 *
 * **Donation.** The optimizer donates its params and state to every step (as
 * JAX's `donate_argnums`), so on the `cpu` and `wasm` backends the fused
 * engine updates them in place: no tensor is allocated per step, and
 * `opt.params` / `opt.state` are the same tensor objects holding new values.
 * Where a buffer cannot be overwritten (it is shared with another tensor, or
 * on other backends and on the reference path), the step makes new tensors
 * and disposes the old ones. So a param or state tensor read from the
 * optimizer is valid until the next step: clone it to keep its value. Params
 * that are `tf.Variable`s stay the same objects and take their new values in
 * place (written in place, or assigned); plain tensor params passed in
 * belong to the optimizer from then on. On the `cpu` backend a contiguous
 * `tf.slice` of a tensor shares its memory without tfjs knowing: do not keep
 * slices of the params across steps, clone them.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(adamw(1e-3), model.getWeights());
 * for (const batch of data) {
 *   const { grads } = tf.variableGrads(() => loss(batch));
 *   opt.step(grads);
 *   tf.dispose(grads);
 * }
 * opt.dispose();
 * ```
 */
export function createOptimizer<S = unknown>(tx: GradientTransformation<S>, params: Params, options: OptimizerOptions = {}): Optimizer<S> {
  checkTransformation('createOptimizer', '`tx`', tx);
  const o = resolveOptions('createOptimizer', options, createOptimizerDefaults);
  const fused = checkBoolean('createOptimizer', 'fused', o.fused);
  const inPlace = checkBoolean('createOptimizer', 'inPlace', o.inPlace);
  checkParamsTree('createOptimizer', params);
  let p = params;
  let state: S = tx.init(params);
  let disposed = false;
  const stepper = new DonatingStepper(withPrecision('createOptimizer', tx, o.precision), {
    by: 'createOptimizer',
    fused,
    inPlace,
  });
  const alive = (what: string) => {
    if (disposed) throw new Error(`createOptimizer: ${what} after dispose()`);
  };
  return {
    step(grads: Updates, extraArgs?: ExtraArgs): void {
      alive('step()');
      if (extraArgs !== undefined && !isPlainObject(extraArgs))
        throw new Error(`createOptimizer: step's \`extraArgs\` must be an object of named arguments, got ${describe(extraArgs)}`);
      [p, state] = stepper.step(grads, state, p, extraArgs);
    },
    get params() {
      return p;
    },
    get state() {
      alive('state');
      return state;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      for (const t of treeLeaves(state)) if (isTensor(t)) (t as tf.Tensor).dispose();
    },
  };
}
