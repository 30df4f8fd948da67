/**
 * Helpers for the fused-engine tests: discovery of every transformation the
 * package exports, runs of a transformation on the reference path and on the
 * fused path from the same plain-array inputs, and their comparison.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { type ArrayLeaf, compareTraces, randomArrays as randomTree, type Tol, type Trace, toTensors as treeTensors } from '../testing.js';

export { discoverFusible, type FusedMode, rng, runFused, runReference, snapshot, type Tol, type Trace } from '../testing.js';

/** A flat tree of plain float32 arrays with shapes: backend-independent inputs. */
export type ArrayTree = Record<string, ArrayLeaf>;

/** Leaf shapes used by the tests: sizes that are and are not multiples of 4, a scalar, a matrix. */
export const SHAPES: Record<string, number[]> = { a: [7], b: [2, 3], c: [], d: [4, 4], e: [9] };

/** Random values (see `@gradtx/core/testing`'s `randomArrays`) for flat shapes. */
export function randomArrays(r: () => number, shapes: Record<string, number[]> = SHAPES, scale = 1): ArrayTree {
  return randomTree(r, shapes, scale) as ArrayTree;
}

/** Tensors on the current backend from an {@link ArrayTree}. */
export function toTensors(a: ArrayTree): Record<string, tf.Tensor> {
  return treeTensors(a) as Record<string, tf.Tensor>;
}

/** float32 agreement: a few units in the last place (rtol 1e-6), and an absolute floor for values near zero. */
export const FUSED_TOL: Tol = { rtol: 1e-6, atol: 1e-7 };

/**
 * Asserts two traces agree leaf by leaf within `tol`, naming the step, the
 * path and the index of the first difference; `what` names the tested side in
 * the message (the WebGPU tests use this one too).
 */
export function expectTracesClose(actual: Trace, expected: Trace, label: string, tol: Tol = FUSED_TOL, what = 'fused'): void {
  const difference = compareTraces(actual, expected, label, tol, what);
  if (difference !== null) expect.fail(difference);
}
