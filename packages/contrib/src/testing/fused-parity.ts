// Test support (not built): element-wise specs with scalar state on the fused path against their reference
// path, bit for bit, after every step, through fusedUpdate (pure and donated) and createOptimizer, on cpu and
// wasm; every step fused; no leaked tensors.
import { fusedStats, type GradientTransformation } from '@gradtx/core';
import {
  type ArrayTree,
  compareTraces,
  type RunGradients,
  randomArrays,
  rng,
  runBlockOn,
  runFused,
  runReference,
  type Trace,
  toTensors,
} from '@gradtx/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

const SHAPES: Record<string, number[]> = { a: [7], b: [2, 3], c: [], d: [33] };

/** The number of steps every run takes. */
export const STEPS = 30;

/** Params and the gradient at step `i`: of `Σ ½ (x - target)²`, plus noise (params that really move towards the target). */
export function problem(seed: number): { params: ArrayTree; grads: RunGradients } {
  const r = rng(seed);
  const params = randomArrays(r, SHAPES);
  const target = randomArrays(r, SHAPES, 3);
  const noise = Array.from({ length: STEPS }, () => randomArrays(r, SHAPES, 0.1));
  const grads: RunGradients = {
    steps: STEPS,
    at: (p, i) =>
      tf.tidy(() => {
        const [t, n] = [toTensors(target), toTensors(noise[i] as ArrayTree)] as Record<string, tf.Tensor>[];
        return Object.fromEntries(
          Object.entries(p as Record<string, tf.Tensor>).map(([k, x]) => [k, tf.add(tf.sub(x, t?.[k] as tf.Tensor), n?.[k] as tf.Tensor)]),
        );
      }),
  };
  return { params, grads };
}

/**
 * For each backend and case: the reference trace (checked by `check`, which
 * must fail for a no-op run), then the fused runs, bit for bit with it.
 */
export function describeFusedParity(
  title: string,
  seed: number,
  cases: readonly (readonly [string, () => GradientTransformation])[],
  check: (name: string, expected: Trace) => void,
): void {
  for (const backend of ['cpu', 'wasm'] as const) {
    describe(`${title} fused on ${backend}`, () => {
      runBlockOn(backend);
      for (const [name, make] of cases) {
        it(`${name}: bit for bit with the reference path, every step fused`, () => {
          const { params, grads } = problem(seed);
          const tx = make();
          const before = tf.memory().numTensors;
          const expected = runReference(tx, params, grads);
          check(name, expected);
          for (const mode of ['pure', 'donate', 'optimizer'] as const) {
            const fused = fusedStats.fused + fusedStats.fast;
            const got = runFused(tx, params, grads, mode);
            expect(fusedStats.fused + fusedStats.fast - fused, `${name} [${mode}]: steps on the fused path`).toBe(STEPS);
            expect(compareTraces(got, expected, `${name} [${mode}]`, { rtol: 0, atol: 0 })).toBeNull();
          }
          expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
        });
      }
    });
  }
}
