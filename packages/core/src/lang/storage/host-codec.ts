/**
 * The storage formats on the host: a leaf's float32 values to its packed
 * code words (and int8 block scales) and back, with plain typed arrays. The
 * same bits as the tfjs-op codecs of `tensor-codec.ts` (tested on cpu and
 * wasm); the reference path uses these where the backend reads tensors
 * synchronously, and the tests use them as the formats' definition.
 *
 * @module
 */
import { dequantizeBlockwise, quantizeBlockwise } from './blockwise.js';
import { decodeNarrowFloat, encodeNarrowFloat } from './narrow-float.js';
import { packCodes, unpackCodes } from './packing.js';
import { dynamicMapOf, narrowFormatOf, type SlotStorage } from './slot-storage.js';

type Narrow = Exclude<SlotStorage, { dtype: 'float32' }>;

/** A leaf as stored: packed int32 code words and, for int8, float32 block scales. */
export interface StoredValues {
  readonly words: Int32Array;
  readonly scales?: Float32Array;
}

/** Every 16-bit code's float32 value, per format (built on first use: 256 KiB each). */
const decodeTables = new Map<string, Float32Array>();

function decodeTable(dtype: 'bfloat16' | 'float16'): Float32Array {
  let table = decodeTables.get(dtype);
  if (table === undefined) {
    const f = narrowFormatOf(dtype);
    table = new Float32Array(0x10000);
    for (let c = 0; c < 0x10000; c++) table[c] = decodeNarrowFloat(c, f);
    decodeTables.set(dtype, table);
  }
  return table;
}

/** The 16-bit codes of float32 `values`: bfloat16 by the round-to-nearest-even bit formula, float16 by the generic encoder. */
function narrowCodes(values: ArrayLike<number>, dtype: 'bfloat16' | 'float16'): Uint16Array {
  const n = values.length;
  const codes = new Uint16Array(n);
  if (dtype === 'float16') {
    const f = narrowFormatOf(dtype);
    for (let i = 0; i < n; i++) codes[i] = encodeNarrowFloat(values[i] as number, f);
    return codes;
  }
  const bits =
    values instanceof Float32Array
      ? new Uint32Array(values.buffer, values.byteOffset, n)
      : new Uint32Array(Float32Array.from(values).buffer);
  for (let i = 0; i < n; i++) {
    const b = bits[i] as number;
    // a NaN (exponent all ones, fraction non-zero) becomes the canonical quiet NaN, as encodeNarrowFloat does
    codes[i] = (b & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return codes;
}

/** Encodes float32 `values` in `storage`. */
export function encodeValues(values: ArrayLike<number>, storage: Narrow): StoredValues {
  if (storage.root) values = Float32Array.from(values, Math.sqrt);
  if (storage.dtype === 'int8') {
    const q = quantizeBlockwise(values, storage.blockSize, dynamicMapOf(storage.signed));
    return { words: packCodes(q.codes, 8), scales: q.scales };
  }
  return { words: packCodes(narrowCodes(values, storage.dtype), 16) };
}

/** Decodes the first `n` values of a stored leaf. */
export function decodeValues(stored: StoredValues, n: number, storage: Narrow): Float32Array {
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
