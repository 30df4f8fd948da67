/**
 * The storage codecs as the generated JS kernels call them, element by
 * element and block by block, on the code words of packed slots in place:
 * the same functions (and so the same bits) as the host codecs of
 * `lang/storage/` that the reference path uses.
 *
 * @module
 */
import { blockScale } from '../../lang/storage/blockwise.js';
import { decodeDynamic } from '../../lang/storage/dynamic-map.js';
import { bfloat16Bits, decodeTable, float16Bits } from '../../lang/storage/host-codec.js';
import { bucketCode } from '../../lang/storage/map-buckets.js';
import { dynamicMapOf } from '../../lang/storage/slot-storage.js';

/** What a JS kernel of an IR with packed arrays reads and calls (see `js-printer.ts`). */
export interface KernelCodecs {
  /** Every 16-bit code's value: bfloat16 and float16. */
  readonly bfloat16: Float32Array;
  readonly float16: Float32Array;
  /** Every 8-bit code's normalised value: signed and unsigned map. */
  readonly int8Signed: Float32Array;
  readonly int8Unsigned: Float32Array;
  /** The 16-bit code of the float32 `v`, rounded to nearest, ties to even. */
  encodeBfloat16(v: number): number;
  encodeFloat16(v: number): number;
  /** The 16-bit or 8-bit codes of an array of int32 words (a view of the same memory). */
  u16(words: Int32Array): Uint16Array;
  u8(words: Int32Array): Uint8Array;
  /** Quantizes a tile buffer into codes and scales, block by block (see `quantize` in this module). */
  quantize: typeof quantize;
}

const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);

/**
 * Quantizes `values[0, len)`, the new values of elements `at …` of a leaf
 * (`at` a multiple of `blockSize`), block by block: each block's absmax
 * scale into `scales`, its codes into `codes` (as `quantizeBlockwise`,
 * each code found through the map's buckets instead of a search).
 */
function quantize(
  values: Float32Array,
  len: number,
  blockSize: number,
  codes: Uint8Array,
  scales: Float32Array,
  at: number,
  signed: boolean,
): void {
  for (let start = 0; start < len; start += blockSize) {
    const end = Math.min(start + blockSize, len);
    const s = blockScale(values, start, end);
    scales[(at + start) / blockSize] = s;
    if (s > 0) for (let i = start; i < end; i++) codes[at + i] = bucketCode(Math.fround((values[i] as number) / s), signed);
    else codes.fill(0, at + start, at + end);
  }
}

function int8Values(signed: boolean): Float32Array {
  const map = dynamicMapOf(signed);
  return Float32Array.from({ length: 256 }, (_, c) => decodeDynamic(c, map));
}

let codecs: KernelCodecs | undefined;

/** The codecs (their tables built on first use). */
export function kernelCodecs(): KernelCodecs {
  codecs ??= Object.freeze({
    bfloat16: decodeTable('bfloat16'),
    float16: decodeTable('float16'),
    int8Signed: int8Values(true),
    int8Unsigned: int8Values(false),
    encodeBfloat16: (v: number) => {
      f32[0] = v;
      return bfloat16Bits(bits[0] as number);
    },
    encodeFloat16: (v: number) => {
      f32[0] = v;
      return float16Bits(bits[0] as number);
    },
    u16: (w: Int32Array) => new Uint16Array(w.buffer, w.byteOffset, w.length * 2),
    u8: (w: Int32Array) => new Uint8Array(w.buffer, w.byteOffset, w.length * 4),
    quantize,
  });
  return codecs;
}
