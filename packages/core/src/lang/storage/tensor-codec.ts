/**
 * The storage formats with tfjs ops: the reference path's decode (packed
 * slot leaf → float32 tensor of the param's shape) and encode (float32
 * tensor → packed leaf). They compute exactly what the host codecs of
 * `narrow-float.ts`, `blockwise.ts` and `packing.ts` compute, bit for bit,
 * on every backend: only comparisons, table look-ups (`gather`,
 * `searchSorted`), float32 operations whose results are exact or correctly
 * rounded, and int32 additions and multiplications (a quotient computed by a
 * backend in float32 is corrected with exact int32 arithmetic).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { blockCount } from './blockwise.js';
import { infinityCode, type NarrowFloatFormat, nanCode } from './narrow-float.js';
import { dynamicMapOf, narrowFormatOf, type SlotStorage } from './slot-storage.js';

type Narrow = Exclude<SlotStorage, { dtype: 'float32' }>;

/** One packed leaf: int32 code words and, for int8, float32 block scales. */
export interface PackedLeaf {
  readonly codes: tf.Tensor;
  readonly scales?: tf.Tensor;
}

/**
 * A device's own codecs of packed state (a narrow storage): what the
 * reference path uses on its backend to encode a float32 leaf into its
 * code words (and int8 block scales) and to decode them, where tfjs ops
 * cannot (a backend whose int32 arithmetic runs in float32). Bit for bit
 * the host codecs of `lang/storage/`.
 */
export interface StateCodec {
  /** The packed leaf of the float32 tensor `x` (any shape) in `storage`. */
  encode(x: tf.Tensor, storage: Exclude<SlotStorage, { dtype: 'float32' }>): PackedLeaf;
  /** The float32 tensor of `shape` that a packed leaf holds. */
  decode(leaf: PackedLeaf, shape: readonly number[], storage: Exclude<SlotStorage, { dtype: 'float32' }>): tf.Tensor;
}

/**
 * For each of `values` (1-D), how many entries of the increasing `table` are below it (`'left'`: strictly; `'right'`:
 * at or below), as a 1-D int32 tensor (tfjs returns 1-D searches with a leading batch dimension).
 */
function countBelow(table: Float32Array, values: tf.Tensor1D, side: 'left' | 'right'): tf.Tensor1D {
  return tf.reshape(tf.searchSorted(tf.tensor1d(table), values, side), [-1]) as tf.Tensor1D;
}

/** float32 powers of two `2^(minExponent - mantissaBits + i)`, the code unit of each exponent field `i + 1`. */
function unitTable(f: NarrowFloatFormat): tf.Tensor1D {
  const count = f.maxExponent - f.minExponent + 2;
  return tf.tensor1d(Float32Array.from({ length: count }, (_, i) => 2 ** (f.minExponent - f.mantissaBits + i)));
}

/** The 16-bit codes (as float32 integers) of the float32 values `x` (1-D), rounded to nearest, ties to even. */
function encodeNarrowCodes(x: tf.Tensor1D, f: NarrowFloatFormat): tf.Tensor1D {
  const a = tf.abs(x) as tf.Tensor1D;
  // 2^E <= a: how many of 2^minExponent .. 2^(maxExponent+1) are <= a (2^128 is Infinity in float32: still right)
  const powers = Float32Array.from({ length: f.maxExponent - f.minExponent + 2 }, (_, i) => 2 ** (f.minExponent + i));
  const field = tf.maximum(tf.sub(countBelow(powers, a, 'right'), tf.scalar(1, 'int32')), tf.scalar(0, 'int32'));
  const q = tf.round(tf.div(a, tf.gather(unitTable(f), field)));
  const code = tf.minimum(tf.add(tf.mul(tf.cast(field, 'float32'), 2 ** f.mantissaBits), q), infinityCode(f));
  const negative = tf.logicalOr(tf.less(x, 0), tf.logicalAnd(tf.equal(x, 0), tf.less(tf.div(1, x), 0)));
  const signed = tf.where(negative, tf.add(code, 0x8000), code);
  return tf.where(tf.isNaN(x), tf.fill(x.shape, nanCode(f)), signed) as tf.Tensor1D;
}

