/**
 * Seeds for tfjs' seeded generators, derived from a key: tfjs treats a seed
 * of 0 as "no seed" (`tf.randomNormal(..., 0)` draws differently on every
 * call), so every seed derived here is in [1, 2^32]. Used by `addNoise` and
 * `treeRandomLike`.
 *
 * @module
 */

/** Scrambles an unsigned 32-bit integer (the murmur3 finaliser); a bijection on [0, 2^32). */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed of leaf `index` under `key` (an unsigned 32-bit integer): in [1, 2^32], never 0. */
export function leafSeed(key: number, index: number): number {
  return mix32((key + Math.imul(index + 1, 0x9e3779b9)) >>> 0) + 1;
}
