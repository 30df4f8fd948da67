/**
 * Helpers shared by the tests: tensor construction, closeness with stated
 * tolerances, and leak checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { formatPath, isTensor, treeLeaves, treeLeavesWithPath } from '../tree.js';

/** A float32 tensor from nested arrays. */
export function t(values: number | number[] | number[][] | number[][][]): tf.Tensor {
  return tf.tensor(values as number[], undefined, 'float32');
}

/** Every tensor leaf of a tree as nested JS arrays (numbers pass through). */
export function toArrays(tree: unknown): unknown {
  if (isTensor(tree)) return tree.arraySync();
  if (Array.isArray(tree)) return tree.map(toArrays);
  if (tree !== null && typeof tree === 'object') {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, toArrays(v)]));
  }
  return tree;
}

/** float32 tolerances: a few units in the last place. */
export const F32 = { rtol: 2e-6, atol: 1e-7 } as const;

/**
 * Asserts |actual - expected| <= atol + rtol·|expected| element by element,
 * for two trees with tensor (or number/array) leaves; the message names the
 * path and index of the first element out of tolerance.
 */
export function expectTreeClose(actual: unknown, expected: unknown, tol: { rtol: number; atol: number } = F32): void {
  const a = treeLeavesWithPath(actual, { isLeaf: (x) => Array.isArray(x) && x.every((y) => typeof y === 'number' || Array.isArray(y)) });
  const e = treeLeaves(expected, { isLeaf: (x) => Array.isArray(x) && x.every((y) => typeof y === 'number' || Array.isArray(y)) });
  expect(a.length, 'number of leaves').toBe(e.length);
  a.forEach(([path, av], i) => {
    const flatA = flat(av);
    const flatE = flat(e[i]);
    expect(flatA.length, `size at ${formatPath(path)}`).toBe(flatE.length);
    flatA.forEach((x, j) => {
      const y = flatE[j] as number;
      const ok = (Number.isNaN(x) && Number.isNaN(y)) || x === y || Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y);
      if (!ok) {
        expect.fail(`${formatPath(path)}[${j}]: got ${x}, expected ${y} (rtol ${tol.rtol}, atol ${tol.atol})`);
      }
    });
  });
}

function flat(x: unknown): number[] {
  if (isTensor(x)) return Array.from(x.dataSync());
  if (typeof x === 'number') return [x];
  if (Array.isArray(x)) return x.flatMap(flat);
  throw new Error(`expected a tensor, number or array, got ${String(x)}`);
}

/**
 * Runs `fn`, then disposes every tensor in what it returns, and asserts that
 * `tf.memory().numTensors` is back where it started: no leaks.
 */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  disposeTree(out);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return out;
}

/** Disposes every tensor leaf of a tree (numbers and nulls are ignored). */
export function disposeTree(tree: unknown): void {
  for (const leaf of treeLeaves(tree)) if (isTensor(leaf)) leaf.dispose();
}

/**
 * Each step's updates (as arrays) of `tx` run over `grads` from `params`,
 * both given as trees of nested arrays made into tensors here ({@link runSteps}).
 */
export function updatesOfSteps(
  tx: Parameters<typeof runSteps>[0],
  params: Record<string, unknown>,
  grads: Record<string, unknown>[],
): unknown[] {
  const toT = (tree: Record<string, unknown>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, t(v as number[])]));
  const p = toT(params);
  const gs = grads.map(toT);
  const { updates } = runSteps(tx, p, gs);
  disposeTree([p, gs]);
  return updates;
}

/** Runs `steps` updates of `tx` from `params`, returning every step's updates as arrays. No leaks. */
export function runSteps(
  tx: { init(p: unknown): unknown; update(u: any, s: any, p?: any): [unknown, unknown] },
  params: unknown,
  gradsPerStep: unknown[],
  opts: { passParams?: boolean } = {},
): { updates: unknown[]; params: unknown[]; state: unknown } {
  let state = tx.init(params);
  let p = params;
  const updates: unknown[] = [];
  const ps: unknown[] = [];
  for (const g of gradsPerStep) {
    const [u, s] = tx.update(g, state, opts.passParams === false ? undefined : p);
    updates.push(toArrays(u));
    const next = tf.tidy(() => treeMapAdd(p, u) as tf.TensorContainer) as unknown;
    if (p !== params) disposeTree(p);
    disposeTree(state);
    disposeTree(u);
    state = s;
    p = next;
    ps.push(toArrays(p));
  }
  if (p !== params) disposeTree(p);
  const finalState = toArrays(state);
  disposeTree(state);
  return { updates, params: ps, state: finalState };
}

function treeMapAdd(p: unknown, u: unknown): unknown {
  if (isTensor(p)) return u === null || u === undefined ? tf.clone(p) : tf.add(p, u as tf.Tensor);
  if (Array.isArray(p)) return p.map((x, i) => treeMapAdd(x, (u as unknown[])[i]));
  if (p !== null && typeof p === 'object') {
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, treeMapAdd(v, (u as Record<string, unknown>)[k])]));
  }
  return p;
}

/**
 * Runs `steps` updates of `tx` on the same `grads` and asserts purity: the
 * inputs (grads, state, params) are neither disposed nor changed, no input
 * tensor reappears in the outputs, every output tensor is a distinct object
 * (so disposing the updates cannot break the state), and nothing leaks.
 */
export async function expectPureUpdate(
  tx: { init(p: any): unknown; update(u: any, s: any, p?: any): [unknown, unknown] },
  params: unknown,
  grads: unknown,
  steps = 2,
): Promise<void> {
  await expectNoLeaks(() => {
    let state = tx.init(params);
    for (let i = 0; i < steps; i++) {
      const inputs = treeLeaves([grads, state, params]).filter(isTensor);
      const before = toArrays([grads, state, params]);
      const [u, s] = tx.update(grads, state, params);
      const outputs = treeLeaves([u, s]).filter(isTensor);
      expect(new Set(outputs).size, 'output tensors are distinct objects').toBe(outputs.length);
      for (const out of outputs) expect(inputs.includes(out), 'an input tensor reappears in the output').toBe(false);
      for (const x of inputs) expect(x.isDisposed, 'an input was disposed').toBe(false);
      expect(toArrays([grads, state, params]), 'the inputs are unchanged').toEqual(before);
      disposeTree(u);
      disposeTree(state);
      state = s;
    }
    return state;
  });
}
