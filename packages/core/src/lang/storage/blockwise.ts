/**
 * Block-wise dynamic 8-bit quantization of one leaf (Dettmers et al.,
 * "8-bit Optimizers via Block-wise Quantization", ICLR 2022, §2.1): the
 * leaf's elements, in row-major order, are cut into blocks of `blockSize`;
 * each block stores its absolute maximum as a float32 `scale` and each
 * element the 8-bit code (see `dynamic-map.ts`) of `x / scale`.
 *
 * In float32 arithmetic, for element `x` of a block with scale `s`:
 * ```
 * s    = max |x| over the block
 * code = encodeDynamic(s > 0 ? x / s : 0)       x̂ = value(code) · s
 * ```
 * so `|x - x̂| ≤ halfGap(|x| / s) · s` up to the two float32 roundings
 * (`halfGap`: half the distance between the two map values that bracket
 * `|x| / s`; at most 0.45 · 10^-E / 2^f for a magnitude in
 * (10^-(E+1), 10^-E], and half the smallest magnitude, 5e-7 signed or 5e-8
 * unsigned, below it).
 *
 * Edges: the last block of a leaf holds the remaining `n mod blockSize`
 * elements and its scale covers only those (each leaf starts a new block);
 * an all-zero block has scale 0 and decodes to zeros (±0 both decode to
 * +0); a block holding a NaN or ±Infinity gets scale NaN and all-zero codes,
 * so the whole block decodes to NaN (non-finite state is never passed off
 * as finite); in a block with one huge value the others become small
 * fractions of it and those below 5e-7 of it (signed map) decode to 0.
 *
 * @module
 */
import { type DynamicMap, decodeDynamic, encodeDynamic } from './dynamic-map.js';

/** The default number of elements per block. */
export const DEFAULT_BLOCK_SIZE = 256;

/** The number of blocks of a leaf of `n` elements. */
export function blockCount(n: number, blockSize: number): number {
  return Math.ceil(n / blockSize);
}

/** A leaf quantized block-wise: one code per element and one scale per block. */
export interface QuantizedLeaf {
  readonly codes: Uint8Array;
  readonly scales: Float32Array;
}

/** The float32 scale of `values[start, end)`: the largest |x|, 0 for an all-zero block, NaN if any value is not finite. */
export function blockScale(values: ArrayLike<number>, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(values[i] as number);
    if (!(a <= Number.MAX_VALUE)) return Number.NaN;
    if (a > s) s = a;
  }
  return s;
}

/** Quantizes `values` (float32) block-wise with `map` (see the module comment). */
export function quantizeBlockwise(values: ArrayLike<number>, blockSize: number, map: DynamicMap): QuantizedLeaf {
  const n = values.length;
  const codes = new Uint8Array(n);
  const scales = new Float32Array(blockCount(n, blockSize));
  for (let blk = 0; blk < scales.length; blk++) {
    const start = blk * blockSize;
    const end = Math.min(start + blockSize, n);
    const s = blockScale(values, start, end);
    scales[blk] = s;
    if (!(s > 0)) continue;
    for (let i = start; i < end; i++) codes[i] = encodeDynamic(Math.fround((values[i] as number) / s), map);
  }
  return { codes, scales };
}

/** Dequantizes a leaf of `n` elements: `value(code) · scale` in float32. */
export function dequantizeBlockwise(leaf: QuantizedLeaf, n: number, blockSize: number, map: DynamicMap): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = decodeDynamic(leaf.codes[i] as number, map) * (leaf.scales[Math.floor(i / blockSize)] as number);
  return out;
}
