/**
 * Hand-written Adam loops: the limit references of the benchmark.
 *
 * - `adamJs`: the loop a person would write in plain JS over Float32Arrays
 *   (float64 arithmetic, one pass, in place).
 * - `HandWasmAdam`: Adam written by hand as WebAssembly SIMD (the bytes below
 *   are spelled out instruction by instruction, independently of gradtx's
 *   code generator), run in place on the tfjs wasm backend's heap, one call
 *   per tensor.
 */

/** One Adam step in place over one tensor's arrays (float64 math, rounded on store). */
export function adamJs(
  n: number,
  g: Float32Array,
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  b1: number,
  b2: number,
  bc1: number,
  bc2: number,
  eps: number,
  lr: number,
): void {
  const omb1 = 1 - b1;
  const omb2 = 1 - b2;
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    const mi = b1 * (m[i] as number) + omb1 * gi;
    const vi = b2 * (v[i] as number) + omb2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = (p[i] as number) - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
}

// --- a few encodings, written out by hand
const leb = (x: number): number[] => {
  const out: number[] = [];
  let v = x >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const sleb = (x: number): number[] => {
  const out: number[] = [];
  let v = x | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
};
const str = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const sec = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const simd = (op: number) => [0xfd, ...leb(op)];
const v128load = [0xfd, 0x00, 0x04, 0x00];
const v128store = [0xfd, 0x0b, 0x04, 0x00];
const f32load = [0x2a, 0x02, 0x00];
const f32store = [0x38, 0x02, 0x00];
const ADD = 0xe4;
const MUL = 0xe6;
const DIV = 0xe7;
const SQRT = 0xe3;
const SPLAT = 0x13;

/**
 * The module: `adam(n, g, p, m, v, b1, omb1, b2, omb2, bc1, bc2, eps, nlr)`
 * (pointers in bytes; `nlr` = −learning rate), a SIMD loop over groups of
 * four and a scalar loop for the rest.
 */
function handModule(): Uint8Array {
  // params: 0 n, 1 g, 2 p, 3 m, 4 v, 5 b1, 6 omb1, 7 b2, 8 omb2, 9 bc1, 10 bc2, 11 eps, 12 nlr
  // locals: 13 o (i32), 14 end (i32), 15..22 splats (v128), 23 x, 24 mm, 25 vv (v128), 26 xs, 27 ms, 28 vs (f32)
  const code: number[] = [];
  // splat the scalars
  for (let s = 0; s < 8; s++) code.push(...get(5 + s), ...simd(SPLAT), ...set(15 + s));
  // end = (n & ~3) * 4
  code.push(...get(0), 0x41, ...sleb(-4), 0x71, 0x41, 2, 0x74, ...set(14));
  code.push(0x02, 0x40, 0x03, 0x40); // block loop
  code.push(...get(13), ...get(14), 0x4f, 0x0d, 1); // o >= end → break
  // x = g[o]
  code.push(...get(1), ...get(13), 0x6a, ...v128load, ...set(23));
  // mm = b1*m + omb1*x
  code.push(
    ...get(15),
    ...get(3),
    ...get(13),
    0x6a,
    ...v128load,
    ...simd(MUL),
    ...get(16),
    ...get(23),
    ...simd(MUL),
    ...simd(ADD),
    ...set(24),
  );
  // vv = b2*v + omb2*x*x
  code.push(
    ...get(17),
    ...get(4),
    ...get(13),
    0x6a,
    ...v128load,
    ...simd(MUL),
    ...get(18),
    ...get(23),
    ...simd(MUL),
    ...get(23),
    ...simd(MUL),
    ...simd(ADD),
    ...set(25),
  );
  // m[o] = mm; v[o] = vv
  code.push(...get(3), ...get(13), 0x6a, ...get(24), ...v128store);
  code.push(...get(4), ...get(13), 0x6a, ...get(25), ...v128store);
  // p[o] = p + nlr * (mm/bc1) / (sqrt(vv/bc2) + eps)
  code.push(...get(2), ...get(13), 0x6a);
  code.push(...get(2), ...get(13), 0x6a, ...v128load);
  code.push(...get(22), ...get(24), ...get(19), ...simd(DIV), ...simd(MUL));
  code.push(...get(25), ...get(20), ...simd(DIV), ...simd(SQRT), ...get(21), ...simd(ADD), ...simd(DIV));
  code.push(...simd(ADD), ...v128store);
  code.push(...get(13), 0x41, 16, 0x6a, ...set(13), 0x0c, 0, 0x0b, 0x0b); // o += 16; br 0; end end
  // scalar tail: end = n * 4
  code.push(...get(0), 0x41, 2, 0x74, ...set(14));
  code.push(0x02, 0x40, 0x03, 0x40);
  code.push(...get(13), ...get(14), 0x4f, 0x0d, 1);
  code.push(...get(1), ...get(13), 0x6a, ...f32load, ...set(26));
  code.push(...get(5), ...get(3), ...get(13), 0x6a, ...f32load, 0x94, ...get(6), ...get(26), 0x94, 0x92, ...set(27));
  code.push(...get(7), ...get(4), ...get(13), 0x6a, ...f32load, 0x94, ...get(8), ...get(26), 0x94, ...get(26), 0x94, 0x92, ...set(28));
  code.push(...get(3), ...get(13), 0x6a, ...get(27), ...f32store);
  code.push(...get(4), ...get(13), 0x6a, ...get(28), ...f32store);
  code.push(...get(2), ...get(13), 0x6a);
  code.push(...get(2), ...get(13), 0x6a, ...f32load);
  code.push(...get(12), ...get(27), ...get(9), 0x95, 0x94, ...get(28), ...get(10), 0x95, 0x91, ...get(11), 0x92, 0x95, 0x92, ...f32store);
  code.push(...get(13), 0x41, 4, 0x6a, ...set(13), 0x0c, 0, 0x0b, 0x0b);
  code.push(0x0b);
  const locals = [3, 2, 0x7f, 11, 0x7b, 3, 0x7d];
  const body = [...locals, ...code];
  const params = [0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x7d];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...sec(1, [1, 0x60, params.length, ...params, 0]),
    ...sec(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 1]),
    ...sec(3, [1, 0]),
    ...sec(7, [1, ...str('adam'), 0x00, 0]),
    ...sec(10, [1, ...leb(body.length), ...body]),
  ]);
}

type AdamFn = (
  n: number,
  g: number,
  p: number,
  m: number,
  v: number,
  b1: number,
  omb1: number,
  b2: number,
  omb2: number,
  bc1: number,
  bc2: number,
  eps: number,
  nlr: number,
) => void;

/** The hand-written SIMD Adam, instantiated on a wasm backend's memory. */
export function handWasmAdam(memory: WebAssembly.Memory): AdamFn {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(handModule() as Uint8Array<ArrayBuffer>), { env: { mem: memory } });
  return inst.exports.adam as AdamFn;
}
