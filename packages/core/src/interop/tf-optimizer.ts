/**
 * A `tf.Optimizer` made from any gradient transformation, so gradtx chains
 * drive tfjs-layers' `model.compile` / `model.fit` and tfjs-core's
 * `optimizer.minimize`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { Optimizer } from '@tensorflow/tfjs-core';
import { type GradientTransformation, MAX_COUNT, type Params } from '../base.js';
import { type Precision, withPrecision } from '../precision.js';
import { checkOnStep, type StepHook } from '../step-report.js';
import { DonatingStepper } from '../stepper.js';
import { describe, isPlainObject, isTensor, treeLeaves } from '../tree.js';
import { checkTransformation } from '../validate.js';
import {
  checkStructureMatches,
  flattenState,
  type NamedTensor,
  readStateTopology,
  stateTopology,
  structureTensorNames,
  unflattenState,
} from './structure.js';

/** Options of {@link asTfOptimizer}. */
export interface TfOptimizerOptions {
  /**
   * A name for this optimizer, reported by `getConfig()` (and so saved in a
   * model's training config) and in error messages. Default `'gradtx'`.
   */
  name?: string;
  /**
   * Run steps on the fused engine where it applies (default true): on every
   * backend with a fused device (`cpu`, `wasm`, and those registered by
   * packages such as `@gradtx/webgpu`) the element-wise stages of the
   * transformation update the model's variables and the state in place.
   * False runs every step on the reference path (`tx.update` with tfjs ops).
   */
  fused?: boolean;
  /**
   * The arithmetic of each step (default `'exact'`); `'fast'` multiplies by
   * reciprocals of the per-step scalars instead of dividing by them, as
   * {@link fastPrecision} describes. The state is the same either way.
   */
  precision?: Precision;
  /**
   * Called after every step with what it did (see {@link StepReport}); give
   * it {@link stepLogs}' `onStep` to have `model.fit` log the learning rate,
   * the pre-clip gradient norm and the step time.
   */
  onStep?: StepHook;
}

/** The name of the weight that holds the state's structure in {@link GradtxTfOptimizer.getWeights}. */
export const TF_OPTIMIZER_STRUCTURE_WEIGHT = 'gradtx/structure';

const ITERATIONS_WEIGHT = 'iter';

function disposeLeaves(tree: unknown, except?: ReadonlySet<unknown>): void {
  for (const leaf of treeLeaves(tree)) if (isTensor(leaf) && !leaf.isDisposed && !except?.has(leaf)) leaf.dispose();
}

function keepLeaves(tree: unknown): void {
  for (const leaf of treeLeaves(tree)) if (isTensor(leaf)) tf.keep(leaf);
}

let registered = false;

/**
 * The `tf.Optimizer` that {@link asTfOptimizer} returns: it applies a
 * gradient transformation to the variables whose gradients it receives.
 *
 * The transformation's params are the variables, keyed by variable name
 * (`{ 'dense_Dense1/kernel': variable, ... }`); its state is built with
 * `tx.init` on the first `applyGradients`, from the variables seen there.
 * Each step runs `tx.update(grads, state, params)` followed by
 * `applyUpdates` (so transformations that need params, such as `adamw` or
 * `lamb`, work), as `createOptimizer` does: on the fused engine where the
 * backend has a fused device, writing the new values into the variables'
 * and the state's own buffers (no tensor is allocated per step), and on the
 * reference path otherwise (the variables are assigned, the previous state
 * is disposed). Either way `tf.memory().numTensors` stays flat from step to
 * step, and the variables stay the same objects. A variable whose
 * gradient is missing or `null` in a step gets a zero gradient (as JAX gives
 * for a parameter the loss does not use); a gradient for a variable that was
 * not there on the first step is an error.
 *
 * `getWeights()` / `setWeights()` carry the whole state: the iteration count
 * (`iter`), the state's structure as a JSON string tensor
 * ({@link TF_OPTIMIZER_STRUCTURE_WEIGHT}), then the state's tensors named by
 * their paths (`state[0].mu["dense_Dense1/kernel"]`, ...), the same naming
 * as {@link saveState}; the structure also lists the variables in the order
 * of the first step, so weights saved for a model built again (whose layers
 * got other names) are matched to its variables by position, as tfjs's own
 * optimizers restore theirs. A gradtx transformation is made of functions, so it
 * cannot be rebuilt from `getConfig()`: `fromConfig` throws and says to pass
 * the optimizer again.
 */
