/**
 * Element-wise state slots in their storage: building a slot's initial value,
 * decoding a stored slot to float32 tensors before a body runs and encoding
 * the body's outputs after it, and checking a stored slot against the
 * updates it belongs to. A float32 slot is a tree of float32 tensors with
 * the params' shapes; a narrow one is a {@link PackedSlot} (layout in
 * `lang/storage/slot-storage.ts`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from './base.js';
import { blockCount } from './lang/storage/blockwise.js';
import { decodeValues, encodeValues } from './lang/storage/host-codec.js';
import {
  codeWordsOf,
  FLOAT32_STORAGE,
  isPacked,
  isPackedSlot,
  type PackedSlot,
  type SlotStorage,
  storageName,
} from './lang/storage/slot-storage.js';
import { decodeLeaf, encodeLeaf, type PackedLeaf, type StateCodec } from './lang/storage/tensor-codec.js';
import {
  assertSameShapes,
  assertSameStructure,
  formatPath,
  isTensor,
  type TreeDef,
  treeFlatten,
  treeLeaves,
  treeLeavesWithPath,
  treeMap,
  treeUnflatten,
} from './tree.js';
import { checkFloatTree } from './validate.js';

type Narrow = Exclude<SlotStorage, { dtype: 'float32' }>;

/**
 * Whether the current backend reads tensors synchronously and cheaply (cpu,
 * wasm): there the codecs run on the host; elsewhere with the fused
 * device's own codecs where it has them (webgpu: WGSL kernels), else with
 * tfjs ops (tensorflow). All give the same bits.
 */
function codecOnHost(): boolean {
  if (hostCodecs !== 'auto') return hostCodecs;
  const b = tf.getBackend();
  return b === 'cpu' || b === 'wasm';
}
let hostCodecs: boolean | 'auto' = 'auto';

/**
 * Backends whose int32 tensor arithmetic is exact, where the tfjs-op codecs
 * (which pack codes into int32 words with int32 products and sums) are
 * right. tfjs-webgpu and tfjs-webgl compute int32 operations in float32
 * (on webgpu the device's codecs take over; webgl has none).
 */
const EXACT_INT32_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

/** The codecs of the current backend's fused device, where the codecs do not run on the host and it has its own (webgpu). */
function deviceCodec(): StateCodec | undefined {
  return codecOnHost() ? undefined : currentDeviceCodec();
}

let currentDeviceCodec: () => StateCodec | undefined = () => undefined;

/** Where the codecs of the current backend's fused device come from: set once by the engine's device registry (which sits above this module). */
export function useDeviceCodecs(codecOf: () => StateCodec | undefined): void {
  currentDeviceCodec = codecOf;
}

/** Throws, naming `fn`, where `storage` (a narrow one) cannot be encoded correctly on the current backend. */
export function checkStorageBackend(fn: string, storage: SlotStorage | undefined): void {
  if (!isPacked(storage)) return;
  const b = tf.getBackend();
  if (codecOnHost() || EXACT_INT32_BACKENDS.has(b) || deviceCodec() !== undefined) return;
  throw new Error(
    `${fn}: state stored as ${storageName(storage)} needs exact int32 tensor arithmetic to pack its codes, which the ${b} backend does not have (it computes int32 operations in float32); on ${b} keep the state in 'float32', or run this transformation on the cpu, wasm or tensorflow backend`,
  );
}

/** Forces the codecs onto the host (`true`) or onto tfjs ops (`false`), or back to the backend's choice; for tests. */
export function setHostCodecs(mode: boolean | 'auto'): void {
  hostCodecs = mode;
}

function encodeOne(x: tf.Tensor, storage: Narrow): PackedLeaf {
  const device = deviceCodec();
  if (device !== undefined) return device.encode(x, storage);
  if (!codecOnHost()) return encodeLeaf(x, storage);
  const { words, scales } = encodeValues(x.dataSync() as Float32Array, storage);
  return { codes: tf.tensor1d(words, 'int32'), scales: scales === undefined ? undefined : tf.tensor1d(scales, 'float32') };
}

function decodeOne(leaf: PackedLeaf, shape: readonly number[], storage: Narrow): tf.Tensor {
  const device = deviceCodec();
  if (device !== undefined) return device.decode(leaf, shape, storage);
  if (!codecOnHost()) return decodeLeaf(leaf, shape, storage);
  const n = tf.util.sizeFromShape(shape as number[]);
  const stored = { words: leaf.codes.dataSync() as Int32Array, scales: leaf.scales?.dataSync() as Float32Array | undefined };
  return tf.tensor(decodeValues(stored, n, storage), shape as number[], 'float32');
}

