/**
 * The one way gradtx turns an optimizer state into named tensors and back:
 * the state's shape and its non-tensor leaves go into a JSON description
 * (the "structure"), each tensor leaf into a named tensor that the structure
 * refers to by name. Both the checkpoint functions and the `tf.Optimizer`
 * adapter stand on this, so a state saved one way reads back the other.
 *
 * @module
 */
import type { DataType, NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';
import { MAX_COUNT } from '../base.js';
import { isPackedSlot, storageName } from '../lang/storage/slot-storage.js';
import { describe, formatPath, isNode, isPlainObject, isTensor, type PathKey, sortedKeys } from '../tree.js';

/** A tensor with a name, as tfjs's weight lists hold them (tfjs-core's `NamedTensor`). */
export interface NamedTensor {
  /** The tensor's name. */
  name: string;
  /** The tensor. */
  tensor: Tensor;
}

/** The value of `format` in everything gradtx writes for a state. */
export const STATE_FORMAT = 'gradtx-state';

/** The version of the structure description; readers reject versions they do not know. */
export const STATE_FORMAT_VERSION = 1;

/** Tensor dtypes a state may hold (and a checkpoint may carry). */
export const STATE_DTYPES: readonly DataType[] = ['float32', 'int32', 'bool'];

/**
 * The JSON description of a state tree. Arrays and plain objects describe
 * themselves; numbers, booleans, strings and `null` are stored as they are.
 * Four one-key objects are markers:
 * - `{ $tensor: name }`: a tensor leaf, stored under `name` beside the structure;
 * - `{ $number: 'NaN' | 'Infinity' | '-Infinity' | '-0' }`: a number JSON cannot hold;
 * - `{ $undefined: true }`: an `undefined` slot;
 * - `{ $object: {...} }`: a state object that itself has exactly one key named
 *   like a marker (so it is not read as one).
 */
export type StateStructure = null | boolean | number | string | StateStructure[] | { [key: string]: StateStructure };

/** The JSON description of a whole state: what a checkpoint's `modelTopology` holds. */
export interface StateTopology {
  /** Always `'gradtx-state'`. */
  format: typeof STATE_FORMAT;
  /** The description's version ({@link STATE_FORMAT_VERSION} when written by this version). */
  version: number;
  /** The state tree, with tensor leaves replaced by `{ $tensor: name }` (see {@link StateStructure}). */
  structure: StateStructure;
  /**
   * `crc32:` and eight hex digits: the CRC-32 of the weight specs, the
   * structure and the weight bytes, checked on load (absent in checkpoints
   * written before gradtx wrote it, and in `getWeights` of `asTfOptimizer`).
   */
  checksum?: string;
}

/** The description of `structure` in the current format. */
export function stateTopology(structure: StateStructure): StateTopology {
  return { format: STATE_FORMAT, version: STATE_FORMAT_VERSION, structure };
}

/**
 * Checks that `topology` is a gradtx state description this version can
 * read, or throws saying why not (`fallbackFormat` is reported when the
 * description names no format).
 */
export function readStateTopology(fn: string, topology: unknown, fallbackFormat?: unknown): StateTopology {
  if (!isPlainObject(topology) || topology.format !== STATE_FORMAT) {
    const format = isPlainObject(topology) && topology.format !== undefined ? topology.format : fallbackFormat;
    throw new Error(
      `${fn}: this is not a gradtx state (format ${JSON.stringify(format ?? null)}; expected '${STATE_FORMAT}'); write one with saveState, saveStateTo or getWeights of asTfOptimizer`,
    );
  }
  const version = topology.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > STATE_FORMAT_VERSION) {
    throw new Error(
      `${fn}: the state has format version ${String(version)}, which this gradtx cannot read (it reads versions 1 to ${STATE_FORMAT_VERSION})`,
    );
  }
  if (!('structure' in topology)) throw new Error(`${fn}: the state description has no structure (a damaged checkpoint?)`);
  if (topology.checksum !== undefined && (typeof topology.checksum !== 'string' || !/^crc32:[0-9a-f]{8}$/.test(topology.checksum)))
    throw new Error(
      `${fn}: the state description's checksum ${describe(topology.checksum)} is not of the form crc32:xxxxxxxx (a damaged checkpoint?)`,
    );
  checkStructureShape(fn, topology.structure);
  return topology as unknown as StateTopology;
}

