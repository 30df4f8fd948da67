/**
 * `createNodeOptimizer`: core's `createOptimizer`, run on one flat buffer of
 * all the params so that a step on the `tensorflow` backend costs a fixed
 * number of native calls, whatever the number of param leaves.
 *
 * @module
 */
import {
  assertSameShapes,
  createOptimizer,
  type ExtraArgs,
  type GradientTransformation,
  isTensor,
  minimizeWith,
  type Optimizer,
  type OptimizerOptions,
  type Params,
  type StateFor,
  treeFlatten,
  treeUnflatten,
  type Updates,
} from '@gradtx/core';
import { checkFloatTree, checkTransformation } from '@gradtx/core/engine';
import * as tf from '@tensorflow/tfjs-core';
import { Packer, tensorflowBackend } from './native.js';
import { analyse, countStages, type FlatLayout, type FlatNode, flatTransformation, flattenTree, treeShapedState } from './plan.js';

/** Options of {@link createNodeOptimizer}: core's {@link OptimizerOptions}, plus `flatten`. */
export interface NodeOptimizerOptions extends OptimizerOptions {
  /**
   * Run steps on one flat buffer holding every param leaf (default `'auto'`:
   * on the `tensorflow` backend only, where each op is a native call; other
   * backends run core's `createOptimizer` on the tree, whose fused engine
   * already makes one pass per step on `cpu` and `wasm`). `true` flattens on
   * any backend, `false` never.
   */
  flatten?: 'auto' | boolean;
}

/** A training-loop helper made by {@link createNodeOptimizer}: core's {@link Optimizer}, plus what the flat path adds. */
export interface NodeOptimizer<S = unknown, P extends Params = Params> extends Optimizer<S, P> {
  /** Whether steps run on the flat buffer. */
  readonly flattened: boolean;
  /** One sentence: why steps run flat or on the tree, and which stages see the tree. */
  readonly reason: string;
  /** The params as one 1-D buffer (leaves in tree order), or null when not flattened. Valid until the next step. */
  readonly flatParams: tf.Tensor1D | null;
  /** The transformation's state on the flat buffer (per-element slots are 1-D), or null when not flattened. Valid until the next step. */
  readonly flatState: unknown;
}

/** A stand-in for a param leaf that only carries its shape (for the structure and shape checks of the grads). */
class LeafShape {
  readonly dataId = {};
  readonly dtype = 'float32';
  constructor(readonly shape: number[]) {}
}

/** The name errors start with. */
const FN = 'createNodeOptimizer';

function isVariable(t: unknown): t is tf.Variable {
  return t instanceof tf.Variable;
}

function describeStages(plan: FlatNode): string {
  const whys: string[] = [];
  const visit = (n: FlatNode) => {
    if (n.kind === 'chain') {
      for (const [, c] of n.children) visit(c);
    } else if (n.kind === 'tree') whys.push(n.why);
  };
  visit(plan);
  return [...new Set(whys)].join('; ');
}

/**
 * Creates an optimizer for a training loop, like core's `createOptimizer`
 * (same `step(grads)`, `params`, `state`, `dispose()`), that runs each step
 * on ONE flat buffer: the params, the gradients and every per-element state
 * slot are each a single 1-D float32 tensor holding all the leaves. On the
 * `tensorflow` backend (tfjs-node / tfjs-node-gpu) every tfjs op is a native
 * call into TensorFlow, so the reference path costs (ops per leaf) × (number
 * of leaves) calls per step; here a step costs one call to gather the
 * gradients (`DynamicStitch`), the chain's ops once on the flat buffers, and
 * the param update: a number of calls that does not grow with the number of
 * leaves. The math is core's reference path (`tx.update`, `applyUpdates`),
 * run through core's `createOptimizer` on the one-leaf flat tree.
 *
 * Element-wise stages (adam, momentum, global-norm clipping, weight decay,
 * learning rates, ...) run on the flat buffers, which is the same math as per
 * leaf (a global norm is summed in a different order: float32 rounding). Any
 * other stage (per-leaf norms, factored moments, masks, ...) runs on the
 * tree as its own `update`, so results always match the tree; such a stage
 * costs a split and a gather per step. A transformation with no element-wise
 * stage at all runs as core's `createOptimizer` on the tree.
 *
 * `opt.params` has the params' structure. Plain tensor params are split from
 * the buffer when read (one `SplitV` and one `Reshape` per leaf that is not
 * 1-D), once per step at most; `tf.Variable` params are assigned after every
 * step (which costs that split every step). As with `createOptimizer`,
 * params and state read from the optimizer are valid until the next step,
 * plain tensor params passed in belong to the optimizer, and `opt.state` has
 * the params' structure (the flat one is `opt.flatState`). `dispose()`
 * disposes the state and leaves the params to the caller.
 *
 * @example
 * ```ts
 * await useNodeBackend({ prefer: 'gpu' });
 * const opt = createNodeOptimizer(chain(clipByGlobalNorm(1), adamw(1e-3)), params);
 * for (const batch of data) opt.minimize(() => loss(batch));
 * opt.dispose();
 * ```
 */
