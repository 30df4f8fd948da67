/**
 * Saving and restoring optimizer states: `saveState` / `loadState` turn a
 * state into `tf.io`-style artifacts and back, bit for bit, and
 * `saveStateTo` / `loadStateFrom` send them through any `tf.io` handler
 * (a URL such as `indexeddb://...`, `localstorage://...`, `http(s)://...`,
 * `file://...` with tfjs-node, or an `IOHandler` object).
 *
 * A state is plain data, so the artifacts hold all of it: float32, int32 and
 * bool tensors as raw bytes in `weightData` (described by `weightSpecs`), and
 * the tree around them, with its numbers (step counts, injected
 * hyperparameters), booleans, strings and `null`s, as JSON in
 * `modelTopology`. Loading checks the result against the state that
 * `tx.init(params)` builds, so a checkpoint of another transformation, or
 * for other params, is refused with a message that names the first
 * differing path.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params } from '../base.js';
import { describe, isPlainObject, isTensor, treeLeaves } from '../tree.js';
import { checkTransformation } from '../validate.js';
import {
  checkStructureMatches,
  flattenState,
  readStateTopology,
  STATE_FORMAT,
  STATE_FORMAT_VERSION,
  type StateStructure,
  type StateTopology,
  stateTopology,
  structureTensorNames,
  unflattenState,
} from './structure.js';
import { type CheckedSpec, checkCoversData, checkWeightSpecs, decodeCheckedWeights, stateChecksum, weightBytes } from './weight-bytes.js';

export {
  flattenState,
  type NamedTensor,
  STATE_FORMAT,
  STATE_FORMAT_VERSION,
  type StateStructure,
  type StateTopology,
  type TensorSpec,
  unflattenState,
} from './structure.js';

/**
 * A state as `tf.io` model artifacts, as {@link saveState} makes them. The
 * tensors are in `weightSpecs` + `weightData` (one buffer, raw little-endian
 * bytes as tfjs writes weights); the tree is in `modelTopology` (which every
 * `tf.io` handler persists) and, for convenience, also in the top-level
 * `structure` and `version` fields (which handlers may drop; loading reads
 * `modelTopology` first).
 */
export interface StateArtifacts extends tf.io.ModelArtifacts {
  /** Always `'gradtx-state'`. */
  format: typeof STATE_FORMAT;
  /** The structure description's version. */
  version: number;
  /** The state tree with tensor placeholders (the same as `modelTopology.structure`). */
  structure: StateStructure;
  /** The description handlers persist. */
  modelTopology: StateTopology;
  /** Name, shape and dtype of each tensor, in the order of `weightData`. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** The tensors' bytes, one after another. */
  weightData: ArrayBuffer;
  /** `'gradtx'`. */
  generatedBy: string;
}

/**
 * Turns a state into `tf.io` artifacts (see {@link StateArtifacts}). Reads
 * the tensors with `tensor.data()`, so it works on every backend (webgpu and
 * webgl included) without blocking; the state is neither changed nor
 * disposed, and no tensor is made. Throws, naming the path, for a leaf that
 * is not plain data, a disposed tensor, or a tensor that is not float32,
 * int32 or bool.
 *
 * @example
 * ```ts
 * const artifacts = await saveState(state);
 * // ... later, with the same transformation and params:
 * const restored = loadState(artifacts, tx, params);
 * ```
 */
export async function saveState(state: unknown): Promise<StateArtifacts> {
  const { structure, tensors } = flattenState(state, 'saveState');
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const topology: StateTopology = { ...stateTopology(structure), checksum: stateChecksum(specs, structure, new Uint8Array(data)) };
  return {
    format: STATE_FORMAT,
    version: STATE_FORMAT_VERSION,
    structure,
    modelTopology: topology,
    weightSpecs: specs,
    weightData: data,
    generatedBy: 'gradtx',
  };
}

