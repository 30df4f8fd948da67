/**
 * Helpers for the fused-engine tests: discovery of every transformation the
 * package exports, runs of a transformation on the reference path and on the
 * fused path from the same plain-array inputs, and their comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { fusedUpdate } from '../fused/engine.js';
import * as gradtx from '../index.js';
import { createOptimizer } from '../optimizer.js';
import { formatPath, isTensor, treeLeaves, treeLeavesWithPath, treeMap } from '../tree.js';
import { applyUpdates } from '../update.js';

/** A tree of plain float32 arrays with shapes: backend-independent inputs. */
export type ArrayTree = Record<string, { shape: number[]; values: Float32Array }>;

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Leaf shapes used by the tests: sizes that are and are not multiples of 4, a scalar, a matrix. */
export const SHAPES: Record<string, number[]> = { a: [7], b: [2, 3], c: [], d: [4, 4], e: [9] };

/** Random values: mostly normal-ish, with some exact zeros and a few larger ones. */
export function randomArrays(r: () => number, shapes: Record<string, number[]> = SHAPES, scale = 1): ArrayTree {
  const out: ArrayTree = {};
  for (const [k, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = r();
      values[i] = u < 0.08 ? 0 : (r() - 0.5) * 2 * scale * (u > 0.95 ? 10 : 1);
    }
    out[k] = { shape, values };
  }
  return out;
}

/** Tensors on the current backend from an {@link ArrayTree}. */
export function toTensors(a: ArrayTree): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, tf.tensor(Float32Array.from(v.values), v.shape, 'float32')]));
}

/** Every tensor leaf of a tree as a plain array (numbers and other leaves as they are). */
export function snapshot(tree: unknown): unknown {
  return treeMap((x: unknown) => (isTensor(x) ? Array.from(x.dataSync()) : x), tree);
}

/** Names of exports that are not transformation factories (or need arguments the discovery cannot guess). */
const NOT_FACTORIES = new Set([
  'elementwise',
  'createOptimizer',
  'fusedUpdate',
  'setFusedEnabled',
  'isFusedEnabled',
  'currentDevice',
  'asTfOptimizer',
]);

/**
 * Factories whose updates need extra arguments (the loss `value`, an objective
 * `valueFn`), which the discovery's plain steps do not pass; their fused
 * parts are covered by the conformance fixtures with those arguments.
 */
const NEEDS_EXTRAS = new Set(['lbfgs', 'polyakSgd']);

/**
 * Exports that act on the world (I/O, global switches, the device) or are
 * tree/engine utilities are never called by the discovery.
 */
const SIDE_EFFECTS = /^(set|save|load|register|read|write|dispose|fetch|fused|tree|check|assert|apply|current|init|reference)/;

/** Argument lists tried, in order, to build a transformation from an exported factory. */
const ARGS: unknown[][] = [[], [0.05], [{ decay: 0.9 }], [() => 0.05], [0.05, {}]];

/**
 * Every transformation exported by the package that has a `fusion` field,
 * built with default options by trying a few argument lists, so new
 * element-wise transforms and aliases are covered as they land. The WebGPU
 * package's tests use this one too (its vitest maps `@gradtx/core` to these
 * sources, so both see the same exports).
 */
export function discoverFusible(): { name: string; tx: GradientTransformation }[] {
  const out: { name: string; tx: GradientTransformation }[] = [];
  for (const [name, f] of Object.entries(gradtx)) {
    if (typeof f !== 'function' || /^[A-Z]/.test(name) || NOT_FACTORIES.has(name) || NEEDS_EXTRAS.has(name) || SIDE_EFFECTS.test(name))
      continue;
    for (const args of ARGS) {
      let tx: unknown;
      try {
        tx = (f as (...a: unknown[]) => unknown)(...args);
      } catch {
        continue;
      }
      if (tx instanceof Promise) {
        tx.catch(() => undefined);
        break;
      }
      const t = tx as GradientTransformation;
      if (t && typeof t === 'object' && typeof t.init === 'function' && typeof t.update === 'function') {
        if (t.fusion !== undefined)
          out.push({ name: `${name}(${args.map((a) => (typeof a === 'function' ? 'schedule' : JSON.stringify(a))).join(', ')})`, tx: t });
        break;
      }
    }
  }
  return out;
}

/** What a run produced after each step: the params and the whole state, as plain arrays. */
export interface Trace {
  params: unknown[];
  states: unknown[];
}

