/**
 * `createOptimizer`: a stateful helper for a training loop that owns the
 * params and the state of a transformation and steps them with the fused
 * engine.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, StateFor, Updates } from './base.js';
import { isVariable } from './fused/donation.js';
import { gradientsByName, isNamedGradientMap, lossAndGradients } from './gradients.js';
import { checkStructureMatches, flattenState } from './interop/structure.js';
import { type Precision, withPrecision } from './precision.js';
import { checkOnStep, type StepHook } from './step-report.js';
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
  /**
   * A state to start from instead of `tx.init(params)`, e.g. one restored
   * with `loadState` or `loadCheckpoint` to resume a run. It is checked
   * against `tx.init(params)` (the same containers and keys, tensors of the
   * same shapes and dtypes), and a mismatch throws naming the first differing
   * path. The optimizer owns it from then on (steps donate it; `dispose()`
   * frees it).
   */
  state?: unknown;
  /**
   * Called after every step with what it did (see {@link StepReport}): the
   * learning rate, the global norm of the gradients before any clipping,
   * the step's time and whether it ran fused. Costs one scalar read-back
   * per step.
   */
  onStep?: StepHook;
}

/** Options of {@link Optimizer.minimize}. */
export interface MinimizeOptions {
  /** Return the loss (a scalar tensor the caller owns) instead of disposing it (default false). */
  returnLoss?: boolean;
  /** Extra arguments passed to the transformation, as in {@link Optimizer.step}. */
  extraArgs?: ExtraArgs;
}

/** The defaults of {@link createOptimizer}'s options (its known option keys). */
export const createOptimizerDefaults: OptionDefaults<OptimizerOptions, 'state' | 'onStep'> = Object.freeze({
  fused: true,
  inPlace: true,
  precision: 'exact',
  state: undefined,
  onStep: undefined,
});

