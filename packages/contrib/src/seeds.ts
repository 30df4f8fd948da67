/**
 * Seeded randomness for the transforms that draw noise or random signs
 * (`differentiallyPrivateAggregate`, `hutchinsonEstimatorDiagHessian`): a
 * key in the state, one tfjs seed per leaf and step derived from it.
 *
 * @module
 */
import { checkInteger } from './core-api.js';

/** The largest seed (keys are unsigned 32-bit integers). */
export const MAX_SEED = 2 ** 32 - 1;

/** A bijective scramble of an unsigned 32-bit integer (the splitmix32 finaliser). */
function scramble(x: number): number {
  let h = (x + 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Checks a seed or a state's key: an integer in [0, 2^32 - 1]. */
export function checkKey(fn: string, what: string, key: unknown): number {
  checkInteger(fn, what, key as number, 0);
  if ((key as number) > MAX_SEED) throw new Error(`${fn}: \`${what}\` must be an integer in [0, ${MAX_SEED}], got ${String(key)}`);
  return key as number;
}

/** The tfjs seed of leaf `index` under `key`, in [1, 2^32] (tfjs treats a seed of 0 as "no seed"). */
export function leafSeed(key: number, index: number): number {
  return scramble((key + index + 1) >>> 0) + 1;
}

/** The key of the next update. */
export function nextKey(key: number): number {
  return scramble((key ^ 0x85a308d3) >>> 0);
}
