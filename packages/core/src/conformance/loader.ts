/**
 * Reads the conformance fixtures (`packages/core/fixtures/*.json`, made by
 * `fixtures/generate_optax.py` and `fixtures/generate_torch.py` from real
 * optax 0.2.8 and torch 1.13), builds each case's gradtx transformation from
 * its JSON description and replays the recorded steps against it.
 *
 * Test-only: imports `@gradtx/schedules` (a dev dependency) and is left out
 * of the build (`tsconfig.build.json`).
 */
import { readFileSync } from 'node:fs';
import * as schedules from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import * as gradtx from '../index.js';
import { disposeTree, expectTreeClose } from '../test-utils/index.js';
import { isTensor } from '../tree.js';

// ---------------------------------------------------------------------------
// fixture shapes

/** A float32 value as stored: a number, or a string for the non-finite ones. */
export type FixtureNumber = number | 'NaN' | 'Infinity' | '-Infinity';
/** A tensor leaf: its shape and its values in row-major order. */
export interface FixtureLeaf {
  shape: number[];
  data: FixtureNumber[];
}
/** A tree of tensor leaves (objects and arrays as in the params). */
export type FixtureTree = FixtureLeaf | FixtureTree[] | { [key: string]: FixtureTree };
/** The gradtx call of a case (see `build`). */
export type Expr = unknown;

/** A case replayed step by step (optax transforms/aliases/combinators, torch). */
export interface StepCase {
  id: string;
  family: string;
  gradtx: Expr;
  /** The optax twin, as evaluated by the generator (null: none). */
  optax?: string | null;
  /** The torch.optim optimizer (torch fixtures only). */
  torch?: string;
  /** Why the torch optimizer and the gradtx call agree (torch fixtures only). */
  mapping?: string;
  /** Whether `update` is given the params (optax raised without them). */
  needsParams: boolean;
  params: FixtureTree;
  grads: FixtureTree[];
  /** State changes made before a step (injectHyperparams). */
  stateEdits?: { beforeStep: number; path: (string | number)[]; value: number }[];
  /** Per step: the extra arguments of the update (e.g. the loss `value`), when the case has any. */
  extras?: Record<string, FixtureNumber>[];
  /** Per step: the updates (optax only) and the params after applying them. */
  expected: { updates?: FixtureTree; params: FixtureTree }[];
}

/** A schedule evaluated at a list of counts. */
export interface ScheduleCase {
  id: string;
  family: string;
  gradtx: Expr;
  optax: string;
  counts: number[];
  values: FixtureNumber[];
}

export interface Fixture<C> {
  source: string;
  generator: string;
  note: string;
  cases: C[];
}

/**
 * Reads `packages/core/fixtures/<name>`, or `<name>` in the folder `dir`
 * (a `file:` URL, e.g. another package's fixtures).
 */
export function readFixture<C>(name: string, dir: URL = new URL('../../fixtures/', import.meta.url)): Fixture<C> {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Fixture<C>;
}

// ---------------------------------------------------------------------------
// decoding

/** A stored value as a JS number (the strings stand for NaN and ±Infinity). */
export function decodeNumber(x: FixtureNumber): number {
  if (typeof x === 'number') return x;
  if (x === 'NaN') return Number.NaN;
  if (x === 'Infinity') return Number.POSITIVE_INFINITY;
  if (x === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new Error(`fixture: unexpected value ${JSON.stringify(x)}`);
}

function isLeaf(x: unknown): x is FixtureLeaf {
  return (
    x !== null &&
    typeof x === 'object' &&
    !Array.isArray(x) &&
    Array.isArray((x as FixtureLeaf).shape) &&
    Array.isArray((x as FixtureLeaf).data)
  );
}

/** A fixture tree as a tree of float32 tensors (the caller disposes them). */
export function decodeTree(tree: FixtureTree): gradtx.Tree {
  if (isLeaf(tree)) return tf.tensor(Float32Array.from(tree.data, decodeNumber), tree.shape, 'float32');
  if (Array.isArray(tree)) return tree.map(decodeTree);
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, decodeTree(v)]));
}

/** The largest finite magnitude in a fixture tree (0 if none). */
export function maxAbs(tree: FixtureTree | FixtureNumber[]): number {
  let m = 0;
  const visit = (t: unknown): void => {
    if (typeof t === 'number') m = Math.max(m, Math.abs(t));
    else if (isLeaf(t)) for (const v of t.data) visit(v);
    else if (Array.isArray(t)) for (const v of t) visit(v);
    else if (t !== null && typeof t === 'object') for (const v of Object.values(t)) visit(v);
  };
  visit(tree);
  return m;
}

