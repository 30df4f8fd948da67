/**
 * The storage formats on the host: a leaf's float32 values to its packed
 * code words (and int8 block scales) and back, with plain typed arrays. The
 * same bits as the tfjs-op codecs of `tensor-codec.ts` (tested on cpu and
 * wasm); the reference path uses these where the backend reads tensors
 * synchronously, and the tests use them as the formats' definition.
 *
 * @module
 */

import type { PackedStorage } from '../packed-columns.js';
import { dequantizeBlockwise, quantizeBlockwise } from './blockwise.js';
import { decodeNarrowFloat } from './narrow-float.js';
import { packCodes, unpackCodes } from './packing.js';
import { dynamicMapOf, narrowFormatOf } from './slot-storage.js';

/** A leaf as stored: packed int32 code words and, for int8, float32 block scales. */
export interface StoredValues {
  readonly words: Int32Array;
  readonly scales?: Float32Array;
}

/** Every 16-bit code's float32 value, per format (built on first use: 256 KiB each). */
const decodeTables = new Map<string, Float32Array>();

/** Every 16-bit code's float32 value in the format `dtype`: the decoding as a table (exact). */
export function decodeTable(dtype: 'bfloat16' | 'float16'): Float32Array {
  let table = decodeTables.get(dtype);
  if (table === undefined) {
    const f = narrowFormatOf(dtype);
    table = new Float32Array(0x10000);
    for (let c = 0; c < 0x10000; c++) table[c] = decodeNarrowFloat(c, f);
    decodeTables.set(dtype, table);
  }
  return table;
}

/** The bfloat16 code of the float32 with bits `b`: round to nearest, ties to even, on the bits; NaN to the canonical quiet NaN. */
export function bfloat16Bits(b: number): number {
  return (b & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

/** The float16 code of the float32 with bits `b`, as `encodeNarrowFloat` computes it, on the bits. */
export function float16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const abs = b & 0x7fffffff;
  if (abs > 0x7f800000) return 0x7e00; // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00; // at or past 65520 (the rounding boundary of 65504): Infinity
  if (abs >= 0x38800000) return sign | (((abs + 0x0fff + ((abs >>> 13) & 1)) >>> 13) - 0x1c000); // a normal
  const e = abs >>> 23;
  if (e < 102) return sign; // below 2^-25, half the smallest subnormal: ±0
  // a subnormal: the 24-bit significand shifted down to units of 2^-24, rounded to nearest, ties to even
  const m = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  let q = m >>> shift;
  const rest = m - (q << shift);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (q & 1) === 1)) q++;
  return sign | q;
}

/** The 16-bit codes of float32 `values`, by the round-to-nearest-even bit formulas (equal to `encodeNarrowFloat`'s). */
function narrowCodes(values: ArrayLike<number>, dtype: 'bfloat16' | 'float16'): Uint16Array {
  const n = values.length;
  const codes = new Uint16Array(n);
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  const bits = new Uint32Array(f32.buffer, f32.byteOffset, n);
  const encode = dtype === 'bfloat16' ? bfloat16Bits : float16Bits;
  for (let i = 0; i < n; i++) codes[i] = encode(bits[i] as number);
  return codes;
}

/** Encodes float32 `values` in `storage`. */
export function encodeValues(values: ArrayLike<number>, storage: PackedStorage): StoredValues {
  if (storage.root) values = Float32Array.from(values, Math.sqrt);
  if (storage.dtype === 'int8') {
    const q = quantizeBlockwise(values, storage.blockSize, dynamicMapOf(storage.signed));
    return { words: packCodes(q.codes, 8), scales: q.scales };
  }
  return { words: packCodes(narrowCodes(values, storage.dtype), 16) };
}

/** Decodes the first `n` values of a stored leaf. */
export function decodeValues(stored: StoredValues, n: number, storage: PackedStorage): Float32Array {
  let out: Float32Array;
  if (storage.dtype === 'int8') {
    const codes = Uint8Array.from(unpackCodes(stored.words, 8, n));
    out = dequantizeBlockwise({ codes, scales: stored.scales as Float32Array }, n, storage.blockSize, dynamicMapOf(storage.signed));
  } else {
    const table = decodeTable(storage.dtype);
    const codes = unpackCodes(stored.words, 16, n);
    out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = table[codes[i] as number] as number;
  }
  if (storage.root) for (let i = 0; i < n; i++) out[i] = (out[i] as number) * (out[i] as number);
  return out;
}
