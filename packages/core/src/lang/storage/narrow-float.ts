/**
 * The 16-bit floating-point storage formats, bfloat16 and IEEE float16, as
 * one parametrised concept: a sign bit, an exponent field and `mantissaBits`
 * stored fraction bits, with subnormals, ±Infinity and NaN.
 *
 * Encoding rounds a float32 to the nearest representable value, ties to
 * even (IEEE 754 round-to-nearest-even). With `E` the binary exponent of
 * `|x|` (`2^E ≤ |x| < 2^(E+1)`) clamped below at the format's smallest
 * normal exponent `minExponent`:
 * ```
 * q    = roundHalfEven(|x| / 2^(E - mantissaBits))
 * code = sign · 2^15 + (E - minExponent) · 2^mantissaBits + q
 * ```
 * (a carry of `q` into the exponent field, and an overflow into the
 * infinity code, fall out of the sum). Values at or past the rounding
 * boundary of the largest finite value become ±Infinity; ±0 and
 * subnormals keep their sign; every NaN becomes the format's canonical
 * quiet NaN (sign and payload are not kept). Decoding is exact: every
 * 16-bit value is a float32.
 *
 * Reference: IEEE 754-2019 §4.3.3 (roundTiesToEven); bfloat16 as in
 * Kalamkar et al., "A Study of BFLOAT16 for Deep Learning Training" (2019).
 *
 * @module
 */

/** A 16-bit float format: 1 sign bit, `15 - mantissaBits` exponent bits, `mantissaBits` fraction bits. */
export interface NarrowFloatFormat {
  /** The format's name in messages and option values. */
  readonly name: 'bfloat16' | 'float16';
  /** Stored fraction bits (7 for bfloat16, 10 for float16). */
  readonly mantissaBits: number;
  /** The binary exponent of the smallest normal value (-126 for bfloat16, -14 for float16). */
  readonly minExponent: number;
  /** The binary exponent of the largest finite values (127 for bfloat16, 15 for float16). */
  readonly maxExponent: number;
}

/** bfloat16: float32's exponent range with 8 significant bits. */
export const BFLOAT16: NarrowFloatFormat = Object.freeze({ name: 'bfloat16', mantissaBits: 7, minExponent: -126, maxExponent: 127 });

/** IEEE 754 binary16 (half precision): 11 significant bits, normals from 2^-14 to 65504. */
export const FLOAT16: NarrowFloatFormat = Object.freeze({ name: 'float16', mantissaBits: 10, minExponent: -14, maxExponent: 15 });

/** The code of +Infinity (the exponent field all ones, fraction 0). */
export function infinityCode(f: NarrowFloatFormat): number {
  return (f.maxExponent - f.minExponent + 2) * 2 ** f.mantissaBits;
}

/** The canonical quiet NaN: +Infinity's code with the top fraction bit set. */
export function nanCode(f: NarrowFloatFormat): number {
  return infinityCode(f) + 2 ** (f.mantissaBits - 1);
}

/** Ties to even: the nearest integer to `v` (a non-negative double), halves to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The biased exponent field of the float32 `a` (0 for zeros and subnormals). */
function float32ExponentField(a: number): number {
  scratch[0] = a;
  return ((scratchBits[0] as number) >>> 23) & 0xff;
}

/** The 16-bit code (0 to 65535) of the float32 value `x`, rounded to nearest, ties to even (see the module comment). */
export function encodeNarrowFloat(x: number, f: NarrowFloatFormat): number {
  if (Number.isNaN(x)) return nanCode(f);
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  if (a === Infinity) return sign + infinityCode(f);
  // 2^E <= a < 2^(E+1); float32 subnormals lie below every format's smallest normal, so the clamp covers them
  const e = Math.max(float32ExponentField(a) - 127, f.minExponent);
  const code = (e - f.minExponent) * 2 ** f.mantissaBits + roundHalfEven(a / 2 ** (e - f.mantissaBits));
  return sign + Math.min(code, infinityCode(f));
}

/** The float32 value of a 16-bit code (exact). */
export function decodeNarrowFloat(code: number, f: NarrowFloatFormat): number {
  const m = f.mantissaBits;
  const negative = code >= 0x8000;
  const magnitude = code & 0x7fff;
  const e = Math.floor(magnitude / 2 ** m);
  const fraction = magnitude - e * 2 ** m;
  let value: number;
  if (magnitude >= infinityCode(f)) value = fraction === 0 ? Infinity : Number.NaN;
  else value = (e === 0 ? fraction : 2 ** m + fraction) * 2 ** (Math.max(e, 1) + f.minExponent - 1 - m);
  return negative ? -value : value;
}