export function createNodeOptimizer<S = unknown, P extends Params = Params>(
  tx: GradientTransformation<S>,
  params: P,
  options?: NodeOptimizerOptions,
): NodeOptimizer<StateFor<S, P>, P>;
export function createNodeOptimizer<S>(
  tx: GradientTransformation<S>,
  params: Params,
  options: NodeOptimizerOptions = {},
): NodeOptimizer<S> {
  checkTransformation(FN, '`tx`', tx);
  const { flatten = 'auto', ...coreOptions } = options;
  if (flatten !== 'auto' && flatten !== true && flatten !== false) {
    throw new Error(`${FN}: \`flatten\` must be 'auto', true or false, got ${String(flatten)}`);
  }
  checkFloatTree(FN, 'params', params);
  const plan = analyse(tx as GradientTransformation);
  const { flat, reason } = chooseRoute(flatten, tf.getBackend(), plan);
  return flat ? flatOptimizer(tx, params, coreOptions, plan, reason) : treeOptimizer(tx, params, coreOptions, reason);
}

/** Whether steps run on the flat buffer, and the sentence that says why ({@link NodeOptimizer.reason}). */
function chooseRoute(flatten: 'auto' | boolean, backend: string, plan: FlatNode): { flat: boolean; reason: string } {
  const stages = countStages(plan);
  const treeStages = describeStages(plan);
  if (flatten === false) return { flat: false, reason: 'flatten: false: steps run on the tree (core createOptimizer)' };
  if (flatten === 'auto' && backend !== 'tensorflow') {
    return {
      flat: false,
      reason: `the ${backend} backend is not tensorflow: steps run on the tree (core createOptimizer, fused where the backend allows)`,
    };
  }
  if (stages.flat === 0) {
    return {
      flat: false,
      reason: `the transformation has no element-wise stage to run flat (${treeStages}): steps run on the tree (core createOptimizer)`,
    };
  }
  const reason =
    stages.tree === 0
      ? `steps run on one flat buffer on the ${backend} backend (all ${stages.flat} stages are element-wise)`
      : `steps run on one flat buffer on the ${backend} backend; ${stages.tree} of ${stages.flat + stages.tree} stages see the tree (${treeStages})`;
  return { flat: true, reason };
}

/** The tree route: core's `createOptimizer` as it is, with the node-specific members saying so. */
function treeOptimizer<S>(tx: GradientTransformation<S>, params: Params, coreOptions: OptimizerOptions, reason: string): NodeOptimizer<S> {
  const inner = createOptimizer(tx, params, coreOptions);
  return {
    step: (grads, extraArgs) => inner.step(grads, extraArgs),
    minimize: inner.minimize,
    get params() {
      return inner.params;
    },
    get state() {
      return inner.state as S;
    },
    dispose: () => inner.dispose(),
    flattened: false,
    reason,
    flatParams: null,
    flatState: null,
  };
}

/**
 * The params as leaves for the flat route: the given tensors until the first
 * step, then split from the flat buffer when read (once per step at most);
 * `tf.Variable` params take the new values and stay the leaves.
 */
function paramLeaves(layout: FlatLayout, given: tf.Tensor[], buffer: () => tf.Tensor) {
  const variables = given.map(isVariable);
  let cache: tf.Tensor[] | null = given;
  let owned = given.map((p) => !isVariable(p)); // which cached leaves the optimizer disposes
  const read = (): tf.Tensor[] => {
    if (cache !== null) return cache;
    cache = layout.packer.unpack(buffer()).map((piece, i) => {
      const v = given[i] as tf.Tensor;
      if (!variables[i]) return piece;
      (v as tf.Variable).assign(piece);
      piece.dispose();
      return v;
    });
    owned = variables.map((isVar) => !isVar);
    return cache;
  };
  return {
    /** Whether any param is a `tf.Variable` (assigned after every step). */
    anyVariable: variables.some(Boolean),
    read,
    /** Disposes the leaves split from a buffer that a step has replaced. */
    drop(): void {
      cache?.forEach((t, i) => {
        if (owned[i] && !t.isDisposed) t.dispose();
      });
      cache = null;
    },
    /** Splits the leaves out for the caller, who owns them from now on. */
    release(): void {
      owned = read().map(() => false);
    },
  };
}

