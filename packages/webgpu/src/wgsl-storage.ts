/**
 * The storage codecs of packed state in WGSL: the same bits as `@gradtx/core`'s
 * host codecs (`lang/storage/`), computed on the u32 bits of float32 values
 * so that nothing depends on how loosely a GPU may round or flush:
 *
 * - bfloat16 and float16: round to nearest, ties to even, on the bits (the
 *   host's `bfloat16Bits` / `float16Bits` formulas); NaN to the canonical
 *   quiet NaN, overflow to ±Infinity, subnormals and ±0 kept. Decoding puts
 *   the code's bits in place (float16 subnormals are normal float32 values,
 *   made by an exact product).
 * - int8 (Dettmers et al., block-wise dynamic quantization): the block scale
 *   is the largest `|x|` as a maximum of the magnitudes' bit patterns (which
 *   order non-negative floats), NaN for a block holding a NaN or ±Infinity;
 *   `x / scale` is rounded to nearest even by a float32 estimate corrected
 *   with exact integer products (WGSL's `/` may be 2.5 ulp off), and its code is the number of the map's
 *   midpoints strictly below it, by binary search on their bit patterns.
 *   Decoding is `value(code) · scale`, one float32 product (NaN where the
 *   scale is NaN).
 *
 * A code word holds two 16-bit or four 8-bit codes, little-endian: code `e`
 * of a leaf is bits `bits · (e mod per)` up of word `floor(e / per)`.
 *
 * @module
 */
import { dynamicMapOf, type PackedStorage } from '@gradtx/core/engine';
import { f32Bits } from './wgsl-codegen.js';

/** Where each int8 map's magnitudes and midpoints start in {@link int8MapTable}. */
const MAP_AT = { MAG_S: 0, MID_S: 128, MAG_U: 255, MID_U: 511 } as const;

/**
 * The bit patterns of both int8 maps' magnitudes and midpoints, one array
 * (766 words): the kernels read them from their table buffer `M` at
 * `S.tm` (a storage read; a runtime index into a WGSL constant array may be
 * copied to private memory at each use).
 */
export function int8MapTable(): Uint32Array {
  const parts = [dynamicMapOf(true), dynamicMapOf(false)].flatMap((m) => [m.magnitudes, m.midpoints]);
  const out = new Uint32Array(MAP_AT.MID_U + 255);
  [MAP_AT.MAG_S, MAP_AT.MID_S, MAP_AT.MAG_U, MAP_AT.MID_U].forEach((at, i) => {
    out.set(Array.from(parts[i] as Float32Array, f32Bits), at);
  });
  return out;
}

/** The map entry `name[index]` (bits) in the table `M`. */
function mapAt(name: keyof typeof MAP_AT, index: string): string {
  return `M[S.tm + ${MAP_AT[name]}u + (${index})]`;
}

const BFLOAT16 = `fn dec_b(c: u32) -> f32 { return bitcast<f32>(c << 16u); }
fn enc_b(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0x7fc0u; }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}
`;

const FLOAT16 = `fn dec_h(c: u32) -> f32 {
  let s = (c & 0x8000u) << 16u;
  let e = (c >> 10u) & 0x1fu;
  let m = c & 0x3ffu;
  if (e == 0u) { return bitcast<f32>(s | bitcast<u32>(f32(m) * bitcast<f32>(0x33800000u))); }
  if (e == 31u) { return select(f32_from_bits(0x7fc00000u), bitcast<f32>(s | 0x7f800000u), m == 0u); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn enc_h(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let sign = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return 0x7e00u; }
  if (a >= 0x477ff000u) { return sign | 0x7c00u; }
  if (a >= 0x38800000u) { return sign | (((a + 0x0fffu + ((a >> 13u) & 1u)) >> 13u) - 0x1c000u); }
  let e = a >> 23u;
  if (e < 102u) { return sign; }
  let m = (a & 0x7fffffu) | 0x800000u;
  let sh = 126u - e;
  var q = m >> sh;
  let rest = m - (q << sh);
  let half = 1u << (sh - 1u);
  if (rest > half || (rest == half && (q & 1u) == 1u)) { q = q + 1u; }
  return sign | q;
}
`;

