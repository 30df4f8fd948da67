/**
 * Counts of steps by path, and why the last step that left the fused path
 * did so: for tests and diagnostics.
 *
 * @module
 */

/**
 * Counts of the steps run since the library loaded, by path, to confirm that
 * steps ran fused: `fused` (steps of the fused engine's general path: a first
 * step, or one whose tree or state changed), `fast` (in-place steps replayed
 * from a captured fused step: the steady state of `createOptimizer`,
 * `asTfOptimizer` and `model.fit` on cpu and wasm), `reference` (steps run
 * with tfjs ops: `{ fused: false }`, a backend without a fused device, a
 * stage that cannot fuse); `lastFallBack` says why the most recent step that
 * could have run fused ran on the reference path (`null` until one did), e.g.
 * `"no fused device for the 'webgl' backend"` or `"invalid input (…)"`.
 * Read it before and after a step, e.g. `const n = fusedStats.fast +
 * fusedStats.fused; opt.step(g);` then `fusedStats.fast + fusedStats.fused -
 * n` is 1 when the step was fused; or read each step's `path` from an
 * `onStep` hook ({@link StepReport}). The counts are global (every optimizer
 * adds to them) and only increase.
 * @category Training loop
 */
export const fusedStats: { fused: number; fast: number; reference: number; lastFallBack: string | null } = {
  fused: 0,
  reference: 0,
  fast: 0,
  lastFallBack: null,
};