/** The float32 values of 16-bit codes (float32 integers, 1-D). */
function decodeNarrowCodes(codes: tf.Tensor1D, f: NarrowFloatFormat): tf.Tensor1D {
  const unit = 2 ** f.mantissaBits;
  const negative = tf.greaterEqual(codes, 0x8000);
  const magnitude = tf.where(negative, tf.sub(codes, 0x8000), codes);
  const field = tf.floor(tf.div(magnitude, unit));
  const fraction = tf.sub(magnitude, tf.mul(field, unit));
  const significand = tf.add(fraction, tf.mul(tf.cast(tf.greater(field, 0), 'float32'), unit));
  const index = tf.cast(tf.sub(tf.maximum(field, 1), 1), 'int32');
  const finite = tf.mul(significand, tf.gather(unitTable(f), index));
  const special = tf.where(tf.equal(fraction, 0), tf.fill(codes.shape, Infinity), tf.fill(codes.shape, Number.NaN));
  const value = tf.where(tf.greaterEqual(magnitude, infinityCode(f)), special, finite);
  return tf.where(negative, tf.neg(value), value) as tf.Tensor1D;
}

/** Packs integer codes (float32, 1-D, each in [0, 2^bits)) into int32 words, little-endian within a word. */
function packWords(codes: tf.Tensor1D, bits: 8 | 16): tf.Tensor1D {
  const per = 32 / bits;
  const words = Math.ceil(codes.size / per);
  const grouped = tf.cast(tf.reshape(tf.pad(codes, [[0, words * per - codes.size]]), [words, per]), 'int32');
  // sum of code · 2^(bits · j): int32 products and sums wrap modulo 2^32 on every backend, which is the packing
  const weights = tf.tensor1d(
    Int32Array.from({ length: per }, (_, j) => (2 ** (bits * j)) | 0),
    'int32',
  );
  return tf.sum(tf.mul(grouped, weights), 1) as tf.Tensor1D;
}

/** The low and high 16-bit halves of int32 words, as float32 integers in [0, 65536). */
function splitWords(words: tf.Tensor1D): [tf.Tensor1D, tf.Tensor1D] {
  const base = tf.scalar(65536, 'int32');
  // a backend may divide int32 in float32: the quotient can be off by one, which the exact remainder corrects
  const q0 = tf.floorDiv(words, base);
  const r0 = tf.sub(words, tf.mul(q0, base));
  const low = tf.less(r0, tf.scalar(0, 'int32'));
  const high = tf.greaterEqual(r0, base);
  const r = tf.where(low, tf.add(r0, base), tf.where(high, tf.sub(r0, base), r0));
  const q = tf.where(low, tf.sub(q0, tf.scalar(1, 'int32')), tf.where(high, tf.add(q0, tf.scalar(1, 'int32')), q0));
  const qUnsigned = tf.where(tf.less(q, tf.scalar(0, 'int32')), tf.add(q, base), q);
  return [tf.cast(r, 'float32') as tf.Tensor1D, tf.cast(qUnsigned, 'float32') as tf.Tensor1D];
}

/** The first `n` codes (float32 integers) held in int32 words. */
function unpackWords(words: tf.Tensor1D, bits: 8 | 16, n: number): tf.Tensor1D {
  const halves = splitWords(words);
  const parts =
    bits === 16
      ? halves
      : halves.flatMap((h) => {
          const high = tf.floor(tf.div(h, 256));
          return [tf.sub(h, tf.mul(high, 256)), high];
        });
  return tf.slice(tf.reshape(tf.stack(parts, 1), [-1]), [0], [n]) as tf.Tensor1D;
}

