/**
 * How a per-element state slot is stored: the storage descriptor a spec's
 * slot carries, and the packed value a slot holds in a state.
 *
 * A `'float32'` slot is what it always was: a tree of float32 tensors with
 * the params' structure and shapes. A slot in a narrow format is a
 * {@link PackedSlot}, plain data that checkpoints and `tf.memory()` see as
 * it is:
 * - `'bfloat16'`, `'float16'`: `{ dtype, codes }`, `codes` a tree (the
 *   params' structure) of 1-D int32 tensors of `ceil(n / 2)` words, two
 *   16-bit codes per word (see `packing.ts`, `narrow-float.ts`): 2 bytes per
 *   element;
 * - `'int8'`: `{ dtype, blockSize, codes, scales }`, `codes` 1-D int32
 *   tensors of `ceil(n / 4)` words (four 8-bit codes each) and `scales` 1-D
 *   float32 tensors of `ceil(n / blockSize)` block scales (see
 *   `blockwise.ts`): 1 + 4 / blockSize bytes per element.
 *
 * @module
 */
import { type DynamicMap, SIGNED_DYNAMIC_MAP, UNSIGNED_DYNAMIC_MAP } from './dynamic-map.js';
import { BFLOAT16, FLOAT16, type NarrowFloatFormat } from './narrow-float.js';
import { type CodeBits, packedWords } from './packing.js';

/** The storage dtypes a moment or accumulator may use. */
export type StateDtype = 'float32' | 'bfloat16' | 'float16' | 'int8';

/** Every {@link StateDtype}, in the order messages list them. */
export const STORAGE_DTYPES: readonly StateDtype[] = Object.freeze(['float32', 'bfloat16', 'float16', 'int8']);

/**
 * The storage of one slot. `signed` picks the int8 code map (true for
 * values of either sign such as first moments, false for values ≥ 0 such
 * as second moments); `blockSize` is the int8 block length. `root`: the
 * slot's values are ≥ 0 and their square roots are stored (`√x` encoded,
 * `v · v` decoded, both in float32), which halves their range in the log
 * domain: a second moment `ν = E[g²]` spans twice the decades of the
 * gradient RMS `√ν`, more than the int8 map's 1e-7 or float16's 6e-8 can
 * hold (Adam's `m / √ν` then blows up where `ν` underflows to 0 but `m`
 * does not).
 */
export type SlotStorage =
  | { readonly dtype: 'float32' }
  | { readonly dtype: 'bfloat16' | 'float16'; readonly root?: boolean }
  | { readonly dtype: 'int8'; readonly signed: boolean; readonly blockSize: number; readonly root?: boolean };

/** A narrow-format slot's value in a state (see the module comment). */
export type PackedSlot =
  | { dtype: 'bfloat16' | 'float16'; codes: unknown }
  | { dtype: 'int8'; blockSize: number; codes: unknown; scales: unknown };

/** The float32 storage (today's, the default). */
export const FLOAT32_STORAGE: SlotStorage = Object.freeze({ dtype: 'float32' });

/** Whether `storage` packs its values (anything but float32). */
export function isPacked(storage: SlotStorage | undefined): storage is Exclude<SlotStorage, { dtype: 'float32' }> {
  return storage !== undefined && storage.dtype !== 'float32';
}

/** The 16-bit float format of a `'bfloat16'` or `'float16'` storage. */
export function narrowFormatOf(dtype: 'bfloat16' | 'float16'): NarrowFloatFormat {
  return dtype === 'bfloat16' ? BFLOAT16 : FLOAT16;
}

/** The int8 code map of a storage: signed or unsigned. */
export function dynamicMapOf(signed: boolean): DynamicMap {
  return signed ? SIGNED_DYNAMIC_MAP : UNSIGNED_DYNAMIC_MAP;
}

/** Bits per packed code of a narrow storage. */
export function codeBitsOf(dtype: 'bfloat16' | 'float16' | 'int8'): CodeBits {
  return dtype === 'int8' ? 8 : 16;
}

/** The number of int32 code words a leaf of `n` elements takes in `storage`. */
export function codeWordsOf(storage: Exclude<SlotStorage, { dtype: 'float32' }>, n: number): number {
  return packedWords(n, codeBitsOf(storage.dtype));
}

/** The name of a storage as messages give it: `float32`, `bfloat16`, `float16` or `int8 (blocks of 256)`. */
export function storageName(storage: SlotStorage | { dtype: string; blockSize?: unknown }): string {
  return storage.dtype === 'int8' ? `int8 (blocks of ${String((storage as { blockSize?: unknown }).blockSize)})` : storage.dtype;
}

/** Whether `x` has the form of a {@link PackedSlot} (a plain object with a narrow `dtype` and `codes`). */
export function isPackedSlot(x: unknown): x is PackedSlot {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype) return false;
  const o = x as Record<string, unknown>;
  return (o.dtype === 'bfloat16' || o.dtype === 'float16' || o.dtype === 'int8') && 'codes' in o;
}