export class GradtxTfOptimizer<S = unknown> extends Optimizer {
  /** The class name tfjs serialization uses. */
  static get className(): string {
    return 'GradtxOptimizer';
  }

  /** The gradient transformation this optimizer applies. */
  readonly tx: GradientTransformation<S>;
  /** The name given in the options (default `'gradtx'`). */
  readonly name: string;

  private variables_: Record<string, tf.Variable> | null = null;
  /** The params tree the last step returned (its leaves are the variables). */
  private paramTree_: Params = null;
  private readonly stepper_: DonatingStepper<S>;
  private state_: S | undefined = undefined;
  private hasState_ = false;
  private order_: string[] = [];
  private pending_: { state: S; order: string[] | undefined } | null = null;
  private weightsCache_: tf.Tensor[] = [];
  private disposed_ = false;

  /** Use {@link asTfOptimizer}. */
  constructor(tx: GradientTransformation<S>, options: TfOptimizerOptions = {}) {
    super();
    checkTransformation('asTfOptimizer', '`tx`', tx);
    if (options === null || typeof options !== 'object')
      throw new Error(`asTfOptimizer: \`options\` must be an object, got ${describe(options)}`);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
      throw new Error(`asTfOptimizer: \`name\` must be a non-empty string, got ${describe(options.name)}`);
    }
    if (options.fused !== undefined && typeof options.fused !== 'boolean') {
      throw new Error(`asTfOptimizer: \`fused\` must be a boolean, got ${describe(options.fused)}`);
    }
    this.tx = tx;
    this.name = options.name ?? 'gradtx';
    this.stepper_ = new DonatingStepper(withPrecision('asTfOptimizer', tx, options.precision), {
      by: `${this.fn}.applyGradients`,
      fused: options.fused !== false,
      inPlace: true,
      onStep: checkOnStep('asTfOptimizer', options.onStep),
      reportAs: tx as GradientTransformation,
    });
  }

  private get fn(): string {
    return `asTfOptimizer(${this.name})`;
  }

  private checkLive(method: string): void {
    if (this.disposed_) throw new Error(`${this.fn}.${method}: this optimizer has been disposed`);
  }

  /**
   * The current state of the transformation, or `undefined` before the
   * first step (and before `setWeights` gave one). Its tensors belong to the
   * optimizer: read them (e.g. `saveStateTo(opt.state, url)`), do not
   * dispose them; they are replaced by the next step.
   */
  get state(): S | undefined {
    if (this.hasState_) return this.state_;
    return this.pending_?.state;
  }

  /** The variables this optimizer updates, keyed by name (the transformation's params), or `undefined` before the first step. */
  get params(): Readonly<Record<string, tf.Variable>> | undefined {
    return this.variables_ ?? undefined;
  }

  /**
   * Applies one step of the transformation: `variableGradients` maps
   * variable names to gradients (an object, or a list of `{ name, tensor }`,
   * as `tf.variableGrads` and tfjs-layers give them). The gradients are not
   * disposed.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.checkLive('applyGradients');
    const fn = `${this.fn}.applyGradients`;
    let entries: [string, unknown][];
    if (Array.isArray(variableGradients)) {
      entries = variableGradients.map((e, i) => {
        if (e === null || typeof e !== 'object' || typeof e.name !== 'string') {
          throw new Error(`${fn}: entry ${i} of \`variableGradients\` must be { name, tensor }, got ${describe(e)}`);
        }
        return [e.name, e.tensor];
      });
    } else if (isPlainObject(variableGradients)) {
      entries = Object.entries(variableGradients);
    } else {
      throw new Error(
        `${fn}: \`variableGradients\` must map variable names to gradients (an object or a list of { name, tensor }), got ${describe(variableGradients)}`,
      );
    }
    if (entries.length === 0) throw new Error(`${fn}: \`variableGradients\` is empty; there is nothing to update`);

    if (this.variables_ === null)
      this.start(
        fn,
        entries.map(([name]) => name),
      );
    const variables = this.variables_ as Record<string, tf.Variable>;
    const given = new Map<string, tf.Tensor>();
    for (const [name, g] of entries) {
      const v = Object.hasOwn(variables, name) ? variables[name] : undefined;
      if (v === undefined) {
        throw new Error(
          `${fn}: got a gradient for the variable '${name}', which was not among the variables of the first step (${Object.keys(variables).join(', ')}); use a new optimizer for a different set of variables`,
        );
      }
      if (g === null || g === undefined) continue;
      if (!isTensor(g)) throw new Error(`${fn}: the gradient for '${name}' must be a tensor, got ${describe(g)}`);
      if (g.isDisposed) throw new Error(`${fn}: the gradient for '${name}' has been disposed`);
      if (g.dtype !== 'float32') throw new Error(`${fn}: the gradient for '${name}' has dtype ${g.dtype}; it must be float32`);
      if (g.shape.length !== v.shape.length || g.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(
          `${fn}: the gradient for '${name}' has shape [${g.shape.join(', ')}] but the variable has shape [${v.shape.join(', ')}]`,
        );
      }
      given.set(name, g);
    }
    for (const [name, v] of Object.entries(variables)) {
      if (v.isDisposed) throw new Error(`${fn}: the variable '${name}' has been disposed`);
    }

    // One donating step; the tidy collects the zero gradients and what the
    // reference path leaves, the new state is kept (model.fit calls this inside its own tidy).
    tf.tidy(() => {
      const grads: Record<string, tf.Tensor> = {};
      for (const [name, v] of Object.entries(variables)) grads[name] = given.get(name) ?? tf.zerosLike(v);
      const [params, state] = this.stepper_.step(grads, this.state_ as S, this.paramTree_);
      keepLeaves(state);
      this.paramTree_ = params;
      this.state_ = state;
    });
    this.incrementIterations();
  }

  /** Binds the optimizer to the variables of its first step and builds (or adopts) the state. */
  private start(fn: string, names: string[]): void {
    const registry = tf.engine().registeredVariables;
    const variables: Record<string, tf.Variable> = {};
    for (const name of names) {
      const v = Object.hasOwn(registry, name) ? registry[name] : undefined;
      if (v === undefined) {
        throw new Error(
          `${fn}: no variable named '${name}' is registered; gradients must be keyed by the names of tf.Variables (as tf.variableGrads and tfjs-layers give them)`,
        );
      }
      if (v.dtype !== 'float32')
        throw new Error(`${fn}: the variable '${name}' has dtype ${v.dtype}; gradient transformations need float32 variables`);
      variables[name] = v;
    }
    const reference = this.tx.init(variables);
    keepLeaves(reference);
    if (this.pending_ !== null) {
      const { state, order } = this.pending_;
      let adopted: S;
      try {
        adopted = adoptState(fn, state, order, names, reference);
      } finally {
        disposeLeaves(reference);
      }
      this.pending_ = null;
      this.state_ = adopted;
    } else {
      this.state_ = reference;
    }
    this.hasState_ = true;
    this.variables_ = variables;
    this.paramTree_ = variables;
    this.order_ = names;
  }

  /**
   * The optimizer's weights: `iter` (the iteration count, an int32 scalar),
   * then, once there is a state, {@link TF_OPTIMIZER_STRUCTURE_WEIGHT} (the
   * state's structure as a JSON string scalar) and the state's tensors, named
   * by their paths. The tensors belong to the optimizer (as tfjs's own
   * optimizers return their variables): do not dispose them; they stay valid
   * until the next step, `getWeights`, `setWeights` or `dispose`.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.checkLive('getWeights');
    this.disposeWeightsCache();
    const iter = tf.keep(tf.scalar(this.iterations, 'int32'));
    this.weightsCache_.push(iter);
    const out: NamedTensor[] = [{ name: ITERATIONS_WEIGHT, tensor: iter }];
    const state = this.state;
    if (this.hasState_ || this.pending_ !== null) {
      const { structure, tensors } = flattenState(state, `${this.fn}.getWeights`);
      const order = this.variables_ !== null ? this.order_ : this.pending_?.order;
      const meta = tf.keep(tf.scalar(JSON.stringify({ ...stateTopology(structure), variables: order }), 'string'));
      this.weightsCache_.push(meta);
      out.push({ name: TF_OPTIMIZER_STRUCTURE_WEIGHT, tensor: meta }, ...tensors);
    }
    return out;
  }

  /**
   * Restores weights from {@link getWeights} (of this optimizer or another
   * one with the same transformation and variables), e.g. as tfjs-layers
   * passes them when loading a model saved with its optimizer. Weights saved
   * for variables of other names, as many as this optimizer's, are matched
   * to its variables by position (the order of the first step). The tensors
   * are copied; the caller still owns (and may dispose) the given ones.
   * Once the optimizer knows its variables, the restored state is checked
   * against `tx.init(variables)` at once; before its first step it is
   * checked on that step. A mismatch throws naming the first differing path.
   * Weights with only `iter` reset the state (it is rebuilt on the next step).
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.checkLive('setWeights');
    const fn = `${this.fn}.setWeights`;
    if (!Array.isArray(weightValues))
      throw new Error(`${fn}: \`weightValues\` must be a list of { name, tensor }, got ${describe(weightValues)}`);
    const byName = new Map<string, tf.Tensor>();
    for (const [i, w] of weightValues.entries()) {
      if (w === null || typeof w !== 'object' || typeof w.name !== 'string' || !isTensor(w.tensor)) {
        throw new Error(`${fn}: entry ${i} of \`weightValues\` must be { name, tensor }, got ${describe(w)}`);
      }
      byName.set(w.name, w.tensor);
    }
    const iter = byName.get(ITERATIONS_WEIGHT);
    if (iter === undefined || iter.size !== 1) {
      throw new Error(
        `${fn}: the weights lack the iteration count '${ITERATIONS_WEIGHT}' (a scalar); give the weights that getWeights of a gradtx optimizer returns`,
      );
    }
    const metaTensor = byName.get(TF_OPTIMIZER_STRUCTURE_WEIGHT);
    if (metaTensor === undefined && byName.size > 1) {
      throw new Error(
        `${fn}: these weights have no '${TF_OPTIMIZER_STRUCTURE_WEIGHT}' entry, so they are not from a gradtx optimizer (weights of tf.train optimizers cannot be loaded into one)`,
      );
    }
    const iterations = (await iter.data())[0] as number;
    if (!Number.isInteger(iterations) || iterations < 0 || iterations > MAX_COUNT)
      throw new Error(
        `${fn}: the iteration count '${ITERATIONS_WEIGHT}' is ${String(iterations)}; it must be an integer from 0 to ${MAX_COUNT}`,
      );
    let restored: S | undefined;
    let order: string[] | undefined;
    if (metaTensor !== undefined) {
      if (metaTensor.dtype !== 'string' || metaTensor.size !== 1) {
        throw new Error(`${fn}: '${TF_OPTIMIZER_STRUCTURE_WEIGHT}' must be a string scalar, got ${describe(metaTensor)}`);
      }
      const text = (await metaTensor.data())[0] as unknown as string;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error(`${fn}: '${TF_OPTIMIZER_STRUCTURE_WEIGHT}' does not hold JSON (a damaged checkpoint?)`);
      }
      const topology = readStateTopology(fn, parsed);
      const listed = (parsed as { variables?: unknown }).variables;
      order = Array.isArray(listed) && listed.every((n) => typeof n === 'string') ? (listed as string[]) : undefined;
      const names = structureTensorNames(topology.structure, fn);
      for (const name of names) {
        if (!byName.has(name))
          throw new Error(`${fn}: the state's structure refers to the tensor \`${name}\`, which is missing from the weights`);
      }
      const copies: Record<string, tf.Tensor> = {};
      for (const name of names) copies[name] = tf.keep(tf.clone(byName.get(name) as tf.Tensor));
      try {
        restored = unflattenState<S>(topology.structure, copies, fn);
      } catch (e) {
        tf.dispose(Object.values(copies));
        throw e;
      }
    }
    // Check against the variables, if known (otherwise on the first step).
    if (restored !== undefined && this.variables_ !== null) {
      const reference = this.tx.init(this.variables_);
      try {
        restored = adoptState(fn, restored, order, this.order_, reference);
      } catch (e) {
        disposeLeaves(restored);
        throw e;
      } finally {
        disposeLeaves(reference);
      }
    }
    // Commit: replace the current (or pending) state.
    if (this.pending_ !== null) disposeLeaves(this.pending_.state);
    this.pending_ = null;
    if (this.hasState_) disposeLeaves(this.state_);
    this.state_ = undefined;
    this.hasState_ = false;
    if (restored !== undefined) {
      if (this.variables_ !== null) {
        this.state_ = restored;
        this.hasState_ = true;
      } else {
        this.pending_ = { state: restored, order };
      }
    } else if (this.variables_ !== null) {
      const fresh = this.tx.init(this.variables_);
      keepLeaves(fresh);
      this.state_ = fresh;
      this.hasState_ = true;
    }
    this.iterations_ = iterations;
  }

  /**
   * A JSON-able description: `{ name }`. It does not hold the
   * transformation (functions cannot be serialized), so `fromConfig` cannot
   * rebuild the optimizer from it.
   */
  getConfig(): tf.serialization.ConfigDict {
    return { name: this.name };
  }

  /**
   * Always throws: a gradtx transformation is made of closures and cannot be
   * rebuilt from a config. Build the optimizer again in code and pass it
   * (`model.compile({ optimizer: asTfOptimizer(tx), ... })`), then restore its
   * state with `setWeights`.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    _cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const name = config !== null && typeof config === 'object' && typeof config.name === 'string' ? ` '${config.name}'` : '';
    throw new Error(
      `GradtxOptimizer.fromConfig: the gradtx optimizer${name} cannot be rebuilt from a saved config, because its gradient transformation is made of functions (closures) that configs do not hold. ` +
        'Pass the optimizer again in code: model.compile({ optimizer: asTfOptimizer(tx), loss, ... }), then restore its state with optimizer.setWeights(weights). ' +
        'To load a model that was saved with includeOptimizer: true, load it without its training config (e.g. tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, trainingConfig: undefined }))) and compile it as above.',
    );
  }

  /** Disposes the state and the tensors handed out by `getWeights`; the variables are not touched (the model owns them). */
  override dispose(): void {
    if (this.disposed_) return;
    this.stepper_.dispose();
    if (this.hasState_) disposeLeaves(this.state_);
    if (this.pending_ !== null) disposeLeaves(this.pending_.state);
    this.disposeWeightsCache();
    this.state_ = undefined;
    this.pending_ = null;
    this.hasState_ = false;
    this.variables_ = null;
    this.paramTree_ = null;
    this.disposed_ = true;
    super.dispose();
  }

  private disposeWeightsCache(): void {
    for (const t of this.weightsCache_) if (!t.isDisposed) t.dispose();
    this.weightsCache_ = [];
  }
}

