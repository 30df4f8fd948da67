/**
 * The combinator tests' check that a transformation's fused steps are its
 * reference steps: `fusedUpdate` pure and donating and `createOptimizer`
 * (replayed in place), each against the reference path, bit for bit on the
 * cpu backend (or within a float32 tolerance where the fused kernels round
 * otherwise, on wasm), with no tensor leaked and no step on the reference path.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { fusedStats } from '../fused/stats.js';
import {
  type ArrayTree,
  compareTraces,
  randomArrays,
  rng,
  runFused,
  runReference,
  type StateEdit,
  type Tol,
  type Trace,
} from '../testing.js';
import { treeLeaves } from '../tree.js';

/** The leaf shapes of the combinator tests. */
export const COMBINATOR_SHAPES = { a: [7], b: [2, 3], d: [4, 4], e: [9] };

/** Bit for bit (`Object.is`, so -0 and +0 differ; NaNs equal), state included. */
export function expectSameBits(got: Trace, want: Trace, label: string): void {
  const flat = (x: unknown): unknown[] => (Array.isArray(x) && x.every((v) => typeof v === 'number') ? [x] : treeLeaves(x));
  const show = (x: unknown) => JSON.stringify(x, (_k, v) => (Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v));
  for (const key of ['params', 'states'] as const) {
    expect(got[key].length, label).toBe(want[key].length);
    got[key].forEach((tree, step) => {
      expect(show(tree), `${label}: ${key} at step ${step}`).toBe(show(want[key][step]));
    });
  }
  expect(flat(got.params).length).toBeGreaterThan(0);
}

/** Options of {@link agree}. */
export interface AgreeOptions {
  /** Steps of random gradients (default 6), unless `grads` are given. */
  readonly steps?: number;
  /** The params (default random ones of `shapes`). */
  readonly params?: ArrayTree;
  /** The gradients of each step (default random ones of `shapes`). */
  readonly grads?: readonly ArrayTree[];
  /** The params' leaf shapes (default {@link COMBINATOR_SHAPES}). */
  readonly shapes?: Record<string, number[]>;
  /** A change to the state before each step. */
  readonly edit?: StateEdit;
  /** The replayed steps createOptimizer must take (unchecked when absent). */
  readonly fastSteps?: number;
  /** Compare within this tolerance instead of bit for bit. */
  readonly tol?: Tol;
}

/**
 * Runs `tx` on the reference path and in the three fused modes: every mode
 * must agree with the reference (bit for bit, or within `tol`), leak
 * nothing, take no step on the reference path, and (in createOptimizer)
 * take `fastSteps` replayed steps.
 */
export function agree(tx: GradientTransformation, label: string, o: AgreeOptions = {}): void {
  const r = rng(7);
  const params = o.params ?? (randomArrays(r, o.shapes ?? COMBINATOR_SHAPES) as ArrayTree);
  const grads = o.grads ?? Array.from({ length: o.steps ?? 6 }, () => randomArrays(r, o.shapes ?? COMBINATOR_SHAPES) as ArrayTree);
  const want = runReference(tx, params, grads, o.edit);
  for (const mode of ['pure', 'donate', 'optimizer'] as const) {
    const before = tf.memory().numTensors;
    const stats = { ...fusedStats };
    const got = runFused(tx, params, grads, mode, o.edit);
    expect(tf.memory().numTensors, `${label} [${mode}]: tensors leaked`).toBe(before);
    if (o.tol === undefined) expectSameBits(got, want, `${label} [${mode}]`);
    else expect(compareTraces(got, want, `${label} [${mode}]`, o.tol)).toBeNull();
    expect(fusedStats.reference - stats.reference, `${label} [${mode}]: steps on the reference path (${fusedStats.lastFallBack})`).toBe(0);
    if (mode === 'optimizer' && o.fastSteps !== undefined)
      expect(fusedStats.fast - stats.fast, `${label}: replayed steps`).toBe(o.fastSteps);
  }
}
