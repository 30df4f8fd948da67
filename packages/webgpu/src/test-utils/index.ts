/**
 * Helpers for the WebGPU tests: discovery of every fusible transformation
 * that `@gradtx/core` exports, backend-independent inputs, runs on the
 * reference path and on the fused path, read back with `await data()` (never
 * `dataSync()` on webgpu), dispatch counting, GPU memory and WebGPU
 * validation errors.
 */
import { readFileSync } from 'node:fs';
import * as gradtx from '@gradtx/core';
import { applyUpdates, createOptimizer, fusedStats, fusedUpdate, type GradientTransformation, isTensor, treeLeaves } from '@gradtx/core';
// One copy of the discovery, the PRNG, the array trees and the trace comparison: core's testing subpath.
import {
  type ArrayTree,
  build,
  compareTraces,
  type Expr,
  type FixtureModules,
  isArrayLeaf,
  randomArrays,
  type Shapes,
  type Tol,
  type Trace,
  toTensors,
} from '@gradtx/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { WebGpuBackendLike } from '../gpu.js';

export { type ArrayTree, discoverFusible, rng, type Tol, type Trace, toTensors } from '@gradtx/core/testing';

/** Leaf shapes of the tests' trees: a few sizes around the workgroup size, a scalar, a matrix, nesting. */
export const SHAPES = { a: [7], b: [2, 3], c: [], d: [300], e: { w: [16, 17], v: [5] } } as const;

/** Random values (core's `randomArrays`) for `shapes`, by default {@link SHAPES}. */
export function randomTree(r: () => number, shapes: Shapes = SHAPES, scale = 1): ArrayTree {
  return randomArrays(r, shapes, scale);
}

/** Every tensor leaf of a tree read back as a plain array (with `await data()`); other leaves as they are. */
export async function snapshot(tree: unknown): Promise<unknown> {
  if (isTensor(tree)) return Array.from(await tree.data());
  if (Array.isArray(tree)) return Promise.all(tree.map(snapshot));
  if (tree !== null && typeof tree === 'object') {
    const entries = await Promise.all(Object.entries(tree).map(async ([k, v]) => [k, await snapshot(v)] as const));
    return Object.fromEntries(entries);
  }
  return tree;
}

/** Disposes every tensor leaf of a tree. */
export function disposeTree(tree: unknown): void {
  tf.dispose(treeLeaves(tree).filter(isTensor) as tf.Tensor[]);
}

/** Two `createOptimizer` steps of `tx` from `params` with the same gradients `g`; disposes the params, the state and `g`. */
export function stepTwice(tx: GradientTransformation, params: Record<string, tf.Tensor>, g: Record<string, tf.Tensor>): void {
  const opt = createOptimizer(tx, params);
  opt.step(g);
  opt.step(g);
  const last = opt.params;
  opt.dispose();
  disposeTree(last);
  disposeTree(g);
}

/** How a run steps: the reference path, `fusedUpdate` pure or donating, or `createOptimizer`. */
export type Mode = 'reference' | 'pure' | 'donate' | 'optimizer';

/** Runs `grads.length` steps of `tx` from `params` in `mode` on the current backend; disposes all it made. */
export async function run(tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[], mode: Mode): Promise<Trace> {
  const out: Trace = { params: [], states: [] };
  if (mode === 'optimizer') {
    const opt = createOptimizer(tx, toTensors(params));
    for (const g of grads) {
      const gt = toTensors(g);
      opt.step(gt);
      disposeTree(gt);
      out.params.push(await snapshot(opt.params));
      out.states.push(await snapshot(opt.state));
    }
    const last = opt.params;
    opt.dispose();
    disposeTree(last);
    return out;
  }
  let p: unknown = toTensors(params);
  let s = tx.init(p as never);
  for (const g of grads) {
    const gt = toTensors(g);
    let p2: unknown;
    let s2: unknown;
    if (mode === 'reference') {
      const [u, next] = tx.update(gt, s, p as never);
      p2 = applyUpdates(p as never, u);
      s2 = next;
      disposeTree(u);
      disposeTree(s);
      disposeTree(p);
    } else {
      [p2, s2] = fusedUpdate(tx, gt, s, p as never, { donate: mode === 'donate' });
      if (mode === 'pure') {
        disposeTree(s);
        disposeTree(p);
      }
    }
    disposeTree(gt);
    p = p2;
    s = s2;
    out.params.push(await snapshot(p));
    out.states.push(await snapshot(s));
  }
  disposeTree(p);
  disposeTree(s);
  return out;
}