// ---------------------------------------------------------------------------
// building the gradtx call

type AnyFn = (...args: unknown[]) => unknown;

/**
 * The modules whose exports a fixture's `tx` and `factory` names refer to,
 * searched in order: `@gradtx/core` alone by default; a package built on core
 * (e.g. `@gradtx/contrib`) passes its own namespace and core's.
 */
export type FixtureModules = readonly Record<string, unknown>[];

const CORE_ONLY: FixtureModules = [gradtx as unknown as Record<string, unknown>];

function exported(modules: FixtureModules, moduleName: string, name: unknown): AnyFn {
  if (typeof name !== 'string') throw new Error(`fixture: expected a name, got ${JSON.stringify(name)}`);
  const f = modules.find((m) => typeof m[name] === 'function')?.[name];
  if (typeof f !== 'function') throw new Error(`${moduleName} has no exported function \`${name}\``);
  return f as AnyFn;
}

/**
 * Builds a value from the fixtures' expression language:
 * - `{ tx: name, args }` calls `@gradtx/core`'s `name(...args)`;
 * - `{ schedule: name, args }` calls `@gradtx/schedules`' `name(...args)`;
 * - `{ fn: 'const', value }` is a function returning `value` (a mask or label function);
 * - `{ factory: name }` is `@gradtx/core`'s `name` itself, uncalled;
 * - `{ call: expr, args }` calls what `expr` builds;
 * - other objects and arrays are built member by member; numbers, strings,
 *   booleans and null are themselves.
 *
 * `tx` and `factory` names are looked up in `modules` (see {@link FixtureModules}).
 */
export function build(expr: Expr, modules: FixtureModules = CORE_ONLY): unknown {
  const sub = (x: Expr): unknown => build(x, modules);
  if (Array.isArray(expr)) return expr.map(sub);
  if (expr === null || typeof expr !== 'object') return expr;
  const e = expr as Record<string, unknown>;
  const args = (): unknown[] => ((e.args as Expr[] | undefined) ?? []).map(sub);
  if ('tx' in e) return exported(modules, '@gradtx/core', e.tx)(...args());
  if ('schedule' in e) return exported([schedules as unknown as Record<string, unknown>], '@gradtx/schedules', e.schedule)(...args());
  if ('factory' in e) return exported(modules, '@gradtx/core', e.factory);
  if ('call' in e) {
    const f = sub(e.call);
    if (typeof f !== 'function') throw new Error(`fixture: \`call\` of something that is not a function: ${JSON.stringify(e.call)}`);
    return (f as AnyFn)(...args());
  }
  if ('fn' in e) {
    if (e.fn !== 'const') throw new Error(`fixture: unknown function kind ${JSON.stringify(e.fn)}`);
    const value = sub(e.value);
    return () => value;
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, sub(v)]));
}

/** Sets `value` at `path` in a state (a tensor there is replaced by a float32 scalar). */
function setPath(state: unknown, path: (string | number)[], value: number): void {
  let node = state as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = node?.[key];
    if (next === null || typeof next !== 'object') throw new Error(`state edit: no \`${String(key)}\` on the way to ${path.join('.')}`);
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (!(last in node)) throw new Error(`state edit: the state has no \`${path.join('.')}\``);
  const old = node[last];
  if (isTensor(old)) {
    node[last] = tf.scalar(value, old.dtype);
    old.dispose();
  } else {
    node[last] = value;
  }
}

// ---------------------------------------------------------------------------
// replaying

/**
 * A float32 tolerance: element-wise `|actual - expected| <= atol' + rtol·|expected|`
 * with `atol' = atol · max(1, largest |expected| in the tree)`, so that an
 * element that cancels to near zero is held to the rounding of the values it
 * came from rather than to its own size.
 */
export interface Tolerance {
  rtol: number;
  atol: number;
}

export interface StepTolerances {
  updates: Tolerance;
  params: Tolerance;
}

function scaled(tol: Tolerance, expected: FixtureTree | FixtureNumber[]): Tolerance {
  return { rtol: tol.rtol, atol: tol.atol * Math.max(1, maxAbs(expected)) };
}

/**
 * Compares a tree of tensors with a fixture tree at `tol` (scaled as
 * `Tolerance` says); a mismatch throws an error prefixed with `what`.
 */
export function compare(what: string, actual: unknown, expected: FixtureTree, tol: Tolerance): void {
  const exp = decodeTree(expected);
  try {
    expectTreeClose(actual, exp, scaled(tol, expected));
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  } finally {
    disposeTree(exp);
  }
}

