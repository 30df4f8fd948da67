/**
 * `@gradtx/core/testing`: helpers that the tests of gradtx's packages share:
 * a deterministic PRNG, backend-independent trees of plain arrays, the
 * comparison of two runs step by step and the discovery of every fusible
 * transformation the package exports (these depend on no test runner: a
 * comparison returns the first difference as a message, which the caller
 * fails with); and the conformance harness for packages built on gradtx
 * (fixtures of real optax runs replayed through `tx.update` and
 * `createOptimizer`), its float32 tolerances, the tree assertions the
 * tests use and `runBlockOn`, which runs a `describe` block on the cpu or
 * wasm backend (these need `vitest` and `@gradtx/schedules`; the wasm
 * backend also `@tensorflow/tfjs-backend-wasm`); the host codecs of packed
 * state, the definition every device's codecs are tested against, and the
 * packed-state cases every device's tests share (`packedState`). For tests
 * only.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, Updates } from './base.js';
import * as gradtx from './index.js';
import { formatPath, isTensor, type TensorTree, treeLeaves, treeLeavesWithPath, treeMap } from './tree.js';

export {
  build,
  buildTransformation,
  compare,
  decodeNumber,
  decodeTree,
  type Expr,
  type Fixture,
  type FixtureLeaf,
  type FixtureModules,
  type FixtureNumber,
  type FixtureTree,
  maxAbs,
  readFixture,
  replay,
  replayOptimizer,
  type StepCase,
  type StepTolerances,
  stepExtras,
  type Tolerance,
} from './conformance/loader.js';
export { OPTAX_STEPS, optaxTolerance } from './conformance/tolerances.js';
export { decodeValues, encodeValues, type StoredValues } from './lang/storage/host-codec.js';
export { runBlockOn } from './test-utils/backend-block.js';
export { disposeTree, expectNoLeaks, expectTreeClose, F32 } from './test-utils/index.js';
export * as packedState from './test-utils/packed-cases.js';

/** A small deterministic PRNG (mulberry32): a function returning uniform numbers in [0, 1). */
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

/** One leaf of an {@link ArrayTree}: a shape and its float32 values. */
export interface ArrayLeaf {
  shape: number[];
  values: Float32Array;
}

/** A tree of plain float32 arrays with shapes: inputs that do not depend on a backend. */
export type ArrayTree = { [key: string]: ArrayLeaf | ArrayTree } | ArrayTree[];

/** Leaf shapes, possibly nested, for {@link randomArrays}. */
export type Shapes = { readonly [key: string]: readonly number[] | Shapes };

/** Random values for each leaf of `shapes`: mostly in [-scale, scale], some exact zeros, a few ten times larger. */
export function randomArrays(r: () => number, shapes: Shapes, scale = 1): { [key: string]: ArrayLeaf | ArrayTree } {
  const out: { [key: string]: ArrayLeaf | ArrayTree } = {};
  for (const [k, shape] of Object.entries(shapes)) {
    if (!Array.isArray(shape)) {
      out[k] = randomArrays(r, shape as Shapes, scale);
      continue;
    }
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = r();
      values[i] = u < 0.08 ? 0 : (r() - 0.5) * 2 * scale * (u > 0.95 ? 10 : 1);
    }
    out[k] = { shape: [...(shape as number[])], values };
  }
  return out;
}

/** Whether `x` is one leaf of an {@link ArrayTree}. */
export function isArrayLeaf(x: unknown): x is ArrayLeaf {
  return x !== null && typeof x === 'object' && (x as { values?: unknown }).values instanceof Float32Array;
}

/** Tensors on the current backend from an {@link ArrayTree} (or one leaf). */
export function toTensors(a: ArrayTree | ArrayLeaf): TensorTree {
  if (isArrayLeaf(a)) return tf.tensor(Float32Array.from(a.values), a.shape, 'float32');
  if (Array.isArray(a)) return a.map((x) => toTensors(x)) as TensorTree;
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, toTensors(v)]));
}

/** What a run produced after each step: the params and the whole state, as plain arrays. */
export interface Trace {
  params: unknown[];
  states: unknown[];
}

/** Every tensor leaf of a tree as a plain array (numbers and other leaves as they are). */
export function snapshot(tree: unknown): unknown {
  return treeMap((x: unknown) => (isTensor(x) ? Array.from(x.dataSync()) : x), tree);
}

/**
 * The gradients of a run: one tree per step, or, for a trajectory that
 * depends on where the params are, `at(params, step)` (new tensors) for
 * `steps` steps.
 */
export type RunGradients = readonly ArrayTree[] | { readonly steps: number; at(params: Params, step: number): Updates };

/** The number of steps of `grads` and the tensors of step `i`'s gradients at `params`. */
function gradientsAt(grads: RunGradients): { steps: number; at: (params: Params, i: number) => Updates } {
  if (!Array.isArray(grads)) return grads as Exclude<RunGradients, readonly ArrayTree[]>;
  return { steps: grads.length, at: (_p, i) => toTensors(grads[i] as ArrayTree) as Updates };
}

const disposeAll = (...trees: unknown[]): void => {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
};