/** Reads the gradtx description out of artifacts, or throws saying why they are not a gradtx state. */
function readTopology(fn: string, artifacts: unknown): StateTopology {
  if (!isPlainObject(artifacts))
    throw new Error(`${fn}: \`artifacts\` must be the object saveState returns (tf.io model artifacts), got ${describe(artifacts)}`);
  const a = artifacts as Record<string, unknown>;
  if (isPlainObject(a.modelTopology)) return readStateTopology(fn, a.modelTopology, a.format);
  if (a.modelTopology != null)
    throw new Error(`${fn}: the artifacts' modelTopology must be the object saveState writes, got ${describe(a.modelTopology)}`);
  if (a.structure !== undefined) return readStateTopology(fn, { format: a.format, version: a.version, structure: a.structure });
  return readStateTopology(fn, undefined, a.format);
}

/**
 * Rebuilds a state from artifacts made by {@link saveState} (directly, or
 * after a round trip through a `tf.io` handler), for `tx` and `params`.
 *
 * The result is checked against the state `tx.init(params)` builds (that
 * reference state is disposed afterwards): the same containers and keys,
 * tensors of the same shapes and dtypes, numbers, booleans and empty slots in
 * the same places. Otherwise it throws at the first difference, naming its
 * path, e.g. "the checkpoint's state has `[0].mu.w` of shape [3, 4] but this
 * transformation and params expect [4, 3]"; a checkpoint of a different
 * transformation (an sgd state loaded into adam) is caught the same way.
 *
 * Restores are bit-exact: tensors keep their bytes (float32 bits, NaN
 * payloads included), numbers their exact double values (step counts, hence
 * schedule positions; hyperparameters injected by `injectHyperparams`).
 * The returned state's tensors are new; the caller owns them.
 *
 * @example
 * ```ts
 * const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3));
 * const artifacts = await saveState(state);
 * const state2 = loadState(artifacts, tx, params);   // continue training with state2
 * ```
 */
export function loadState<S = unknown>(artifacts: tf.io.ModelArtifacts, tx: GradientTransformation<S>, params: Params): S {
  const fn = 'loadState';
  const topology = readTopology(fn, artifacts);
  checkTransformation(fn, '`tx`', tx);
  const names = structureTensorNames(topology.structure, fn);
  if (names.length > 0 && artifacts.weightData == null) {
    throw new Error(`${fn}: the checkpoint's structure refers to ${names.length} tensors but the artifacts have no weightData`);
  }
  const bytes = artifacts.weightData == null ? new Uint8Array(0) : weightBytes(fn, artifacts.weightData);
  const specs = checkWeightSpecs(fn, artifacts.weightSpecs ?? [], bytes.byteLength);
  const used = new Set(names);
  const unreferenced = specs.find((s) => !used.has(s.name));
  if (unreferenced !== undefined)
    throw new Error(
      `${fn}: the weights hold the tensor '${unreferenced.name}', which the state's structure does not refer to (a damaged checkpoint?)`,
    );
  // Check the form against a fresh reference state before making any tensor.
  const specByName = new Map(specs.map((s) => [s.name, s]));
  const reference = tx.init(params);
  try {
    checkStructureMatches(topology.structure, (name) => specByName.get(name), reference, {
      fn,
      found: "the checkpoint's state",
      expected: 'this transformation and params',
    });
  } finally {
    for (const leaf of treeLeaves(reference)) if (isTensor(leaf)) leaf.dispose();
  }
  checkCoversData(fn, specs, bytes.byteLength);
  verifyChecksum(fn, topology, specs, bytes);
  const decoded = decodeCheckedWeights(specs, bytes);
  try {
    return unflattenState<S>(topology.structure, decoded, fn);
  } catch (e) {
    tf.dispose(Object.values(decoded));
    throw e;
  }
}

let warnedUnchecked = false;