/** A training-loop helper made by {@link createOptimizer}. */
export interface Optimizer<S = unknown, P extends Params = Params> {
  /**
   * Applies one step for `grads`: the transformation's update followed by
   * `applyUpdates`. `grads` is a tree with the params' structure or, when
   * the params are `tf.Variable`s, the map of gradients by variable name
   * that `tf.variableGrads` returns (every variable must have one). `grads`
   * are read, never changed or disposed. `extraArgs` are passed to the
   * transformation.
   */
  step(grads: Updates | tf.NamedTensorMap, extraArgs?: ExtraArgs): void;
  /**
   * One step on the gradient of `lossFn` at the current params (as tfjs's
   * `optimizer.minimize`): computes the loss and its gradients with
   * {@link valueAndGrad}, steps on them and frees them. `lossFn` receives the
   * params. Returns the loss (before the step) when `returnLoss` is set,
   * else `null`.
   */
  minimize(lossFn: (params: P) => tf.Tensor, options: MinimizeOptions & { returnLoss: true }): tf.Scalar;
  minimize(lossFn: (params: P) => tf.Tensor, options?: MinimizeOptions): tf.Scalar | null;
  /** The current params (the same `tf.Variable` objects when the params are variables). */
  readonly params: P;
  /** The current state of the transformation (typed: `opt.state[0].mu.w` for `adam` on params `{ w }`). */
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
 * const opt = createOptimizer(adamw(1e-3), model.trainableWeights.map((w) => w.read()));
 * for (const { xs, ys } of batches) {
 *   const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs) as tf.Tensor), { returnLoss: true });
 *   console.log(loss.dataSync()[0]);
 *   loss.dispose();
 * }
 * opt.dispose();
 * ```
 * @category Training loop
 */
export function createOptimizer<S = unknown, P extends Params = Params>(
  tx: GradientTransformation<S>,
  params: P,
  options?: OptimizerOptions,
): Optimizer<StateFor<S, P>, P>;
export function createOptimizer<S, P extends Params>(
  tx: GradientTransformation<S>,
  params: P,
  options: OptimizerOptions = {},
): Optimizer<S, P> {
  checkTransformation('createOptimizer', '`tx`', tx);
  const o = resolveOptions('createOptimizer', options, createOptimizerDefaults);
  const fused = checkBoolean('createOptimizer', 'fused', o.fused);
  const inPlace = checkBoolean('createOptimizer', 'inPlace', o.inPlace);
  checkParamsTree('createOptimizer', params);
  let p: Params = params;
  let state: S = o.state === undefined ? tx.init(params) : checkedState('createOptimizer', tx, params, o.state as S);
  let disposed = false;
  const stepper = new DonatingStepper(withPrecision('createOptimizer', tx, o.precision), {
    by: 'createOptimizer',
    fused,
    inPlace,
    onStep: checkOnStep('createOptimizer', o.onStep),
    reportAs: tx as GradientTransformation,
  });
  // gradients can come as a name-keyed map only for params that are variables: known per params tree, so a
  // step on tensor params does not compare the gradients' structure with the params' (O(leaves) host work)
  let variablesIn: { params: Params; any: boolean } | null = null;
  const maybeNamed = (params: Params): boolean => {
    if (variablesIn === null || variablesIn.params !== params)
      variablesIn = { params, any: treeLeaves(params).some((x) => isTensor(x) && isVariable(x)) };
    return variablesIn.any;
  };
  const alive = (what: string) => {
    if (disposed) throw new Error(`createOptimizer: ${what} after dispose()`);
  };
  const optimizer = {
    step(given: Updates | tf.NamedTensorMap, extraArgs?: ExtraArgs): void {
      alive('step()');
      const grads = maybeNamed(p) && isNamedGradientMap(given, p) ? gradientsByName('createOptimizer.step', given, p) : (given as Updates);
      if (extraArgs !== undefined && !isPlainObject(extraArgs))
        throw new Error(`createOptimizer: step's \`extraArgs\` must be an object of named arguments, got ${describe(extraArgs)}`);
      [p, state] = stepper.step(grads, state, p, extraArgs);
    },
    minimize(lossFn: (params: P) => tf.Tensor, minimizeOptions?: MinimizeOptions): tf.Scalar | null {
      alive('minimize()');
      return minimizeWith(optimizer as Optimizer<S, P>, lossFn, minimizeOptions);
    },
    get params() {
      return p as P;
    },
    get state() {
      alive('state');
      return state;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      stepper.dispose();
      for (const t of treeLeaves(state)) if (isTensor(t)) (t as tf.Tensor).dispose();
    },
  };
  return optimizer as Optimizer<S, P>;
}

/**
 * Checks a given start state against `tx.init(params)` with the checkpoint
 * errors (the reference state is disposed afterwards), and returns it.
 */
function checkedState<S>(fn: string, tx: GradientTransformation<S>, params: Params, state: S): S {
  const { structure, tensors } = flattenState(state, fn);
  const specs = new Map(tensors.map(({ name, tensor }) => [name, tensor]));
  const reference = tx.init(params);
  try {
    checkStructureMatches(structure, (name) => specs.get(name), reference, { fn, found: 'the given `state`', expected: 'tx.init(params)' });
  } finally {
    for (const leaf of treeLeaves(reference)) if (isTensor(leaf)) leaf.dispose();
  }
  return state;
}

/**
 * One step of `opt` on the gradient of `lossFn` at `opt.params`: what
 * {@link Optimizer.minimize} does, for any object with `step` and `params`
 * (e.g. an optimizer of another package built on this one). Frees the
 * gradients; returns the loss when `returnLoss` is set (else disposes it and
 * returns `null`).
 */
export function minimizeWith<P extends Params>(
  opt: Pick<Optimizer<unknown, P>, 'step' | 'params'>,
  lossFn: (params: P) => tf.Tensor,
  options: MinimizeOptions = {},
): tf.Scalar | null {
  const { value, grads } = lossAndGradients('minimize', lossFn, opt.params);
  try {
    opt.step(grads, options.extraArgs);
  } catch (e) {
    value.dispose();
    throw e;
  } finally {
    for (const g of treeLeaves(grads)) if (isTensor(g)) g.dispose();
  }
  if (options.returnLoss === true) return value;
  value.dispose();
  return null;
}