/** A change to the state before step `step` of a run (e.g. a hyperparameter set at run time), made in place. */
export type StateEdit = (state: any, step: number) => void;

/** Runs the steps on the reference path: `tx.update` then `applyUpdates` (after `edit`, if given); disposes everything it made. */
export function runReference(tx: GradientTransformation, params: ArrayTree, grads: RunGradients, edit?: StateEdit): Trace {
  const g = gradientsAt(grads);
  let p = toTensors(params) as Params;
  let s = tx.init(p);
  const out: Trace = { params: [], states: [] };
  for (let i = 0; i < g.steps; i++) {
    edit?.(s, i);
    const gt = g.at(p, i);
    const [u, s2] = tx.update(gt, s, p);
    const p2 = gradtx.applyUpdates(p, u);
    disposeAll(u, s, p, gt);
    [p, s] = [p2, s2];
    out.params.push(snapshot(p));
    out.states.push(snapshot(s));
  }
  disposeAll(p, s);
  return out;
}

/** How {@link runFused} drives the fused engine: `fusedUpdate` pure or donating, or `createOptimizer`. */
export type FusedMode = 'pure' | 'donate' | 'optimizer';

/** Runs the same steps on the fused path (after `edit`, if given, on the state in place); disposes everything it made. */
export function runFused(tx: GradientTransformation, params: ArrayTree, grads: RunGradients, mode: FusedMode, edit?: StateEdit): Trace {
  const g = gradientsAt(grads);
  const out: Trace = { params: [], states: [] };
  if (mode === 'optimizer') {
    const opt = gradtx.createOptimizer(tx, toTensors(params) as Params);
    for (let i = 0; i < g.steps; i++) {
      edit?.(opt.state, i);
      const gt = g.at(opt.params, i);
      opt.step(gt);
      disposeAll(gt);
      out.params.push(snapshot(opt.params));
      out.states.push(snapshot(opt.state));
    }
    const last = opt.params;
    opt.dispose();
    disposeAll(last);
    return out;
  }
  let p = toTensors(params) as Params;
  let s = tx.init(p);
  for (let i = 0; i < g.steps; i++) {
    edit?.(s, i);
    const gt = g.at(p, i);
    const [p2, s2] = gradtx.fusedUpdate(tx, gt, s, p, { donate: mode === 'donate' });
    if (mode === 'pure') disposeAll(s, p);
    disposeAll(gt);
    [p, s] = [p2, s2];
    out.params.push(snapshot(p));
    out.states.push(snapshot(s));
  }
  disposeAll(p, s);
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

function leafDifference(av: number[], ea: number[], where: string, tol: Tol, what: string): string | null {
  if (av.length !== ea.length) return `${where}: ${av.length} elements, reference ${ea.length}`;
  const scale = tol.leafScale === true ? Math.max(1, ...ea.filter(Number.isFinite).map(Math.abs)) : 1;
  for (let j = 0; j < av.length; j++) {
    const x = av[j] as number;
    const y = ea[j] as number;
    const ok = x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= tol.atol * scale + tol.rtol * Math.abs(y);
    if (!ok) {
      const atol = tol.leafScale === true ? `${tol.atol}·${scale}` : `${tol.atol}`;
      return `${where}[${j}]: ${what} ${x}, reference ${y} (rtol ${tol.rtol}, atol ${atol})`;
    }
  }
  return null;
}

/**
 * The first difference between two traces beyond `tol`, as a message naming
 * the step, the path and the index (`what` names the tested side), or null
 * when they agree leaf by leaf.
 */
export function compareTraces(actual: Trace, expected: Trace, label: string, tol: Tol, what = 'fused'): string | null {
  const isArr = (x: unknown) => Array.isArray(x) && x.every((y) => typeof y === 'number');
  for (const key of ['params', 'states'] as const) {
    if (actual[key].length !== expected[key].length) return `${label}: ${actual[key].length} steps, reference ${expected[key].length}`;
    for (let step = 0; step < actual[key].length; step++) {
      const a = treeLeavesWithPath(actual[key][step], { isLeaf: isArr });
      const e = treeLeavesWithPath(expected[key][step], { isLeaf: isArr });
      const paths = a.map(([p]) => formatPath(p)).join(', ');
      const expectedPaths = e.map(([p]) => formatPath(p)).join(', ');
      if (paths !== expectedPaths) return `${label}: ${key} structure at step ${step}: ${paths}, reference ${expectedPaths}`;
      for (let i = 0; i < a.length; i++) {
        const [path, av] = a[i] as [never, unknown];
        const ev = (e[i] as [unknown, unknown])[1];
        const where = `${label}: ${key} ${formatPath(path)} at step ${step}`;
        const diff = Array.isArray(av)
          ? leafDifference(av as number[], ev as number[], where, tol, what)
          : Object.is(av, ev) || JSON.stringify(av) === JSON.stringify(ev)
            ? null
            : `${where}: ${what} ${JSON.stringify(av)}, reference ${JSON.stringify(ev)}`;
        if (diff !== null) return diff;
      }
    }
  }
  return null;
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
 * Every transformation exported by `@gradtx/core` that has a `fusion` field,
 * built with default options by trying a few argument lists, so new
 * element-wise transforms and aliases are covered as they land.
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