/** The int8 codes (float32 integers) and block scales of `x` (1-D), block-wise with `map` (see `blockwise.ts`). */
function quantize(x: tf.Tensor1D, storage: Extract<Narrow, { dtype: 'int8' }>): { codes: tf.Tensor1D; scales: tf.Tensor1D } {
  const n = x.size;
  const blocks = blockCount(n, storage.blockSize);
  const grid = tf.reshape(tf.pad(x, [[0, blocks * storage.blockSize - n]]), [blocks, storage.blockSize]);
  const bad = tf.any(tf.logicalNot(tf.isFinite(grid)), 1);
  const scales = tf.where(bad, tf.fill([blocks], Number.NaN), tf.max(tf.abs(grid), 1)) as tf.Tensor1D;
  const s = tf.reshape(scales, [blocks, 1]);
  const y = tf.slice(tf.reshape(tf.where(tf.greater(s, 0), tf.div(grid, s), tf.zerosLike(grid)), [-1]), [0], [n]) as tf.Tensor1D;
  const map = dynamicMapOf(storage.signed);
  const field = tf.cast(countBelow(map.midpoints, tf.abs(y), 'left'), 'float32');
  const codes = storage.signed
    ? tf.where(tf.logicalAnd(tf.less(y, 0), tf.greater(field, 0)), tf.add(field, 0x80), field)
    : tf.where(tf.greater(y, 0), field, tf.zerosLike(field));
  return { codes: codes as tf.Tensor1D, scales };
}

/** The float32 values of int8 codes (float32 integers, 1-D) with their block scales. */
function dequantize(codes: tf.Tensor1D, scales: tf.Tensor1D, storage: Extract<Narrow, { dtype: 'int8' }>): tf.Tensor1D {
  const n = codes.size;
  const map = dynamicMapOf(storage.signed);
  const magnitudes = tf.tensor1d(map.magnitudes);
  let values: tf.Tensor;
  if (storage.signed) {
    const negative = tf.greaterEqual(codes, 0x80);
    const magnitude = tf.gather(magnitudes, tf.cast(tf.where(negative, tf.sub(codes, 0x80), codes), 'int32'));
    values = tf.where(negative, tf.neg(magnitude), magnitude);
  } else values = tf.gather(magnitudes, tf.cast(codes, 'int32'));
  const blocks = scales.size;
  const grid = tf.reshape(tf.pad(values, [[0, blocks * storage.blockSize - n]]), [blocks, storage.blockSize]);
  return tf.slice(tf.reshape(tf.mul(grid, tf.reshape(scales, [blocks, 1])), [-1]), [0], [n]) as tf.Tensor1D;
}

/** Encodes a float32 leaf (any shape) in a narrow `storage`: its packed code words and, for int8, its block scales. */
export function encodeLeaf(x: tf.Tensor, storage: Narrow): PackedLeaf {
  return tf.tidy(() => {
    const values = tf.reshape(x, [-1]) as tf.Tensor1D;
    const flat = storage.root ? (tf.sqrt(values) as tf.Tensor1D) : values;
    if (storage.dtype !== 'int8') {
      const codes = flat.size === 0 ? flat : encodeNarrowCodes(flat, narrowFormatOf(storage.dtype));
      return { codes: flat.size === 0 ? tf.zeros([0], 'int32') : packWords(codes, 16) };
    }
    if (flat.size === 0) return { codes: tf.zeros([0], 'int32'), scales: tf.zeros([0]) };
    const { codes, scales } = quantize(flat, storage);
    return { codes: packWords(codes, 8), scales };
  });
}

/** Decodes a packed leaf into a float32 tensor of `shape` (the exact values the storage holds). */
export function decodeLeaf(leaf: PackedLeaf, shape: readonly number[], storage: Narrow): tf.Tensor {
  return tf.tidy(() => {
    const n = tf.util.sizeFromShape(shape as number[]);
    if (n === 0) return tf.zeros(shape as number[]);
    const words = leaf.codes as tf.Tensor1D;
    const stored =
      storage.dtype === 'int8'
        ? dequantize(unpackWords(words, 8, n), leaf.scales as tf.Tensor1D, storage)
        : decodeNarrowCodes(unpackWords(words, 16, n), narrowFormatOf(storage.dtype));
    return tf.reshape(storage.root ? tf.mul(stored, stored) : stored, shape as number[]);
  });
}