/** Verifies the checkpoint's checksum; one that has none (written before gradtx wrote one) loads with a one-time warning. */
function verifyChecksum(fn: string, topology: StateTopology, specs: readonly CheckedSpec[], bytes: Uint8Array): void {
  if (topology.checksum === undefined) {
    if (!warnedUnchecked) {
      warnedUnchecked = true;
      console.warn(
        `${fn}: this checkpoint has no checksum (written by an older gradtx), so damage to it cannot be detected; save it again to add one`,
      );
    }
    return;
  }
  const actual = stateChecksum(specs, topology.structure, bytes);
  if (actual !== topology.checksum)
    throw new Error(
      `${fn}: the checkpoint's checksum is ${actual} but it records ${topology.checksum}: the weights or the structure were changed or damaged`,
    );
}

/** A URL string that `tf.io` routes to a handler (`indexeddb://`, `http://`, ...), or a handler object. */
export type HandlerOrUrl = string | tf.io.IOHandler;

function resolveHandler(fn: string, handlerOrUrl: HandlerOrUrl, method: 'save' | 'load'): tf.io.IOHandler {
  let handler: unknown = handlerOrUrl;
  if (typeof handlerOrUrl === 'string') {
    const found = method === 'save' ? tf.io.getSaveHandlers(handlerOrUrl) : tf.io.getLoadHandlers(handlerOrUrl);
    if (found.length === 0) {
      throw new Error(
        `${fn}: no tf.io ${method} handler is registered for '${handlerOrUrl}' (file:// needs @tensorflow/tfjs-node; or pass an IOHandler object)`,
      );
    }
    if (found.length > 1) throw new Error(`${fn}: more than one tf.io ${method} handler (${found.length}) matches '${handlerOrUrl}'`);
    handler = found[0];
  }
  if (handler === null || typeof handler !== 'object' || typeof (handler as Record<string, unknown>)[method] !== 'function') {
    throw new Error(`${fn}: \`handlerOrUrl\` must be a URL string or a tf.io.IOHandler with a ${method} method, got ${describe(handler)}`);
  }
  return handler as tf.io.IOHandler;
}

/**
 * Saves a state through a `tf.io` handler: {@link saveState}, then the
 * handler's `save`. `handlerOrUrl` is a URL that `tf.io` routes
 * (`indexeddb://name`, `localstorage://name`, `downloads://name`,
 * `http(s)://...`, `file://dir` with tfjs-node) or an `IOHandler` such as
 * `tf.io.withSaveHandler(...)`. Returns the handler's `SaveResult`.
 *
 * @example
 * ```ts
 * await saveStateTo(state, 'indexeddb://my-run/optimizer');
 * const state2 = await loadStateFrom('indexeddb://my-run/optimizer', tx, params);
 * ```
 */
export async function saveStateTo(state: unknown, handlerOrUrl: HandlerOrUrl): Promise<tf.io.SaveResult> {
  const handler = resolveHandler('saveStateTo', handlerOrUrl, 'save');
  const artifacts = await saveState(state);
  return (handler.save as NonNullable<tf.io.IOHandler['save']>)(artifacts);
}

/**
 * Loads a state through a `tf.io` handler: the handler's `load`, then
 * {@link loadState} with `tx` and `params` (which checks it against
 * `tx.init(params)`). `handlerOrUrl` is a URL that `tf.io` routes or an
 * `IOHandler` such as `tf.io.fromMemory(artifacts)`.
 */
export async function loadStateFrom<S = unknown>(handlerOrUrl: HandlerOrUrl, tx: GradientTransformation<S>, params: Params): Promise<S> {
  const fn = 'loadStateFrom';
  const handler = resolveHandler(fn, handlerOrUrl, 'load');
  const artifacts = await (handler.load as NonNullable<tf.io.IOHandler['load']>)();
  if (artifacts != null && artifacts.weightData == null && typeof artifacts.getWeightStream === 'function') {
    const chunks: ArrayBuffer[] = [];
    const reader = artifacts.getWeightStream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    return loadState({ ...artifacts, weightData: chunks }, tx, params);
  }
  return loadState(artifacts, tx, params);
}