/** Runs `steps` updates on the reference path: `tx.update` then `applyUpdates`; disposes everything it made. */
export function runReference(tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[]): Trace {
  let p: unknown = toTensors(params);
  let s = tx.init(p as never);
  const out: Trace = { params: [], states: [] };
  for (const g of grads) {
    const gt = toTensors(g);
    const [u, s2] = tx.update(gt, s, p as never);
    const p2 = applyUpdates(p as never, u);
    tf.dispose([...treeLeaves(u), ...treeLeaves(s), ...treeLeaves(p), ...Object.values(gt)].filter(isTensor) as tf.Tensor[]);
    p = p2;
    s = s2;
    out.params.push(snapshot(p));
    out.states.push(snapshot(s));
  }
  tf.dispose([...treeLeaves(p), ...treeLeaves(s)].filter(isTensor) as tf.Tensor[]);
  return out;
}

/** How {@link runFused} drives the fused engine. */
export type FusedMode = 'pure' | 'donate' | 'optimizer';

/** Runs the same steps on the fused path; disposes everything it made. */
export function runFused(tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[], mode: FusedMode): Trace {
  const out: Trace = { params: [], states: [] };
  if (mode === 'optimizer') {
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
    tf.dispose(treeLeaves(last).filter(isTensor) as tf.Tensor[]);
    return out;
  }
  let p: unknown = toTensors(params);
  let s = tx.init(p as never);
  for (const g of grads) {
    const gt = toTensors(g);
    const [p2, s2] = fusedUpdate(tx, gt, s, p as never, { donate: mode === 'donate' });
    if (mode === 'pure') tf.dispose([...treeLeaves(s), ...treeLeaves(p)].filter(isTensor) as tf.Tensor[]);
    tf.dispose(Object.values(gt));
    p = p2;
    s = s2;
    out.params.push(snapshot(p));
    out.states.push(snapshot(s));
  }
  tf.dispose([...treeLeaves(p), ...treeLeaves(s)].filter(isTensor) as tf.Tensor[]);
  return out;
}

/**
 * A float32 tolerance: `|a - e| <= atol · s + rtol · |e|`, where `s` is 1, or
 * with `leafScale` the leaf's scale `max(1, max |e| over the leaf)`.
 */
export interface Tol {
  rtol: number;
  atol: number;
  /** Scale `atol` by the leaf's largest finite expected magnitude (at least 1). */
  leafScale?: boolean;
}

/** float32 agreement: a few units in the last place (rtol 1e-6), and an absolute floor for values near zero. */
export const FUSED_TOL: Tol = { rtol: 1e-6, atol: 1e-7 };

/**
 * Asserts two traces agree leaf by leaf within `tol`, naming the step, the
 * path and the index of the first difference; `what` names the tested side in
 * the message (the WebGPU tests use this one too).
 */
export function expectTracesClose(actual: Trace, expected: Trace, label: string, tol: Tol = FUSED_TOL, what = 'fused'): void {
  const isArr = (x: unknown) => Array.isArray(x) && x.every((y) => typeof y === 'number');
  for (const key of ['params', 'states'] as const) {
    expect(actual[key].length, `${label}: steps`).toBe(expected[key].length);
    actual[key].forEach((tree, step) => {
      const a = treeLeavesWithPath(tree, { isLeaf: isArr });
      const e = treeLeavesWithPath(expected[key][step], { isLeaf: isArr });
      expect(
        a.map(([p]) => formatPath(p)),
        `${label}: ${key} structure at step ${step}`,
      ).toEqual(e.map(([p]) => formatPath(p)));
      a.forEach(([path, av], i) => {
        const ev = (e[i] as [unknown, unknown])[1];
        const where = `${label}: ${key} ${formatPath(path)} at step ${step}`;
        if (!Array.isArray(av)) {
          expect(av, where).toEqual(ev);
          return;
        }
        const ea = ev as number[];
        expect(av.length, where).toBe(ea.length);
        const scale = tol.leafScale === true ? Math.max(1, ...ea.filter(Number.isFinite).map(Math.abs)) : 1;
        for (let j = 0; j < av.length; j++) {
          const x = av[j] as number;
          const y = ea[j] as number;
          const ok = x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= tol.atol * scale + tol.rtol * Math.abs(y);
          if (!ok) {
            const atol = tol.leafScale === true ? `${tol.atol}·${scale}` : `${tol.atol}`;
            expect.fail(`${where}[${j}]: ${what} ${x}, reference ${y} (rtol ${tol.rtol}, atol ${atol})`);
          }
        }
      });
    });
  }
}