/**
 * Makes a restored state fit the variables it will update: when it was saved
 * for variables of other names (a model built again gets new layer names),
 * as many as there are now, its objects keyed by the old names are re-keyed
 * by position, as tfjs's own optimizers restore by position. Then checks it
 * against `reference` (the state `tx.init` builds for the variables),
 * throwing at the first differing path.
 */
function adoptState<S>(fn: string, state: S, savedOrder: readonly string[] | undefined, order: readonly string[], reference: unknown): S {
  let adopted: unknown = state;
  const current = new Set(order);
  if (savedOrder !== undefined && savedOrder.length === order.length && savedOrder.some((n) => !current.has(n))) {
    const saved = new Set(savedOrder);
    const rename = new Map(savedOrder.map((n, i) => [n, order[i] as string]));
    const walk = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(walk);
      if (!isPlainObject(node)) return node;
      const keys = Object.keys(node);
      const byVariable = keys.length === saved.size && keys.every((k) => saved.has(k));
      return Object.fromEntries(keys.map((k) => [byVariable ? (rename.get(k) as string) : k, walk(node[k])]));
    };
    adopted = walk(state);
  }
  const { structure, tensors } = flattenState(adopted, fn);
  const byName = new Map(tensors.map((t) => [t.name, t.tensor]));
  checkStructureMatches(structure, (name) => byName.get(name), reference, {
    fn,
    found: "the weights' state",
    expected: 'this transformation and the variables it updates',
  });
  return adopted as S;
}

