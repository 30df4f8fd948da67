/**
 * Small helpers for the tests: deterministic param/grad trees, trees as
 * arrays, float32 closeness naming the path, and stepping an optimizer.
 */
import { formatPath, isTensor, type Params, treeLeavesWithPath } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** A deterministic stream of numbers in [-1, 1) (a 32-bit LCG), so every backend sees the same values. */
export function numbers(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** The leaf shapes of the standard test tree: a matrix, a vector, a scalar, a 3-D tensor, and an empty slot. */
export const SHAPES = { w: [3, 4], b: [4], s: [], deep: [{ k: [2, 2, 3] }, null] } as const;

/** A tree with the structure of `shapes` (a tree of shape arrays and nulls) whose leaves hold values from `seed`, times `scale`. */
export function tree(shapes: unknown, seed: number, scale = 1): Params {
  const next = numbers(seed);
  const build = (s: unknown): unknown => {
    if (s === null) return null;
    if (Array.isArray(s) && s.every((d) => typeof d === 'number')) {
      const n = (s as number[]).reduce((a, b) => a * b, 1);
      return tf.tensor(
        Float32Array.from({ length: n }, () => next() * scale),
        s as number[],
        'float32',
      );
    }
    if (Array.isArray(s)) return s.map(build);
    return Object.fromEntries(Object.entries(s as object).map(([k, v]) => [k, build(v)]));
  };
  return build(shapes) as Params;
}

/** `n` leaves of mixed ranks (1-D, 2-D, scalar, 3-D, in turn), as an object keyed p0, p1, ... */
export function manyShapes(n: number, onlyVectors = false): Record<string, number[]> {
  const kinds = onlyVectors ? [[5], [3], [8]] : [[5], [2, 3], [], [2, 2, 2]];
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${String(i).padStart(3, '0')}`, kinds[i % kinds.length] as number[]]));
}

/** Every tensor leaf of a tree as nested JS arrays (null stays null). */
export function toArrays(t: unknown): unknown {
  if (isTensor(t)) return t.arraySync();
  if (Array.isArray(t)) return t.map(toArrays);
  if (t !== null && typeof t === 'object') return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, toArrays(v)]));
  return t;
}

function flat(x: unknown): number[] {
  if (typeof x === 'number') return [x];
  if (Array.isArray(x)) return x.flatMap(flat);
  throw new Error(`expected numbers, got ${String(x)}`);
}

/**
 * Asserts that two trees (of tensors, arrays or numbers) have the same leaves
 * within |a - e| <= atol + rtol·|e|, element by element, naming the path and
 * index of the first element out of tolerance.
 */
export function expectClose(actual: unknown, expected: unknown, tol: { rtol: number; atol: number }): void {
  const isLeaf = (x: unknown) => typeof x === 'number' || (Array.isArray(x) && x.every((y) => typeof y === 'number' || Array.isArray(y)));
  const a = treeLeavesWithPath(toArrays(actual), { isLeaf });
  const e = treeLeavesWithPath(toArrays(expected), { isLeaf });
  expect(
    a.map(([p]) => formatPath(p)),
    'leaf paths',
  ).toEqual(e.map(([p]) => formatPath(p)));
  a.forEach(([path, av], i) => {
    const fa = flat(av);
    const fe = flat(e[i]?.[1]);
    expect(fa.length, `size at ${formatPath(path)}`).toBe(fe.length);
    fa.forEach((x, j) => {
      const y = fe[j] as number;
      const ok = (Number.isNaN(x) && Number.isNaN(y)) || x === y || Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y);
      if (!ok) expect.fail(`${formatPath(path)}[${j}]: got ${x}, expected ${y} (rtol ${tol.rtol}, atol ${tol.atol})`);
    });
  });
}

/** float32 rounding after a few optimizer steps: a few dozen ulps. */
export const F32_STEPS = { rtol: 1e-5, atol: 1e-6 } as const;

/** A clone of every tensor leaf (so two optimizers can own the same starting params). */
export function cloneTree<T>(t: T): T {
  if (isTensor(t)) return tf.clone(t) as T;
  if (Array.isArray(t)) return t.map(cloneTree) as T;
  if (t !== null && typeof t === 'object') return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, cloneTree(v)])) as T;
  return t;
}

/** An optimizer as core's createOptimizer and createNodeOptimizer make them. */
export interface StepsOptimizer {
  step(grads: Params): void;
  readonly params: Params;
  readonly state: unknown;
  dispose(): void;
}

/**
 * Runs `steps` steps of `make(params)` from the params of `seed` with grads of
 * seeds 100, 101, ..., recording the params (as arrays) after each step and
 * the final state (as arrays). Disposes everything it made.
 */
export function runSteps(
  make: (params: Params) => StepsOptimizer,
  shapes: unknown,
  steps: number,
  seed = 1,
): { params: unknown[]; state: unknown } {
  const opt = make(tree(shapes, seed));
  const params: unknown[] = [];
  for (let i = 0; i < steps; i++) {
    const g = tree(shapes, 100 + i, 2);
    opt.step(g);
    tf.dispose(g as tf.TensorContainer);
    params.push(toArrays(opt.params));
  }
  const state = toArrays(opt.state);
  const last = opt.params;
  opt.dispose();
  tf.dispose(last as tf.TensorContainer);
  return { params, state };
}
