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
  type Optimizer,
  type OptimizerOptions,
  type Params,
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
export interface NodeOptimizer<S = unknown> extends Optimizer<S> {
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
 * for (const batch of data) {
 *   const { grads } = tf.variableGrads(() => loss(batch));
 *   opt.step(grads);
 *   tf.dispose(grads);
 * }
 * opt.dispose();
 * ```
 */
export function createNodeOptimizer<S = unknown>(
  tx: GradientTransformation<S>,
  params: Params,
  options: NodeOptimizerOptions = {},
): NodeOptimizer<S> {
  const fn = 'createNodeOptimizer';
  checkTransformation(fn, '`tx`', tx);
  const { flatten = 'auto', ...coreOptions } = options;
  if (flatten !== 'auto' && flatten !== true && flatten !== false) {
    throw new Error(`${fn}: \`flatten\` must be 'auto', true or false, got ${String(flatten)}`);
  }
  checkFloatTree(fn, 'params', params);
  const backend = tf.getBackend();
  const plan = analyse(tx as GradientTransformation);
  const stages = countStages(plan);
  const treeStages = describeStages(plan);

  let reason: string;
  let flat: boolean;
  if (flatten === false) {
    flat = false;
    reason = 'flatten: false: steps run on the tree (core createOptimizer)';
  } else if (flatten === 'auto' && backend !== 'tensorflow') {
    flat = false;
    reason = `the ${backend} backend is not tensorflow: steps run on the tree (core createOptimizer, fused where the backend allows)`;
  } else if (stages.flat === 0) {
    flat = false;
    reason = `the transformation has no element-wise stage to run flat (${treeStages}): steps run on the tree (core createOptimizer)`;
  } else {
    flat = true;
    reason =
      stages.tree === 0
        ? `steps run on one flat buffer on the ${backend} backend (all ${stages.flat} stages are element-wise)`
        : `steps run on one flat buffer on the ${backend} backend; ${stages.tree} of ${stages.flat + stages.tree} stages see the tree (${treeStages})`;
  }

  if (!flat) {
    const inner = createOptimizer(tx, params, coreOptions);
    return {
      step: (grads, extraArgs) => inner.step(grads, extraArgs),
      get params() {
        return inner.params;
      },
      get state() {
        return inner.state;
      },
      dispose: () => inner.dispose(),
      flattened: false,
      reason,
      flatParams: null,
      flatState: null,
    };
  }

  // ---- the flat path
  const { leaves: paramLeaves, treedef } = treeFlatten<tf.Tensor>(params);
  if (paramLeaves.length === 0) throw new Error(`${fn}: params has no tensor leaves`);
  const layout: FlatLayout = { packer: new Packer(paramLeaves.map((p) => p.shape)), treedef };
  const variables = paramLeaves.map(isVariable);
  const anyVariable = variables.some(Boolean);
  // the transformation itself runs on the buffer when every stage is element-wise
  const flatTx = stages.tree === 0 ? (tx as GradientTransformation) : flatTransformation(plan, layout);
  const inner = createOptimizer(
    flatTx,
    tf.tidy(() => flattenTree(layout, params, 'params')),
    coreOptions,
  );
  // the structure and leaf shapes every grads tree must have (stand-ins, so the
  // check does not read the given param tensors, which are disposed after the first step)
  const template = treeUnflatten<Params>(
    treedef,
    paramLeaves.map((p) => new LeafShape(p.shape)),
  );

  // params as leaves: the given ones until the first step, then split from the buffer when read
  let leafCache: tf.Tensor[] | null = paramLeaves;
  let ownedLeaves = paramLeaves.map((p) => !isVariable(p)); // which cached leaves the optimizer disposes
  let stateCache: { state: unknown; created: tf.Tensor[] } | null = null;
  let disposed = false;
  const alive = (what: string) => {
    if (disposed) throw new Error(`${fn}: ${what} after dispose()`);
  };

  const dropCaches = () => {
    if (leafCache !== null) {
      leafCache.forEach((t, i) => {
        if (ownedLeaves[i] && !t.isDisposed) t.dispose();
      });
      leafCache = null;
    }
    if (stateCache !== null) {
      tf.dispose(stateCache.created);
      stateCache = null;
    }
  };

  /** Splits the buffer into leaves; variables take their new values (and stay the cached leaves). */
  const materialize = (): tf.Tensor[] => {
    if (leafCache !== null) return leafCache;
    const pieces = layout.packer.unpack(inner.params as tf.Tensor);
    leafCache = pieces.map((piece, i) => {
      const v = paramLeaves[i] as tf.Tensor;
      if (!variables[i]) return piece;
      (v as tf.Variable).assign(piece);
      piece.dispose();
      return v;
    });
    ownedLeaves = variables.map((isVar) => !isVar);
    return leafCache;
  };

  return {
    step(grads: Updates, extraArgs?: ExtraArgs): void {
      alive('step()');
      checkFloatTree(fn, 'grads', grads);
      assertSameShapes(template, grads, ['params', 'grads']);
      const flatGrads = tf.tidy(() => flattenTree(layout, grads, 'grads'));
      try {
        inner.step(flatGrads, extraArgs);
      } finally {
        flatGrads.dispose();
      }
      dropCaches();
      if (anyVariable) materialize();
    },
    get params(): Params {
      return treeUnflatten<Params>(treedef, disposed ? (leafCache as tf.Tensor[]) : materialize());
    },
    get state(): S {
      alive('state');
      if (stateCache === null) {
        const created: tf.Tensor[] = [];
        const state = tf.tidy(() => {
          const s = treeShapedState(plan, inner.state, layout, created);
          for (const t of created) tf.keep(t);
          return s as tf.TensorContainer;
        });
        stateCache = { state, created };
      }
      return stateCache.state as S;
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
      // the params are left to the caller: split them out before the buffer goes
      const leaves = materialize();
      ownedLeaves = leaves.map(() => false);
      if (stateCache !== null) tf.dispose(stateCache.created);
      stateCache = null;
      inner.dispose();
      const buffer = inner.params as tf.Tensor;
      if (isTensor(buffer) && !buffer.isDisposed) buffer.dispose();
      layout.packer.dispose();
      disposed = true;
    },
    flattened: true,
    reason,
  };
}

/** Whether the active backend is tfjs-node's `tensorflow` backend (with its native binding). */
export function onTensorflowBackend(): boolean {
  return tensorflowBackend() !== null;
}
