/**
 * Test helpers for the schedules (not part of the build).
 *
 * @module
 */
import { expect } from 'vitest';
import type { Schedule } from '../base.js';

/** Tolerances of {@link expectValues}. */
export interface Tolerance {
  /** Relative tolerance (default 1e-6: optax computes in float32). */
  rtol?: number;
  /**
   * Absolute tolerance (default 0). Where float32 loses digits to
   * cancellation (`1 + cos(x)` near x = π, `(a - b)·f + b` near 0), a few
   * float32 ulps of the schedule's scale are allowed; each use says why.
   */
  atol?: number;
}

/**
 * Evaluates `schedule` at each of `counts` and checks every value against
 * `expected` within `|actual - expected| <= atol + rtol·|expected|`
 * (NaN must meet NaN), reporting the first mismatch with its count.
 */
export function expectValues(schedule: Schedule, counts: readonly number[], expected: readonly number[], tol: Tolerance = {}): void {
  const { rtol = 1e-6, atol = 0 } = tol;
  expect(counts.length, 'counts and expected values must pair up').toBe(expected.length);
  counts.forEach((count, i) => {
    const actual = schedule(count);
    const want = expected[i]!;
    expect(typeof actual, `type of the value at count ${count}`).toBe('number');
    if (Number.isNaN(want)) {
      expect(actual, `value at count ${count}`).toBeNaN();
      return;
    }
    const err = Math.abs(actual - want);
    const bound = atol + rtol * Math.abs(want);
    if (!(err <= bound)) {
      expect.fail(`at count ${count}: got ${actual}, expected ${want} (|diff| ${err} > ${bound} = atol ${atol} + rtol ${rtol}·|expected|)`);
    }
  });
}

/** `[0, 1, ..., n - 1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