/** How deep a state's structure may nest (a chain of chains of injected transformations stays far below). */
export const MAX_STRUCTURE_DEPTH = 64;

/** Keys a structure may not use: they would reach an object's prototype when the state is rebuilt. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks an untrusted structure before anything walks it recursively: nesting
 * at most {@link MAX_STRUCTURE_DEPTH} deep, no `__proto__`/`constructor`/
 * `prototype` keys, and each tensor name referred to once (two slots may not
 * alias one tensor). Iterative, so a hostile depth cannot overflow the stack.
 */
function checkStructureShape(fn: string, structure: unknown): void {
  const names = new Set<string>();
  const stack: [unknown, number][] = [[structure, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_STRUCTURE_DEPTH)
      throw new Error(`${fn}: the state's structure nests deeper than ${MAX_STRUCTURE_DEPTH} levels (a damaged or hostile checkpoint?)`);
    if (Array.isArray(node)) {
      for (const child of node) stack.push([child, depth + 1]);
      continue;
    }
    for (const key of Object.keys(node)) {
      if (FORBIDDEN_KEYS.has(key)) throw new Error(`${fn}: the state's structure has a key \`${key}\`, which a gradtx state never has`);
      stack.push([(node as Record<string, unknown>)[key], depth + 1]);
    }
    const tensor = (node as Record<string, unknown>).$tensor;
    if (typeof tensor === 'string' && Object.keys(node).length === 1) {
      if (names.has(tensor))
        throw new Error(`${fn}: the state's structure refers to the tensor \`${tensor}\` more than once (two slots cannot share a tensor)`);
      names.add(tensor);
    }
  }
}

const MARKERS = ['$tensor', '$number', '$undefined', '$object'] as const;

function markerOf(node: Record<string, unknown>): (typeof MARKERS)[number] | undefined {
  const keys = Object.keys(node);
  if (keys.length !== 1) return undefined;
  return MARKERS.find((m) => m === keys[0]);
}

/** The name under which the tensor at `path` of a state is stored: `state`, `state.mu.w`, `state[0].mu.w`, ... */
export function tensorName(path: readonly PathKey[]): string {
  if (path.length === 0) return 'state';
  const p = formatPath(path);
  return p.startsWith('[') ? `state${p}` : `state.${p}`;
}

/**
 * Splits a state into its JSON structure and its tensor leaves, each named
 * by its path (`state`, `state.mu.w`, `state[0].mu.w`, ...), in the order the tree visits them
 * (sorted object keys, array order). The tensors are the state's own (no
 * copies). Throws, naming the path, for a leaf that is not a tensor, number,
 * boolean, string, `null` or `undefined`, for a disposed tensor, and for a
 * tensor whose dtype is not float32, int32 or bool.
 *
 * @example
 * ```ts
 * const { structure, tensors } = flattenState(state);
 * // structure: [{ count: 3, mu: { w: { $tensor: 'state[0].mu.w' } }, ... }, ...]
 * ```
 */
