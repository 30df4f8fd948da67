/**
 * Packed slots in the kernel IR. A slot stored in a narrow format
 * (`SlotStorage`, see `storage/slot-storage.ts`) reaches a kernel as its
 * code words: the IR's input or output `s<i>:<slot>` is then an array of
 * int32 words (two 16-bit or four 8-bit codes each) that the kernel decodes
 * to float32 where it loads an element and encodes where it stores one. An
 * int8 slot has a second array right after it in the IR's inputs or
 * outputs, `s<i>:<slot>#scales`: one float32 absmax scale per block.
 *
 * `KernelIR.packed` maps each packed array's name to its storage, and the
 * IR's signature (the key of every compiled kernel) includes it.
 *
 * @module
 */
import type { SlotStorage } from './storage/slot-storage.js';

/** A narrow storage (anything but float32). */
export type PackedStorage = Exclude<SlotStorage, { dtype: 'float32' }>;

/** An int8 storage. */
export type Int8Storage = Extract<SlotStorage, { dtype: 'int8' }>;

const SCALES = '#scales';

/** The name of the block scales array of the int8 array `name`. */
export function scalesName(name: string): string {
  return `${name}${SCALES}`;
}

/** Whether an IR input or output name is the block scales array of an int8 slot. */
export function isScalesName(name: string): boolean {
  return name.endsWith(SCALES);
}

/** The slot array a block scales array belongs to. */
export function scaledName(name: string): string {
  return name.slice(0, -SCALES.length);
}

/** A storage as the signature spells it: `b`, `h`, `8s256`, `8u64r` (`r`: stored as a square root). */
export function storageKey(s: SlotStorage | undefined): string {
  if (s === undefined || s.dtype === 'float32') return '';
  const root = s.root ? 'r' : '';
  if (s.dtype === 'int8') return `8${s.signed ? 's' : 'u'}${s.blockSize}${root}`;
  return `${s.dtype === 'bfloat16' ? 'b' : 'h'}${root}`;
}

/** The storage of an IR array, or `undefined` for a float32 array (a `#scales` array is float32). */
export function storageOf(ir: { readonly packed: Readonly<Record<string, PackedStorage>> }, name: string): PackedStorage | undefined {
  return Object.hasOwn(ir.packed, name) ? ir.packed[name] : undefined;
}

/** Whether any array of the IR is packed. */
export function hasPacked(ir: { readonly packed: Readonly<Record<string, PackedStorage>> }): boolean {
  return Object.keys(ir.packed).length > 0;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The elements of a tile of a kernel that writes int8 arrays: the least
 * common multiple of their block sizes (each tile holds whole blocks of
 * every int8 output, whose scales need the whole block's new values before
 * any code is written); 0 when the kernel writes no int8 array.
 */
export function int8Tile(ir: {
  readonly packed: Readonly<Record<string, PackedStorage>>;
  readonly outputs: readonly { readonly name: string }[];
}): number {
  let tile = 0;
  for (const o of ir.outputs) {
    const s = storageOf(ir, o.name);
    if (s?.dtype === 'int8') tile = tile === 0 ? s.blockSize : (tile / gcd(tile, s.blockSize)) * s.blockSize;
  }
  return tile;
}
