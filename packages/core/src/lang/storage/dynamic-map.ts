/**
 * The dynamic (non-linear) 8-bit code map of block-wise quantization, after
 * Dettmers et al., "8-bit Optimizers via Block-wise Quantization" (ICLR
 * 2022), §2 "dynamic tree quantization": a code stands for a value in
 * [-1, 1] (signed map) or [0, 1] (unsigned map) whose decimal exponent is
 * given by a run of zero bits and whose fraction by the bits after it, so
 * small magnitudes keep relative precision.
 *
 * Layout of a code. Signed map: bit 7 is the sign, bits 6..0 the magnitude
 * field `b` (7 bits). Unsigned map: all 8 bits are `b`. For `b = 0` the
 * value is 0. Otherwise, with `f = floor(log2 b)` (the number of fraction
 * bits after the leading 1), `E = F - f` (the number of leading zero bits;
 * `F = 6` signed, `7` unsigned) and `j = b - 2^f`:
 * ```
 * |value| = 10^-E · (0.1 + 0.9 · (j + 1) / 2^f)        in (10^-(E+1), 10^-E]
 * ```
 * rounded to float32. Larger `b` is a larger magnitude, and `b` with all
 * bits set is exactly 1, so a block's largest element is stored exactly.
 * The smallest non-zero magnitude is 1e-6 (signed) or 1e-7 (unsigned).
 *
 * Encoding picks the nearest magnitude by comparing with the float32
 * midpoints between neighbouring magnitudes (a tie goes to the smaller
 * magnitude), then sets the sign bit for a negative value with a non-zero
 * magnitude. The unsigned map stores a negative value as 0 (it is meant for
 * second moments, which are never negative).
 *
 * @module
 */

/** One of the two maps: the magnitude of each field value and the midpoints used to encode. */
export interface DynamicMap {
  /** Whether bit 7 is a sign bit (first moments) or part of the magnitude (second moments). */
  readonly signed: boolean;
  /** `magnitudes[b]`: the float32 magnitude of the field value `b` (increasing, `magnitudes[0] = 0`, the last is 1). */
  readonly magnitudes: Float32Array;
  /** `midpoints[b]`: the float32 midpoint of `magnitudes[b]` and `magnitudes[b + 1]`. */
  readonly midpoints: Float32Array;
}

function buildMap(signed: boolean): DynamicMap {
  const fieldBits = signed ? 7 : 8;
  const count = 2 ** fieldBits;
  const magnitudes = new Float32Array(count);
  for (let b = 1; b < count; b++) {
    const f = Math.floor(Math.log2(b));
    const e = fieldBits - 1 - f;
    magnitudes[b] = 10 ** -e * (0.1 + (0.9 * (b - 2 ** f + 1)) / 2 ** f);
  }
  const midpoints = new Float32Array(count - 1);
  for (let b = 0; b < count - 1; b++) midpoints[b] = ((magnitudes[b] as number) + (magnitudes[b + 1] as number)) / 2;
  return Object.freeze({ signed, magnitudes, midpoints });
}

/** The signed map (first moments): 127 magnitudes from 1e-6 to 1 and 0, each with a sign. */
export const SIGNED_DYNAMIC_MAP: DynamicMap = buildMap(true);

/** The unsigned map (second moments): 255 magnitudes from 1e-7 to 1 and 0. */
export const UNSIGNED_DYNAMIC_MAP: DynamicMap = buildMap(false);

/** The magnitude field of `a` (≥ 0, or NaN): how many midpoints lie strictly below it (0 for NaN). */
export function magnitudeField(a: number, map: DynamicMap): number {
  let lo = 0;
  let hi = map.midpoints.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((map.midpoints[mid] as number) < a) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The 8-bit code of the normalised value `y` (in [-1, 1]; see the module comment). */
export function encodeDynamic(y: number, map: DynamicMap): number {
  if (!map.signed) return y > 0 ? magnitudeField(y, map) : 0;
  const b = magnitudeField(Math.abs(y), map);
  return y < 0 && b > 0 ? 0x80 + b : b;
}

/** The normalised value of an 8-bit code (a float32). */
export function decodeDynamic(code: number, map: DynamicMap): number {
  if (!map.signed) return map.magnitudes[code] as number;
  const v = map.magnitudes[code & 0x7f] as number;
  return code >= 0x80 ? -v : v;
}

/**
 * Half the gap between the two magnitudes that bracket `a` (in [0, 1]):
 * the largest error encoding can make on a normalised magnitude `a`, before
 * the float32 roundings of `x / scale` and `value · scale`.
 */
export function halfGapAt(a: number, map: DynamicMap): number {
  const m = map.magnitudes;
  let b = 0;
  while (b + 1 < m.length && (m[b + 1] as number) < a) b++;
  return b + 1 < m.length ? ((m[b + 1] as number) - (m[b] as number)) / 2 : 0;
}