/** Runs `fn` with tfjs's backend switched to `name`, then switches back. */
export async function onBackend<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend(${name}) failed`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}

/**
 * WebGPU against the cpu reference: WGSL lets division and `sqrt` be off by
 * up to 2.5 ulp and may fuse a multiply-add, so after a few steps of moments,
 * roots and divisions the two paths differ by some dozens of float32 ulps:
 * rtol 1e-5, atol 1e-6 of the leaf's scale.
 */
export const GPU_TOL: Tol = { rtol: 1e-5, atol: 1e-6, leafScale: true };

const MODES: Mode[] = ['pure', 'donate', 'optimizer'];

/** Runs every mode on webgpu and checks each against `expected`, the fused path taken, no leaks, GPU memory back to baseline. */
export async function checkAllModes(
  name: string,
  tx: GradientTransformation,
  params: ArrayTree,
  grads: ArrayTree[],
  expected: Trace,
  tol = GPU_TOL,
) {
  for (const mode of MODES) {
    const tensors = tf.memory().numTensors;
    const bytes = gpuBytes().used;
    const before = fusedStats.fused + ((fusedStats as { fast?: number }).fast ?? 0);
    const got = await expectNoGpuErrors(() => run(tx, params, grads, mode));
    const fusedSteps = fusedStats.fused + ((fusedStats as { fast?: number }).fast ?? 0) - before;
    expect(fusedSteps, `${name} [${mode}]: steps on the fused path`).toBe(grads.length);
    expectTracesClose(got, expected, `${name} [${mode}]`, tol);
    expect(tf.memory().numTensors, `${name} [${mode}]: leaked tensors`).toBe(tensors);
    expect(gpuBytes().used, `${name} [${mode}]: GPU bytes in use after the run`).toBe(bytes);
  }
}

/**
 * Replays a fixture case on webgpu: every mode against the cpu reference path
 * ({@link checkAllModes}), then the donated run against the fixture's params
 * within `vsFixture`.
 */
export async function replayFixtureCase(c: FixtureCase, tx: GradientTransformation, vsFixture: Tol): Promise<void> {
  const params = fixtureArrays(c.params);
  const grads = c.grads.map(fixtureArrays);
  const expected = await onBackend('cpu', () => run(tx, params, grads, 'reference'));
  await checkAllModes(c.id, tx, params, grads, expected);
  const got = await run(tx, params, grads, 'donate');
  const fixture: Trace = { params: c.expected.map((e) => fixtureValues(e.params)), states: got.states };
  expectTracesClose(got, fixture, `${c.id} vs the fixture`, vsFixture);
}

/** Asserts two traces agree leaf by leaf (core's check, `atol` scaled by each leaf's magnitude), naming the first difference. */
export function expectTracesClose(actual: Trace, expected: Trace, label: string, tol: Tol = GPU_TOL): void {
  const difference = compareTraces(actual, expected, label, { leafScale: true, ...tol }, 'webgpu');
  if (difference !== null) expect.fail(difference);
}

/** The tfjs webgpu backend. */
export function webgpuBackend(): WebGpuBackendLike {
  return tf.findBackend('webgpu') as unknown as WebGpuBackendLike;
}

/**
 * Bytes of GPU memory the backend's buffers hold (in use / allocated, pooled
 * ones included), after submitting what tfjs has queued (buffers of disposed
 * tensors and of uniforms go back to the pool only at a submission).
 */
export function gpuBytes(): { used: number; allocated: number } {
  const b = webgpuBackend();
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.submitQueue();
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { used: m.numBytesInGPU ?? 0, allocated: m.numBytesAllocatedInGPU ?? 0 };
}

interface PassPrototype {
  dispatchWorkgroups(...args: unknown[]): void;
}

let dispatches = 0;
let patched = false;

/** Counts every compute dispatch recorded on the device (tfjs's kernels and gradtx's alike). */
function patchDispatch(): void {
  if (patched) return;
  const g = globalThis as unknown as { GPUComputePassEncoder?: { prototype: PassPrototype } };
  const proto = g.GPUComputePassEncoder?.prototype;
  if (proto === undefined) throw new Error('no GPUComputePassEncoder global: the WebGPU globals are not installed');
  const original = proto.dispatchWorkgroups;
  proto.dispatchWorkgroups = function (this: unknown, ...args: unknown[]) {
    dispatches++;
    return original.apply(this, args);
  };
  patched = true;
}

/** The number of compute dispatches recorded while `fn` runs. */
export async function countDispatches<T>(fn: () => T | Promise<T>): Promise<{ result: T; dispatches: number }> {
  patchDispatch();
  const before = dispatches;
  const result = await fn();
  return { result, dispatches: dispatches - before };
}

/** Runs `fn` inside a WebGPU validation error scope and fails with the device's message if a command was invalid. */
export async function expectNoGpuErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  const device = webgpuBackend().device;
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const err = await device.popErrorScope();
    if (err !== null) expect.fail(`WebGPU validation error: ${err.message}`);
  }
  return result;
}

// ---------------------------------------------------------------------------
// the core conformance fixtures (packages/core/fixtures), when present

/** A fixture tree leaf, or a tree of them. */
export type FixtureTree = { shape: number[]; data: (number | string)[] } | FixtureTree[] | { [key: string]: FixtureTree };

/** A step case of the core fixtures: the gradtx call, the params, the grads and optax's params after each step. */
export interface FixtureCase {
  id: string;
  family: string;
  gradtx: unknown;
  needsParams: boolean;
  params: FixtureTree;
  grads: FixtureTree[];
  stateEdits?: unknown[];
  expected: { params: FixtureTree }[];
}

/** The cases of `packages/<pkg>/fixtures/<name>` (core's by default), or null when the file is not there. */
export function readFixture(name: string, pkg = 'core'): FixtureCase[] | null {
  const url = new URL(`../../../${pkg}/fixtures/${name}`, import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch {
    return null;
  }
  return (JSON.parse(text) as { cases: FixtureCase[] }).cases;
}

function decodeNumber(x: number | string): number {
  if (typeof x === 'number') return x;
  if (x === 'NaN') return Number.NaN;
  if (x === 'Infinity') return Number.POSITIVE_INFINITY;
  if (x === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new Error(`fixture: unexpected value ${JSON.stringify(x)}`);
}

/** A fixture tree as an {@link ArrayTree}. */
export function fixtureArrays(tree: FixtureTree): ArrayTree {
  const leaf = (x: unknown): x is { shape: number[]; data: (number | string)[] } =>
    x !== null && typeof x === 'object' && !Array.isArray(x) && Array.isArray((x as { data?: unknown }).data);
  const go = (t: FixtureTree): unknown => {
    if (leaf(t)) return { shape: t.shape, values: Float32Array.from(t.data, decodeNumber) };
    if (Array.isArray(t)) return t.map(go);
    return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, go(v)]));
  };
  return go(tree) as ArrayTree;
}

/** A fixture tree as plain arrays (the shape {@link snapshot} returns). */
export function fixtureValues(tree: FixtureTree): unknown {
  const a = fixtureArrays(tree);
  const go = (t: unknown): unknown =>
    isArrayLeaf(t)
      ? Array.from(t.values)
      : Array.isArray(t)
        ? t.map(go)
        : Object.fromEntries(Object.entries(t as object).map(([k, v]) => [k, go(v)]));
  return go(a);
}

/**
 * Builds a value from the fixtures' gradtx expressions (core's `build`: `{ tx, args }`
 * calls an export of `modules`, by default `@gradtx/core`'s, `{ schedule, args }` a
 * `@gradtx/schedules` one, and so on).
 */
export function buildFixture(expr: unknown, modules: FixtureModules = [gradtx as unknown as Record<string, unknown>]): unknown {
  return build(expr as Expr, modules);
}