export function flattenState(state: unknown, fn = 'flattenState'): { structure: StateStructure; tensors: NamedTensor[] } {
  const tensors: NamedTensor[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: PathKey[]): StateStructure => {
    if (node === null) return null;
    if (node === undefined) return { $undefined: true };
    if (typeof node === 'boolean' || typeof node === 'string') return node;
    if (typeof node === 'number') {
      if (Number.isNaN(node)) return { $number: 'NaN' };
      if (node === Infinity) return { $number: 'Infinity' };
      if (node === -Infinity) return { $number: '-Infinity' };
      if (Object.is(node, -0)) return { $number: '-0' };
      return node;
    }
    if (isTensor(node)) {
      if (node.isDisposed) throw new Error(`${fn}: the tensor at \`${formatPath(path)}\` of the state has been disposed`);
      if (!STATE_DTYPES.includes(node.dtype)) {
        throw new Error(
          `${fn}: the tensor at \`${formatPath(path)}\` of the state has dtype ${node.dtype}; a state may hold ${STATE_DTYPES.join(', ')} tensors`,
        );
      }
      const name = tensorName(path);
      tensors.push({ name, tensor: node });
      return { $tensor: name };
    }
    if (!isNode(node)) {
      throw new Error(
        `${fn}: the state at \`${formatPath(path)}\` is ${describe(node)}; a state must be plain data (objects, arrays, tensors, numbers, booleans, strings, null)`,
      );
    }
    if (seen.has(node)) throw new Error(`${fn}: the state at \`${formatPath(path)}\` refers back to one of its own containers`);
    seen.add(node);
    let out: StateStructure;
    if (Array.isArray(node)) out = node.map((child, i) => walk(child, [...path, i]));
    else {
      const obj: Record<string, StateStructure> = {};
      for (const key of sortedKeys(node as Record<string, unknown>))
        obj[key] = walk((node as Record<string, unknown>)[key], [...path, key]);
      out = markerOf(obj) === undefined ? obj : { $object: obj };
    }
    seen.delete(node);
    return out;
  };
  const structure = walk(state, []);
  return { structure, tensors };
}

/**
 * What a tensor placeholder of a structure stands for: its shape and dtype,
 * read from a tensor or from a weight spec.
 */
export interface TensorSpec {
  /** The tensor's shape. */
  shape: readonly number[];
  /** The tensor's dtype. */
  dtype: DataType | string;
}

type StructureNode =
  | { kind: 'tensor'; name: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'empty'; value: null | undefined }
  | { kind: 'array'; items: StateStructure[] }
  | { kind: 'object'; entries: Record<string, StateStructure> };

const SPECIAL_NUMBERS: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** Reads one node of a structure, throwing (naming the path) for anything that is not valid structure. */
function readNode(fn: string, node: unknown, path: readonly PathKey[]): StructureNode {
  const bad = (what: string): never => {
    throw new Error(
      `${fn}: the state's structure at \`${formatPath(path)}\` is ${what}, which is not a valid gradtx state description (a damaged checkpoint?)`,
    );
  };
  if (node === null) return { kind: 'empty', value: null };
  if (typeof node === 'number') return { kind: 'number', value: node };
  if (typeof node === 'boolean') return { kind: 'boolean', value: node };
  if (typeof node === 'string') return { kind: 'string', value: node };
  if (Array.isArray(node)) return { kind: 'array', items: node };
  if (!isPlainObject(node)) return bad(describe(node));
  switch (markerOf(node)) {
    case '$tensor':
      if (typeof node.$tensor !== 'string') return bad(`a $tensor marker with ${describe(node.$tensor)}`);
      return { kind: 'tensor', name: node.$tensor };
    case '$number': {
      const v = typeof node.$number === 'string' ? SPECIAL_NUMBERS[node.$number] : undefined;
      if (v === undefined) return bad(`a $number marker with ${JSON.stringify(node.$number)}`);
      return { kind: 'number', value: v };
    }
    case '$undefined':
      return { kind: 'empty', value: undefined };
    case '$object':
      if (!isPlainObject(node.$object)) return bad(`an $object marker with ${describe(node.$object)}`);
      return { kind: 'object', entries: node.$object as Record<string, StateStructure> };
    default:
      return { kind: 'object', entries: node as Record<string, StateStructure> };
  }
}