/**
 * Wraps a gradient transformation as a `tf.Optimizer` (a
 * {@link GradtxTfOptimizer}), for tfjs-layers' `model.compile` / `model.fit`
 * and for `optimizer.minimize(f)`. Any transformation works, including ones
 * that need params (`adamw`, `lamb`, `lars`): the params are the variables
 * being trained. The state is built on the first step and replaced on each
 * step, with no leaks. The class is registered with tfjs serialization
 * (`GradtxOptimizer`); see {@link GradtxTfOptimizer} for the weights format
 * and why it cannot be rebuilt from a config.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { adamw, asTfOptimizer } from '@gradtx/core';
 *
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [64], activation: 'softmax' })] });
 * model.compile({ optimizer: asTfOptimizer(adamw(1e-3, { weightDecay: 1e-4 })), loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { epochs: 10 });
 *
 * // Carry the optimizer's state over to a new optimizer (or save it with tf.io.encodeWeights):
 * const opt2 = asTfOptimizer(adamw(1e-3, { weightDecay: 1e-4 }));
 * await opt2.setWeights(await (model.optimizer as GradtxTfOptimizer).getWeights());
 * ```
 */
export function asTfOptimizer<S = unknown>(tx: GradientTransformation<S>, options?: TfOptimizerOptions): GradtxTfOptimizer<S> {
  if (!registered) {
    tf.serialization.registerClass(GradtxTfOptimizer);
    registered = true;
  }
  return new GradtxTfOptimizer(tx, options);
}
