/**
 * Inputs shared by the benchmarks (bench/adam.ts, bench/webgpu.ts), so both
 * time the same params and gradients.
 */

/** `n` deterministic pseudo-random floats in [-1, 1) from `seed` (xorshift32). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}