/**
 * Rebuilds a state from its structure and its tensors (by name), the inverse
 * of {@link flattenState}. The tensors are placed in the state as they are
 * (no copies). Throws, naming the path, when the structure is not valid or
 * refers to a tensor that `tensors` lacks.
 */
export function unflattenState<S = unknown>(
  structure: StateStructure,
  tensors: NamedTensorMap | readonly NamedTensor[],
  fn = 'unflattenState',
): S {
  const byName: Record<string, Tensor> = Array.isArray(tensors)
    ? Object.fromEntries((tensors as readonly NamedTensor[]).map((t) => [t.name, t.tensor]))
    : (tensors as NamedTensorMap);
  const build = (node: unknown, path: PathKey[]): unknown => {
    const n = readNode(fn, node, path);
    switch (n.kind) {
      case 'tensor': {
        const t = Object.hasOwn(byName, n.name) ? byName[n.name] : undefined;
        if (t === undefined) {
          throw new Error(
            `${fn}: the state's structure refers to the tensor \`${n.name}\` (at \`${formatPath(path)}\`), which is missing from the weights`,
          );
        }
        return t;
      }
      case 'array':
        return n.items.map((c, i) => build(c, [...path, i]));
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const key of sortedKeys(n.entries)) out[key] = build(n.entries[key], [...path, key]);
        return out;
      }
      default:
        return n.value;
    }
  };
  return build(structure, []) as S;
}

/** The names of the tensors a structure refers to, in visiting order. */
export function structureTensorNames(structure: StateStructure, fn: string): string[] {
  const names: string[] = [];
  const walk = (node: unknown, path: PathKey[]) => {
    const n = readNode(fn, node, path);
    if (n.kind === 'tensor') names.push(n.name);
    else if (n.kind === 'array') {
      for (const [i, c] of n.items.entries()) walk(c, [...path, i]);
    } else if (n.kind === 'object') for (const key of sortedKeys(n.entries)) walk(n.entries[key], [...path, key]);
  };
  walk(structure, []);
  return names;
}

