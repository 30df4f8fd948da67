/**
 * The typed signal that a step does not run on the fused path: thrown (or
 * returned) before anything donated has been touched, it carries the reason,
 * which `fusedStats.lastFallBack` reports. Any other error inside a fused
 * step is a real error and reaches the caller.
 *
 * @module
 */

/** A step leaves the fused path for the reference path, for `reason`. */
export class FallBack extends Error {
  constructor(readonly reason: string) {
    super(`the step runs on the reference path: ${reason}`);
    this.name = 'FallBack';
  }
}

/**
 * Runs input checks that throw on bad input (the validators), turning their
 * error into a {@link FallBack}: the reference path then raises the canonical
 * error for the same input.
 */
export function checkedOrFallBack(check: () => void): FallBack | null {
  try {
    check();
    return null;
  } catch (e) {
    if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) throw e;
    return new FallBack(`invalid input (${e.message})`);
  }
}