/** `opt.state` in the params' structure, built from the flat state once per step; its new tensors live until `drop()`. */
function treeState(plan: FlatNode, layout: FlatLayout, flatState: () => unknown) {
  let cache: { state: unknown; created: tf.Tensor[] } | null = null;
  return {
    read(): unknown {
      if (cache === null) {
        const created: tf.Tensor[] = [];
        const state = tf.tidy(() => {
          const s = treeShapedState(plan, flatState(), layout, created);
          for (const t of created) tf.keep(t);
          return s as tf.TensorContainer;
        });
        cache = { state, created };
      }
      return cache.state;
    },
    drop(): void {
      if (cache !== null) tf.dispose(cache.created);
      cache = null;
    },
  };
}

/**
 * The pieces of the flat route: the packing layout of the param leaves, core's
 * `createOptimizer` on the one-leaf flat tree, and the tree every grads must match.
 */
function flatPieces<S>(tx: GradientTransformation<S>, params: Params, coreOptions: OptimizerOptions, plan: FlatNode) {
  const { leaves: given, treedef } = treeFlatten<tf.Tensor>(params);
  if (given.length === 0) throw new Error(`${FN}: params has no tensor leaves`);
  const layout: FlatLayout = { packer: new Packer(given.map((p) => p.shape)), treedef };
  // the transformation itself runs on the buffer when every stage is element-wise
  const flatTx = countStages(plan).tree === 0 ? (tx as GradientTransformation) : flatTransformation(plan, layout);
  const inner = createOptimizer(
    flatTx,
    tf.tidy(() => flattenTree(layout, params, 'params')),
    coreOptions,
  );
  // the structure and leaf shapes every grads tree must have (stand-ins, so the
  // check does not read the given param tensors, which are disposed after the first step)
  const template = treeUnflatten<Params>(
    treedef,
    given.map((p) => new LeafShape(p.shape)),
  );
  return { given, treedef, layout, inner, template };
}

/** The flat route: steps on one flat buffer, with the params and the state read back in the params' tree. */
function flatOptimizer<S>(
  tx: GradientTransformation<S>,
  params: Params,
  coreOptions: OptimizerOptions,
  plan: FlatNode,
  reason: string,
): NodeOptimizer<S> {
  const { given, treedef, layout, inner, template } = flatPieces(tx, params, coreOptions, plan);
  const leaves = paramLeaves(layout, given, () => inner.params as tf.Tensor);
  const state = treeState(plan, layout, () => inner.state);
  let disposed = false;
  const alive = (what: string) => {
    if (disposed) throw new Error(`${FN}: ${what} after dispose()`);
  };
  const optimizer: NodeOptimizer<S> = {
    step(grads: Updates, extraArgs?: ExtraArgs): void {
      alive('step()');
      checkFloatTree(FN, 'grads', grads);
      assertSameShapes(template, grads, ['params', 'grads']);
      const flatGrads = tf.tidy(() => flattenTree(layout, grads, 'grads'));
      try {
        inner.step(flatGrads, extraArgs);
      } finally {
        flatGrads.dispose();
      }
      leaves.drop();
      state.drop();
      if (leaves.anyVariable) leaves.read();
    },
    get params(): Params {
      return treeUnflatten<Params>(treedef, leaves.read());
    },
    get state(): S {
      alive('state');
      return state.read() as S;
    },
    get flatParams(): tf.Tensor1D | null {
      alive('flatParams');
      return inner.params as tf.Tensor1D;
    },
    get flatState(): unknown {
      alive('flatState');
      return inner.state;
    },
    dispose(): void {
      if (disposed) return;
      leaves.release(); // the params are left to the caller: split them out before the buffer goes
      state.drop();
      inner.dispose();
      const buffer = inner.params as tf.Tensor;
      if (isTensor(buffer) && !buffer.isDisposed) buffer.dispose();
      layout.packer.dispose();
      disposed = true;
    },
    minimize: ((lossFn: (params: Params) => tf.Tensor, options) => {
      alive('minimize()');
      return minimizeWith(optimizer, lossFn, options);
    }) as NodeOptimizer<S>['minimize'],
    flattened: true,
    reason,
  };
  return optimizer;
}

/** Whether the active backend is tfjs-node's `tensorflow` backend (with its native binding). */
export function onTensorflowBackend(): boolean {
  return tensorflowBackend() !== null;
}
