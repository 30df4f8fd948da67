/**
 * A dynamic code map's midpoints cut into buckets, for encoding without a
 * search: the floats in [0, 1] grouped by their top 17 bits (sign, exponent,
 * 8 fraction bits: a relative width of at most 2^-8), from the bucket of the
 * map's smallest midpoint up to that of 1. Consecutive midpoints are further
 * apart than that (at least 0.7 % near 1, more below), so a bucket holds at
 * most one, and the number of midpoints below `a` (the magnitude field
 * `magnitudeField` finds by a binary search) is the count below `a`'s bucket
 * plus one when the bucket's midpoint is below `a`: one lookup and one
 * comparison, ties (`a` equal to a midpoint) going down as in the search.
 *
 * @module
 */
import { type DynamicMap, SIGNED_DYNAMIC_MAP, UNSIGNED_DYNAMIC_MAP } from './dynamic-map.js';

/** A map's buckets (see the module comment). */
export interface MapBuckets {
  /** The bucket index of the smallest midpoint (`bits >> 15`); lower values go to bucket 0. */
  readonly first: number;
  /** Per bucket: the number of midpoints below it. */
  readonly below: Int32Array;
  /** Per bucket: its midpoint, or +Infinity where it holds none. */
  readonly midpoint: Float32Array;
}

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);

function bucketsOf(map: DynamicMap): MapBuckets {
  const { midpoints } = map;
  float[0] = midpoints[0] as number;
  const first = (bits[0] as number) >>> 15;
  const count = (0x3f800000 >>> 15) - first + 1;
  const below = new Int32Array(count);
  const midpoint = new Float32Array(count).fill(Number.POSITIVE_INFINITY);
  let m = 0;
  for (let k = 0; k < count; k++) {
    bits[0] = (first + k + 1) << 15;
    const end = float[0] as number;
    below[k] = m;
    if (m < midpoints.length && (midpoints[m] as number) < end) midpoint[k] = midpoints[m++] as number;
    if (m < midpoints.length && (midpoints[m] as number) < end) throw new Error('gradtx: internal error: two int8 midpoints in one bucket');
  }
  return Object.freeze({ first, below, midpoint });
}

/** The buckets of the signed map. */
export const SIGNED_BUCKETS: MapBuckets = bucketsOf(SIGNED_DYNAMIC_MAP);

/** The buckets of the unsigned map. */
export const UNSIGNED_BUCKETS: MapBuckets = bucketsOf(UNSIGNED_DYNAMIC_MAP);

/** The buckets of the signed or unsigned map. */
export function bucketsOfMap(signed: boolean): MapBuckets {
  return signed ? SIGNED_BUCKETS : UNSIGNED_BUCKETS;
}

/** The magnitude field of the float32 `a` in [0, 1] whose bits are `b`: `magnitudeField(a, map)` by its bucket. */
export function bucketField(a: number, b: number, buckets: MapBuckets): number {
  const k = Math.max((b >>> 15) - buckets.first, 0);
  return (buckets.below[k] as number) + ((buckets.midpoint[k] as number) < a ? 1 : 0);
}

/** The 8-bit code of the normalised float32 `y` (in [-1, 1], not NaN): `encodeDynamic(y, map)` through the buckets. */
export function bucketCode(y: number, signed: boolean): number {
  if (!signed && !(y > 0)) return 0;
  const a = Math.abs(y);
  float[0] = a;
  const b = bucketField(a, bits[0] as number, signed ? SIGNED_BUCKETS : UNSIGNED_BUCKETS);
  return signed && y < 0 && b > 0 ? 0x80 + b : b;
}