/** Exact division and the parts of a float32 that it needs: shared by both int8 maps. */
const INT8_COMMON = `// the significand (bit 23 set) and the exponent of a non-zero finite float32's bits
fn sig_exp(b: u32) -> vec2<i32> {
  let e = i32(b >> 23u);
  let m = b & 0x7fffffu;
  if (e != 0) { return vec2<i32>(i32(m | 0x800000u), e); }
  let z = countLeadingZeros(m) - 8u;
  return vec2<i32>(i32(m << z), 1 - i32(z));
}
// the bits of a / s rounded to nearest, ties to even, for bits 0 <= a <= s of finite s > 0; 0 below 2^-126:
// a float32 estimate of the significand corrected by exact 64-bit comparisons
fn div_rn(a: u32, s: u32) -> u32 {
  if (a == 0u) { return 0u; }
  let x = sig_exp(a);
  let y = sig_exp(s);
  var e = x.y - y.y;
  var n = u32(x.x);
  let d = u32(y.x);
  if (n < d) { n = n << 1u; e = e - 1; }
  // the significand q = n / d · 2^23 rounded; t = n · 2^24 = 2 d q when exact
  let t = vec2<u32>(n >> 8u, n << 24u);
  var q = est_div(n, d);
  for (var k = 0; k < 4; k = k + 1) {
    let up = mul64(2u * q + 1u, d);
    if (lt64(up, t) || (eq64(up, t) && (q & 1u) == 1u)) { q = q + 1u; continue; }
    let down = mul64(2u * q - 1u, d);
    if (lt64(t, down) || (eq64(down, t) && (q & 1u) == 1u)) { q = q - 1u; continue; }
    break;
  }
  if (q == 0x1000000u) { q = 0x800000u; e = e + 1; }
  if (e < -126) { return 0u; }
  return (u32(e + 127) << 23u) | (q & 0x7fffffu);
}
fn scale_ok(s: u32) -> bool { return s != 0u && s < 0x7f800000u; }
// a block scale's contribution of one value: |x|'s bits, the canonical NaN for NaN and Infinity
fn scale_bits(x: f32) -> u32 {
  let a = bitcast<u32>(x) & 0x7fffffffu;
  return select(a, 0x7fc00000u, a >= 0x7f800000u);
}
`;

/** Exact 64-bit products and comparisons on u32 pairs `(hi, lo)`, for the exactly rounded division and square root. */
const WIDE = `fn mul64(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>(a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u), (p00 & 0xffffu) | (mid << 16u));
}
// float32 estimates of a significand, within a few units (what WGSL's / and sqrt promise); corrected exactly by the callers
fn est_div(n: u32, d: u32) -> u32 { return u32(f32(n) / f32(d) * 8388608.0); }
fn est_sqrt(y: f32) -> u32 { return u32(sqrt(y) * 8388608.0); }
fn lt64(x: vec2<u32>, y: vec2<u32>) -> bool { return x.x < y.x || (x.x == y.x && x.y < y.y); }
fn eq64(x: vec2<u32>, y: vec2<u32>) -> bool { return x.x == y.x && x.y == y.y; }
`;

/**
 * The square root of a `root` storage, rounded to nearest on the bits (as
 * the host's float32 `Math.sqrt`; WGSL's `sqrt` may be 2.5 ulp off and may
 * flush subnormals): `x = m · 2^e` with `m` made 48 or 49 bits long so that
 * the exponent is even, a float32 estimate of the root's significand `r`
 * from the normalised `m`, corrected until `(2r - 1)² ≤ m < (2r + 1)²`
 * (exact 64-bit products; a root is never halfway).
 */
