/**
 * Seeded random numbers for the examples, so every run prints and plots the
 * same numbers: uniform numbers from `mulberry32` (digits.ts) and standard
 * normal ones by the Box–Muller transform.
 */
import { mulberry32 } from './digits.js';

/** A seeded generator of standard normal numbers (mean 0, variance 1). */
export function normalRng(seed: number): () => number {
  const uniform = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = p[i] as number;
    p[i] = p[j] as number;
    p[j] = tmp;
  }
  return p;
}