/** Encodes float32 leaves (in tree order of `treedef`) into a packed slot. */
export function encodeSlot(storage: Narrow, treedef: TreeDef, leaves: readonly tf.Tensor[]): PackedSlot {
  const packed = leaves.map((x) => encodeOne(x, storage));
  const codes = treeUnflatten(
    treedef,
    packed.map((l) => l.codes),
  );
  if (storage.dtype !== 'int8') return { dtype: storage.dtype, codes };
  return {
    dtype: 'int8',
    blockSize: storage.blockSize,
    codes,
    scales: treeUnflatten(
      treedef,
      packed.map((l) => l.scales),
    ),
  };
}

/** Decodes a packed slot into float32 tensors of `shapes` (one per leaf, in tree order). */
export function decodeSlot(storage: Narrow, value: PackedSlot, shapes: readonly (readonly number[])[]): tf.Tensor[] {
  const codes = treeLeaves<tf.Tensor>(value.codes);
  const scales = value.dtype === 'int8' ? treeLeaves<tf.Tensor>(value.scales) : [];
  return shapes.map((shape, i) => decodeOne({ codes: codes[i] as tf.Tensor, scales: scales[i] }, shape, storage));
}

/** A slot's initial value for `params` in `storage`: every element `init`, or a copy of the params (`fn` names the transform in errors). */
export function initSlot(fn: string, storage: SlotStorage | undefined, params: Params, init: number | 'params'): unknown {
  const leaf = (p: tf.Tensor) => (init === 'params' ? tf.clone(p) : tf.fill(p.shape, init, 'float32'));
  if (!isPacked(storage)) return treeMap(leaf, params);
  checkStorageBackend(fn, storage);
  const { leaves, treedef } = treeFlatten<tf.Tensor>(params);
  return tf.tidy(() => encodeSlot(storage, treedef, leaves.map(leaf)) as never) as PackedSlot;
}

/** The storage a slot value is in, as messages name it (a value that is not a packed slot counts as float32). */
function storedAs(value: unknown): string {
  return isPackedSlot(value) ? storageName(value) : 'float32';
}

/** Checks one packed tree (`codes` or `scales`) of a slot: a live 1-D tensor of `dtype` and `size(n)` elements per leaf. */
function checkPackedTree(
  fn: string,
  where: string,
  tree: unknown,
  updates: unknown,
  dtype: 'int32' | 'float32',
  size: (n: number) => number,
): void {
  assertSameStructure(updates, tree, ['updates', where]);
  const leaves = treeLeaves(tree);
  treeLeavesWithPath(updates).forEach(([path, u], i) => {
    const t = leaves[i];
    const at = `${where}${path.length > 0 ? `.${formatPath(path)}` : ''}`;
    if (!isTensor(t) || t.isDisposed) throw new Error(`${fn}: \`${at}\` must be a live ${dtype} tensor`);
    const n = (u as tf.Tensor).size;
    if (t.dtype !== dtype || t.shape.length !== 1 || t.size !== size(n)) {
      throw new Error(
        `${fn}: \`${at}\` must be a 1-D ${dtype} tensor of ${size(n)} elements for a leaf of ${n}, got ${t.dtype} [${t.shape.join(', ')}]`,
      );
    }
  });
}

/**
 * Checks a slot's value against the updates, naming the slot: a float32 slot
 * is a float32 tree of the updates' shapes; a packed slot has the storage
 * the transform uses (else the message names both) and code words and
 * scales of the sizes that storage gives each leaf.
 */
export function checkSlot(fn: string, name: string, storage: SlotStorage | undefined, value: unknown, updates: unknown): void {
  const where = `state.${name}`;
  const expected = storage ?? FLOAT32_STORAGE;
  if (storedAs(value) !== storageName(expected)) {
    throw new Error(`${fn}: \`${where}\` is stored as ${storedAs(value)} but ${fn} stores it as ${storageName(expected)}`);
  }
  if (!isPacked(expected)) {
    assertSameShapes(updates, value, ['updates', where]);
    checkFloatTree(fn, where, value);
    return;
  }
  checkStorageBackend(fn, expected);
  const packed = value as PackedSlot;
  checkPackedTree(fn, `${where}.codes`, packed.codes, updates, 'int32', (n) => codeWordsOf(expected, n));
  if (expected.dtype === 'int8' && packed.dtype === 'int8') {
    checkPackedTree(fn, `${where}.scales`, packed.scales, updates, 'float32', (n) => blockCount(n, expected.blockSize));
  }
}
