/**
 * Saving and restoring a training run in one checkpoint: the params and the
 * optimizer state together, as one set of `tf.io` artifacts, so any `tf.io`
 * handler (or the Node file handler of `@gradtx/core/node`) stores both.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params } from '../base.js';
import { describe, isPlainObject, isTensor, treeLeaves, treeMap } from '../tree.js';
import { checkTransformation } from '../validate.js';
import { loadState, type StateArtifacts, saveState } from './checkpoint.js';
import { type HandlerOrUrl, loadArtifacts, resolveHandler } from './io-handler.js';
import { structureTensorNames } from './structure.js';

/** The params and the state of a run, as {@link saveCheckpoint} takes and {@link loadCheckpoint} returns them. */
export interface TrainingCheckpoint<S = unknown, P extends Params = Params> {
  /** The params (a tree of tensors or `tf.Variable`s). */
  params: P;
  /** The state of the transformation. */
  state: S;
}

/**
 * Turns params and state into one set of `tf.io` artifacts (the format of
 * {@link saveState}, over the tree `{ params, state }`). An optimizer made by
 * `createOptimizer` is such a pair, so `saveCheckpoint(opt)` saves a run.
 * Nothing is changed or disposed.
 *
 * @example
 * ```ts
 * const artifacts = await saveCheckpoint(opt);
 * const { params, state } = loadCheckpoint(artifacts, tx);
 * const resumed = createOptimizer(tx, params, { state });
 * ```
 * @category Checkpoints
 */
export async function saveCheckpoint(run: TrainingCheckpoint): Promise<StateArtifacts> {
  if (run === null || typeof run !== 'object')
    throw new Error(`saveCheckpoint: \`run\` must be { params, state } or an optimizer, got ${describe(run)}`);
  return saveState({ params: run.params, state: run.state });
}

/**
 * Restores params and state saved by {@link saveCheckpoint}, for `tx`. The
 * state is checked against `tx.init(params)` as {@link loadState} checks it.
 *
 * Without `into`, the params come back as new tensors (the caller owns
 * them). With `into` (the params to restore into, e.g. a model's
 * variables), the saved params must have its structure, shapes and dtypes;
 * its `tf.Variable` leaves take the saved values in place (`assign`) and are
 * returned as they are, its plain-tensor leaves are replaced by new tensors
 * in the returned tree (the caller's old ones are left alone).
 *
 * @category Checkpoints
 */
export function loadCheckpoint<S = unknown, P extends Params = Params>(
  artifacts: tf.io.ModelArtifacts,
  tx: GradientTransformation<S>,
  into?: P,
): TrainingCheckpoint<S, P> {
  const fn = 'loadCheckpoint';
  checkTransformation(fn, '`tx`', tx);
  const template = (into ?? zerosFromArtifacts(fn, artifacts)) as P;
  const both: GradientTransformation<TrainingCheckpoint<S, P>> = {
    init: (p) => ({ params: treeMap((t: tf.Tensor) => t.clone(), p), state: tx.init(p) }),
    update: () => {
      throw new Error(`${fn}: internal transformation, never updated`);
    },
  };
  let loaded: TrainingCheckpoint<S, P>;
  try {
    loaded = loadState(artifacts, both, template);
  } finally {
    if (into === undefined) tf.dispose(treeLeaves(template).filter(isTensor));
  }
  if (into === undefined) return loaded;
  const params = treeMap(
    (target: tf.Tensor, saved: tf.Tensor) => {
      if (!(target instanceof tf.Variable)) return saved;
      target.assign(saved);
      saved.dispose();
      return target;
    },
    into,
    [loaded.params],
  ) as P;
  return { params, state: loaded.state };
}

/** Zero tensors with the shapes and dtypes of the params the artifacts hold (the template the state is checked against). */
function zerosFromArtifacts(fn: string, artifacts: tf.io.ModelArtifacts): Params {
  const top = (artifacts as { modelTopology?: unknown }).modelTopology;
  const structure = isPlainObject(top) ? top.structure : undefined;
  if (!isPlainObject(structure) || !('params' in structure) || !('state' in structure)) {
    throw new Error(
      `${fn}: these artifacts are not a checkpoint of params and state (write one with saveCheckpoint); for a state alone use loadState`,
    );
  }
  const specs = new Map((artifacts.weightSpecs ?? []).map((s) => [s.name, s]));
  for (const name of structureTensorNames(structure.params as never, fn)) {
    if (!specs.has(name)) throw new Error(`${fn}: the checkpoint's params refer to the tensor '${name}', which its weightSpecs lack`);
  }
  const build = (node: unknown): unknown => {
    if (isPlainObject(node) && typeof node.$tensor === 'string' && Object.keys(node).length === 1) {
      const spec = specs.get(node.$tensor) as tf.io.WeightsManifestEntry;
      return tf.zeros(spec.shape, spec.dtype as tf.DataType);
    }
    if (Array.isArray(node)) return node.map(build);
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, build(v)]));
    return node;
  };
  return build(structure.params) as Params;
}

/**
 * Saves params and state through a `tf.io` handler or URL:
 * {@link saveCheckpoint}, then the handler's `save`.
 *
 * @category Checkpoints
 */
export async function saveCheckpointTo(run: TrainingCheckpoint, handlerOrUrl: HandlerOrUrl): Promise<tf.io.SaveResult> {
  const handler = resolveHandler('saveCheckpointTo', handlerOrUrl, 'save');
  return (handler.save as NonNullable<tf.io.IOHandler['save']>)(await saveCheckpoint(run));
}

/**
 * Loads params and state through a `tf.io` handler or URL: the handler's
 * `load`, then {@link loadCheckpoint}.
 *
 * @example
 * ```ts
 * import { nodeFileHandler } from '@gradtx/core/node';
 * await saveCheckpointTo(opt, nodeFileHandler('runs/mlp'));
 * const { params, state } = await loadCheckpointFrom(nodeFileHandler('runs/mlp'), tx);
 * const opt2 = createOptimizer(tx, params, { state });
 * ```
 * @category Checkpoints
 */
export async function loadCheckpointFrom<S = unknown, P extends Params = Params>(
  handlerOrUrl: HandlerOrUrl,
  tx: GradientTransformation<S>,
  into?: P,
): Promise<TrainingCheckpoint<S, P>> {
  return loadCheckpoint(await loadArtifacts('loadCheckpointFrom', handlerOrUrl), tx, into);
}
