/**
 * Helpers for the fused-engine tests: discovery of every transformation the
 * package exports, runs of a transformation on the reference path and on the
 * fused path from the same plain-array inputs, and their comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { fusedUpdate } from '../fused/step.js';
import { createOptimizer } from '../optimizer.js';
import { type ArrayLeaf, compareTraces, randomArrays as randomTree, type Tol, type Trace, toTensors as treeTensors } from '../testing.js';
import { isTensor, treeLeaves, treeMap } from '../tree.js';
import { applyUpdates } from '../update.js';

export { discoverFusible, rng, type Tol, type Trace } from '../testing.js';

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

/** Every tensor leaf of a tree as a plain array (numbers and other leaves as they are). */
export function snapshot(tree: unknown): unknown {
  return treeMap((x: unknown) => (isTensor(x) ? Array.from(x.dataSync()) : x), tree);
}

/** Disposes every tensor leaf of the given trees. */
function disposeLeaves(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((x) => treeLeaves(x)).filter(isTensor) as tf.Tensor[]);
}

/**
 * Steps `tx.init`'s state and the params over `grads` with `step` (which
 * disposes what it no longer needs of its inputs, except the gradients),
 * recording the params and the state after each step; disposes the rest.
 */
function traceSteps(
  tx: GradientTransformation,
  params: ArrayTree,
  grads: ArrayTree[],
  step: (g: Record<string, tf.Tensor>, s: unknown, p: unknown) => [unknown, unknown],
): Trace {
  let p: unknown = toTensors(params);
  let s = tx.init(p as never);
  const out: Trace = { params: [], states: [] };
  for (const g of grads) {
    const gt = toTensors(g);
    [p, s] = step(gt, s, p);
    tf.dispose(Object.values(gt));
    out.params.push(snapshot(p));
    out.states.push(snapshot(s));
  }
  disposeLeaves(p, s);
  return out;
}

/** Runs `steps` updates on the reference path: `tx.update` then `applyUpdates`; disposes everything it made. */
export function runReference(tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[]): Trace {
  return traceSteps(tx, params, grads, (gt, s, p) => {
    const [u, s2] = tx.update(gt, s, p as never);
    const p2 = applyUpdates(p as never, u);
    disposeLeaves(u, s, p);
    return [p2, s2];
  });
}

/** How {@link runFused} drives the fused engine. */
export type FusedMode = 'pure' | 'donate' | 'optimizer';

/** Runs the same steps on the fused path; disposes everything it made. */
export function runFused(tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[], mode: FusedMode): Trace {
  if (mode === 'optimizer') {
    const out: Trace = { params: [], states: [] };
    const opt = createOptimizer(tx, toTensors(params));
    for (const g of grads) {
      const gt = toTensors(g);
      opt.step(gt);
      tf.dispose(Object.values(gt));
      out.params.push(snapshot(opt.params));
      out.states.push(snapshot(opt.state));
    }
    const last = opt.params;
    opt.dispose();
    disposeLeaves(last);
    return out;
  }
  return traceSteps(tx, params, grads, (gt, s, p) => {
    const next = fusedUpdate(tx, gt, s, p as never, { donate: mode === 'donate' });
    if (mode === 'pure') disposeLeaves(s, p);
    return next;
  });
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