const ROOT = `fn sqrt_rn(v: f32) -> f32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) == 0u || b == 0x7f800000u) { return v; }
  if (b > 0x7f800000u) { return f32_from_bits(0x7fc00000u); }
  var m = b & 0x7fffffu;
  var e = i32(b >> 23u) - 150;
  if ((b >> 23u) == 0u) {
    let z = countLeadingZeros(m) - 8u;
    m = m << z;
    e = -149 - i32(z);
  } else { m = m | 0x800000u; }
  let k = select(26u, 25u, (e & 1) != 0);
  let big = vec2<u32>(m >> (32u - k), m << k);
  var r = est_sqrt(bitcast<f32>(((102u + k) << 23u) | (m & 0x7fffffu)));
  for (var t = 0; t < 4; t = t + 1) {
    if (!lt64(big, mul64(2u * r + 1u, 2u * r + 1u))) { r = r + 1u; continue; }
    if (lt64(big, mul64(2u * r - 1u, 2u * r - 1u))) { r = r - 1u; continue; }
    break;
  }
  var ex = (e - i32(k)) / 2 + 151;
  if (r == 0x1000000u) { r = 0x800000u; ex = ex + 1; }
  return bitcast<f32>((u32(ex) << 23u) | (r & 0x7fffffu));
}
`;

/** The code map functions of one int8 map: `dec_8s` / `enc_8s` (signed) or `dec_8u` / `enc_8u` (unsigned). */
function int8Map(signed: boolean): string {
  const t = signed ? 's' : 'u';
  const map = dynamicMapOf(signed);
  const field = `fn field_${t}(y: u32) -> u32 {
  var lo = 0u;
  var hi = ${map.midpoints.length}u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (${mapAt(signed ? 'MID_S' : 'MID_U', 'mid')} < y) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}
`;
  if (signed) {
    return `${field}fn dec_8s(c: u32, s: f32) -> f32 {
  if (is_nan(s)) { return s; }
  return bitcast<f32>(${mapAt('MAG_S', 'c & 0x7fu')} | ((c & 0x80u) << 24u)) * s;
}
fn enc_8s(x: f32, s: u32) -> u32 {
  if (!scale_ok(s)) { return 0u; }
  let b = field_s(div_rn(bitcast<u32>(x) & 0x7fffffffu, s));
  return select(b, 0x80u + b, (bitcast<u32>(x) >> 31u) == 1u && b > 0u);
}
`;
  }
  return `${field}fn dec_8u(c: u32, s: f32) -> f32 {
  if (is_nan(s)) { return s; }
  return bitcast<f32>(${mapAt('MAG_U', 'c')}) * s;
}
fn enc_8u(x: f32, s: u32) -> u32 {
  let b = bitcast<u32>(x);
  if (!scale_ok(s) || (b >> 31u) == 1u) { return 0u; }
  return field_u(div_rn(b, s));
}
`;
}

/** The WGSL codec functions that kernels of arrays in `storages` call (each format's once). */
export function storageWgsl(storages: readonly PackedStorage[]): string {
  const parts: string[] = [];
  const int8 = storages.filter((s) => s.dtype === 'int8');
  if (storages.some((s) => s.root) || int8.length > 0) parts.push(WIDE);
  if (storages.some((s) => s.root)) parts.push(ROOT);
  if (storages.some((s) => s.dtype === 'bfloat16')) parts.push(BFLOAT16);
  if (storages.some((s) => s.dtype === 'float16')) parts.push(FLOAT16);
  if (int8.length > 0) parts.push(INT8_COMMON);
  for (const signed of [true, false]) if (int8.some((s) => s.signed === signed)) parts.push(int8Map(signed));
  return parts.join('');
}

/** The decoder of a storage: the WGSL function that maps a code (and, for int8, the block scale) to a float32. */
export function decoderOf(s: PackedStorage): string {
  if (s.dtype === 'int8') return s.signed ? 'dec_8s' : 'dec_8u';
  return s.dtype === 'bfloat16' ? 'dec_b' : 'dec_h';
}

/** The encoder of a storage: the WGSL function that maps a float32 (and, for int8, the scale's bits) to a code. */
export function encoderOf(s: PackedStorage): string {
  if (s.dtype === 'int8') return s.signed ? 'enc_8s' : 'enc_8u';
  return s.dtype === 'bfloat16' ? 'enc_b' : 'enc_h';
}