/** The extra arguments of step `i` of a case, decoded (undefined when the case has none). */
export function stepExtras(c: StepCase, i: number): gradtx.UpdateExtras | undefined {
  const e = c.extras?.[i];
  return e === undefined ? undefined : Object.fromEntries(Object.entries(e).map(([k, v]) => [k, decodeNumber(v)]));
}

/** Builds a step case's transformation, checking that it is one. */
export function buildTransformation(c: StepCase, modules: FixtureModules = CORE_ONLY): gradtx.GradientTransformation {
  const tx = build(c.gradtx, modules) as gradtx.GradientTransformation;
  if (tx === null || typeof tx !== 'object' || typeof tx.init !== 'function' || typeof tx.update !== 'function') {
    throw new Error(`${JSON.stringify(c.gradtx)} did not build a GradientTransformation`);
  }
  return tx;
}

/**
 * Replays a case: builds its transformation, runs `init` on the params and
 * `update` on each step's gradients (with the params when the case needs
 * them), applies the updates with `applyUpdates`, and compares the updates
 * (when recorded) and the new params with the fixture. Disposes the previous
 * step's tensors as a caller owning them would, and asserts that no tensor
 * is left over at the end.
 */
export function replay(c: StepCase, tol: StepTolerances, modules: FixtureModules = CORE_ONLY): void {
  const before = tf.memory().numTensors;
  const tx = buildTransformation(c, modules);
  let params = decodeTree(c.params) as gradtx.Params;
  let state: unknown = tx.init(params);
  const edits = new Map((c.stateEdits ?? []).map((e) => [e.beforeStep, e]));
  c.grads.forEach((g, i) => {
    const edit = edits.get(i);
    if (edit) setPath(state, edit.path, edit.value);
    const grads = decodeTree(g) as gradtx.Updates;
    const [updates, next] = tx.update(grads, state, c.needsParams ? params : undefined, stepExtras(c, i));
    const newParams = gradtx.applyUpdates(params, updates);
    const expected = c.expected[i]!;
    if (expected.updates !== undefined) compare(`step ${i} updates`, updates, expected.updates, tol.updates);
    compare(`step ${i} params`, newParams, expected.params, tol.params);
    disposeTree(grads);
    disposeTree(updates);
    disposeTree(params);
    disposeTree(state);
    params = newParams;
    state = next;
  });
  disposeTree(params);
  disposeTree(state);
  expect(tf.memory().numTensors, 'tensors left over after the last step (leaked)').toBe(before);
}

/**
 * Runs a case's steps through `createOptimizer(tx, params, { precision })`
 * and `opt.step` on the current backend (applying the case's state edits to
 * `opt.state` before their steps) and compares the params after each
 * step with the fixture's (handing them to `afterStep` when given); asserts
 * that nothing is left once the optimizer and its params are disposed.
 */
export function replayOptimizer(
  c: StepCase,
  tol: Tolerance,
  modules: FixtureModules = CORE_ONLY,
  options: { precision?: gradtx.Precision; afterStep?: (params: gradtx.Params) => void } = {},
): void {
  const before = tf.memory().numTensors;
  const opt = gradtx.createOptimizer(buildTransformation(c, modules), decodeTree(c.params) as gradtx.Params, {
    precision: options.precision,
  });
  const edits = new Map((c.stateEdits ?? []).map((e) => [e.beforeStep, e]));
  try {
    c.grads.forEach((g, i) => {
      // a hyperparameter set in the optimizer's state between steps (injectHyperparams) takes effect on the next step
      const edit = edits.get(i);
      if (edit) setPath(opt.state, edit.path, edit.value);
      const grads = decodeTree(g) as gradtx.Updates;
      try {
        opt.step(grads, stepExtras(c, i));
      } finally {
        disposeTree(grads);
      }
      compare(`step ${i} params`, opt.params, c.expected[i]!.params, tol);
      options.afterStep?.(opt.params);
    });
  } finally {
    const params = opt.params;
    opt.dispose();
    disposeTree(params);
  }
  expect(tf.memory().numTensors, 'tensors left over after disposing the optimizer and its params (leaked)').toBe(before);
}

/** Evaluates a schedule case at its counts and compares with optax's values. */
export function replaySchedule(c: ScheduleCase, tol: Tolerance): void {
  const fn = build(c.gradtx);
  if (typeof fn !== 'function') throw new Error(`${JSON.stringify(c.gradtx)} did not build a schedule`);
  const actual = c.counts.map((n) => (fn as (count: number) => number)(n));
  for (const v of actual) expect(typeof v, 'a schedule returns a plain number').toBe('number');
  expectTreeClose(actual, c.values.map(decodeNumber), scaled(tol, c.values));
}