/** Words for where the two sides of a comparison come from, used in mismatch messages. */
export interface MatchWording {
  /** The function reporting, e.g. `loadState`. */
  fn: string;
  /** The side being loaded, e.g. `the checkpoint's state`. */
  found: string;
  /** The side it must fit, e.g. `this transformation and params`. */
  expected: string;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function describeStructureNode(n: StructureNode, spec: TensorSpec | undefined): string {
  switch (n.kind) {
    case 'tensor':
      return spec === undefined ? `the tensor \`${n.name}\`` : `a ${spec.dtype} tensor of shape ${shapeText(spec.shape)}`;
    case 'number':
      return `number ${String(n.value)}`;
    case 'boolean':
      return `boolean ${String(n.value)}`;
    case 'string':
      return `string ${JSON.stringify(n.value)}`;
    case 'empty':
      return String(n.value);
    case 'array':
      return `an array of length ${n.items.length}`;
    case 'object':
      return `an object with keys {${sortedKeys(n.entries).join(', ')}}`;
  }
}

/** State keys that hold step counts (optax's int32 counters): an integer from 0 to {@link MAX_COUNT} in any state. */
export const COUNTER_KEYS: ReadonlySet<string> = new Set(['count', 'step', 'miniStep', 'gradientStep']);

function leafKind(x: unknown): string {
  if (x === null || x === undefined) return 'empty';
  if (isTensor(x)) return 'tensor';
  if (Array.isArray(x)) return 'array';
  if (isPlainObject(x)) return 'object';
  return typeof x;
}

/** The storage a structure node describes: a packed slot's (`{ dtype, codes, ... }`), else float32. */
function storageOfNode(node: unknown): string {
  if (!isPlainObject(node) || !('codes' in node)) return 'float32';
  const { dtype, blockSize } = node as { dtype?: unknown; blockSize?: unknown };
  return dtype === 'bfloat16' || dtype === 'float16' || dtype === 'int8' ? storageName({ dtype, blockSize }) : 'float32';
}

/**
 * Checks that a state described by `structure` (with tensor shapes and dtypes
 * from `specOf`) has the same form as `reference` (a state built by the
 * transformation's `init`): the same containers and keys, tensors of the same
 * shapes and dtypes, and numbers, booleans, strings and empty slots where the
 * reference has them (their values may differ). Throws at the first
 * difference, naming its path, e.g. "the checkpoint's state has `[0].mu.w` of
 * shape [3, 4] but this transformation and params expect [4, 3]".
 */
export function checkStructureMatches(
  structure: StateStructure,
  specOf: (name: string) => TensorSpec | undefined,
  reference: unknown,
  words: MatchWording,
): void {
  const { fn, found, expected } = words;
  const fail = (detail: string): never => {
    throw new Error(`${fn}: ${detail}`);
  };
  const walk = (node: unknown, ref: unknown, path: PathKey[]) => {
    const n = readNode(fn, node, path);
    const at = `\`${formatPath(path)}\``;
    const stored = storageOfNode(node);
    const storedRef = isPackedSlot(ref) ? storageName(ref) : 'float32';
    if ((stored !== 'float32' || storedRef !== 'float32') && stored !== storedRef) {
      fail(`${found} stores ${at} as ${stored} but ${expected} store it as ${storedRef}`);
    }
    const spec = n.kind === 'tensor' ? specOf(n.name) : undefined;
    if (n.kind === 'tensor' && spec === undefined) {
      fail(`${found} refers to the tensor \`${n.name}\` (at ${at}), which is missing from the weights (a damaged checkpoint?)`);
    }
    const kind = leafKind(ref);
    if (n.kind !== kind) {
      fail(
        `${found} has ${describeStructureNode(n, spec)} at ${at} but ${expected} expect ${describe(ref)} there (a state from a different transformation or params?)`,
      );
    }
    if (n.kind === 'number' && typeof ref === 'number' && COUNTER_KEYS.has(path[path.length - 1] as string)) {
      if (!Number.isInteger(n.value) || n.value < 0 || n.value > MAX_COUNT)
        fail(`${found} has the step count ${String(n.value)} at ${at}; a count is an integer from 0 to ${MAX_COUNT}`);
    }
    if (n.kind === 'tensor' && spec !== undefined) {
      const t = ref as Tensor;
      if (spec.shape.length !== t.shape.length || spec.shape.some((d, i) => d !== t.shape[i])) {
        fail(`${found} has ${at} of shape ${shapeText(spec.shape)} but ${expected} expect ${shapeText(t.shape)}`);
      }
      if (spec.dtype !== t.dtype) fail(`${found} has ${at} of dtype ${spec.dtype} but ${expected} expect ${t.dtype}`);
    } else if (n.kind === 'array') {
      const r = ref as unknown[];
      if (n.items.length !== r.length) {
        fail(
          `${found} has an array of length ${n.items.length} at ${at} but ${expected} expect length ${r.length} (a state from a different transformation?)`,
        );
      }
      for (const [i, c] of n.items.entries()) walk(c, r[i], [...path, i]);
    } else if (n.kind === 'object') {
      const r = ref as Record<string, unknown>;
      const keys = sortedKeys(n.entries);
      const refKeys = sortedKeys(r);
      const missing = refKeys.find((k) => !Object.hasOwn(n.entries, k));
      if (missing !== undefined) {
        fail(
          `${found} has no \`${formatPath([...path, missing])}\` but ${expected} expect ${describe(r[missing])} there (a state from a different transformation?)`,
        );
      }
      const extra = keys.find((k) => !Object.hasOwn(r, k));
      if (extra !== undefined) {
        fail(`${found} has \`${formatPath([...path, extra])}\`, which ${expected} do not have (a state from a different transformation?)`);
      }
      for (const k of keys) walk(n.entries[k], r[k], [...path, k]);
    }
  };
  walk(structure, reference, []);
}
