/**
 * Counts of steps by path, and why the last step that left the fused path
 * did so: for tests and diagnostics.
 *
 * @module
 */

/**
 * Counts of steps by path, for tests and diagnostics: `fused` (steps run by
 * the fused engine's general path), `fast` (repeated in-place steps of
 * `createOptimizer`, replayed), `reference` (steps run on the reference
 * path); `lastFallBack` says why the most recent step that could have run
 * fused ran on the reference path (`null` until one did), e.g. `"no fused
 * device for the 'webgl' backend"` or `"invalid input (…)"`.
 */
export const fusedStats: { fused: number; fast: number; reference: number; lastFallBack: string | null } = {
  fused: 0,
  reference: 0,
  fast: 0,
  lastFallBack: null,
};
