// Conformance of the two owners of params and state: every step-based fixture
// case (fixtures/optax-transforms.json, optax-aliases.json,
// optax-combinators.json and torch.json) replayed through
// `createOptimizer(tx, params)` and `opt.step(grads)`, and through
// `asTfOptimizer(tx).applyGradients(grads)` on `tf.Variable`s (what
// model.fit and optimizer.minimize call), once on the tfjs `cpu` backend and
// once on `wasm`, the two backends where both take the fused engine (and,
// from the second step on, its in-place fast path). The params after every step are
// compared with the fixture's at the same tolerances as the `tx.update` +
// `applyUpdates` suites beside this file (the optimizer exposes no per-step
// updates; the params trajectory covers them). Each case also checks that no
// tensor is left once the optimizer and its params are disposed.
//
// Cases with `stateEdits` (injectHyperparams cases that set a hyperparameter
// in the state between steps) edit `opt.state` through createOptimizer, as a
// user changing the learning rate at run time does (the edit must reach the
// replayed fast path); asTfOptimizer has no such state to edit, and leaves
// them out. asTfOptimizer's params are a flat record of variables keyed by
// their names, so it replays the cases whose params are such a record (all
// but those with nested params trees, which createOptimizer covers).
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedStats } from '../fused/stats.js';
import { asTfOptimizer } from '../interop/tf-optimizer.js';
import type { Precision } from '../precision.js';
import { disposeTree } from '../test-utils/index.js';
import { isPlainObject, isTensor, treeLeaves } from '../tree.js';
import {
  buildTransformation,
  compare,
  decodeTree,
  type FixtureTree,
  readFixture,
  replayOptimizer,
  type StepCase,
  type Tolerance,
} from './loader.js';
import { optaxTolerance, TORCH } from './tolerances.js';

const SUITES: { name: string; cases: StepCase[]; tol: (c: StepCase) => Tolerance }[] = [
  ...['optax-transforms', 'optax-aliases', 'optax-combinators', 'optax-more'].map((name) => ({
    name,
    cases: readFixture<StepCase>(`${name}.json`).cases,
    tol: (c: StepCase) => optaxTolerance(c.family).params,
  })),
  { name: 'torch', cases: readFixture<StepCase>('torch.json').cases, tol: () => TORCH.params },
];

/** Whether a case edits the state between steps (only createOptimizer's state can be edited). */
const editsState = (c: StepCase): boolean => (c.stateEdits ?? []).length > 0;

/** The params after every step of each replay, flattened, by `route|backend|suite|case`. */
const trajectories = new Map<string, Float32Array[]>();

/** The values of a tree's tensor leaves, concatenated. */
function flatValues(tree: unknown): Float32Array {
  const parts = treeLeaves(tree)
    .filter(isTensor)
    .map((t) => t.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Replays a case through `createOptimizer` (core's harness), recording the params after each step under `key`. */
function replayRecorded(c: StepCase, tol: Tolerance, key: string, precision?: Precision): void {
  const steps: Float32Array[] = [];
  trajectories.set(key, steps);
  replayOptimizer(c, tol, undefined, { precision, afterStep: (params) => steps.push(flatValues(params)) });
}

/** Whether a case's params are a flat record of leaves (what asTfOptimizer's variables form); cases with extra arguments stay out, as applyGradients takes none. */
const flatParams = (c: StepCase): boolean =>
  isPlainObject(c.params) && !('shape' in c.params) && Object.values(c.params).every((t: FixtureTree) => isPlainObject(t) && 'shape' in t);

/** Runs a case's steps through `asTfOptimizer(tx).applyGradients` on variables named by the params' keys. */
function replayTfOptimizer(c: StepCase, tol: Tolerance): void {
  const before = tf.memory().numTensors;
  const init = decodeTree(c.params) as Record<string, tf.Tensor>;
  const vars: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(init)) vars[name] = tf.variable(t, true, name);
  disposeTree(init); // the variables hold the only reference to their buffers, as a model's do
  const opt = asTfOptimizer(buildTransformation(c));
  try {
    c.grads.forEach((g, i) => {
      const grads = decodeTree(g) as Record<string, tf.Tensor>;
      try {
        opt.applyGradients(grads);
      } finally {
        disposeTree(grads);
      }
      compare(`step ${i} params`, vars, c.expected[i]!.params, tol);
    });
  } finally {
    opt.dispose();
    disposeTree(Object.values(vars));
  }
  expect(tf.memory().numTensors, 'tensors left over after disposing the optimizer and its variables (leaked)').toBe(before);
}

/** Steps each replay ran on the fused engine, and on the reference path, by `route|backend|suite|case`. */
const fusedSteps = new Map<string, number>();
const referenceSteps = new Map<string, number>();

const EXACT = 'createOptimizer';
const FAST = "createOptimizer with precision 'fast'";
const ROUTES: { name: string; replay: (c: StepCase, tol: Tolerance, key: string) => void; takes: (c: StepCase) => boolean }[] = [
  { name: EXACT, replay: (c, tol, key) => replayRecorded(c, tol, key), takes: () => true },
  { name: 'asTfOptimizer', replay: replayTfOptimizer, takes: (c) => flatParams(c) && c.extras === undefined && !editsState(c) },
  { name: FAST, replay: (c, tol, key) => replayRecorded(c, tol, key, 'fast'), takes: () => true },
];

for (const [backend, route] of (['cpu', 'wasm'] as const).flatMap((b) => ROUTES.map((r) => [b, r] as const))) {
  describe(`${route.name} conformance on ${backend}`, () => {
    let fusedBefore = 0;
    beforeAll(async () => {
      if (backend === 'wasm') {
        const dir = createRequire(import.meta.url)
          .resolve('@tensorflow/tfjs-backend-wasm')
          .replace(/[^/\\]*$/, '');
        setWasmPaths(dir);
      }
      await tf.setBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      fusedBefore = fusedStats.fused + fusedStats.fast;
    });
    afterAll(async () => {
      // The cases did reach the fused engine on this backend.
      expect(fusedStats.fused + fusedStats.fast - fusedBefore).toBeGreaterThan(0);
      await tf.setBackend('cpu');
    });
    for (const suite of SUITES) {
      describe(suite.name, () => {
        for (const c of suite.cases.filter((c) => route.takes(c))) {
          it(c.id, () => {
            const before = fusedStats.fused + fusedStats.fast;
            const reference = fusedStats.reference;
            const key = `${route.name}|${backend}|${suite.name}|${c.id}`;
            route.replay(c, suite.tol(c), key);
            fusedSteps.set(key, fusedStats.fused + fusedStats.fast - before);
            referenceSteps.set(key, fusedStats.reference - reference);
          });
        }
      });
    }
  });
}

describe('asTfOptimizer and createOptimizer take the fused engine alike', () => {
  it('on every case both replay, on each backend, as many steps run fused through asTfOptimizer as through createOptimizer', () => {
    let compared = 0;
    let fused = 0;
    for (const [key, n] of fusedSteps) {
      if (!key.startsWith('asTfOptimizer|')) continue;
      const twin = fusedSteps.get(key.replace('asTfOptimizer|', 'createOptimizer|'));
      expect(n, key).toBe(twin);
      compared++;
      fused += n;
    }
    expect(compared).toBeGreaterThan(200);
    expect(fused).toBeGreaterThan(compared); // most cases run several fused steps
  });
});

describe('the combinator cases take the fused engine on every step', () => {
  it('masked, partition, multiTransform, applyIfFinite, injectHyperparams and multiSteps: no step on the reference path, on cpu and wasm', () => {
    const combinators = /^optax-combinators\|(masked|partition|multiTransform|applyIfFinite|injectHyperparams|multiSteps)/;
    let checked = 0;
    for (const [key, n] of referenceSteps) {
      const [route, backend, ...rest] = key.split('|');
      if (route === FAST || !combinators.test(rest.join('|'))) continue;
      expect(n, `${key}: steps on the reference path`).toBe(0);
      expect(fusedSteps.get(key), `${key}: fused steps`).toBeGreaterThan(0);
      checked += backend === 'cpu' || backend === 'wasm' ? 1 : 0;
    }
    expect(checked).toBeGreaterThanOrEqual(2 * 12);
  });
});

/** The distance between two float32 values in units in the last place (0 for equal values, Infinity when one is NaN). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || a === b) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.POSITIVE_INFINITY;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (i: number) => (i < 0 ? -2147483648 - i : i);
  return Math.abs(ordered(bits[0] as number) - ordered(bits[1] as number));
}

describe("precision 'fast' against the exact path", () => {
  it('over every fixture case and step, on cpu and wasm, the params stay within 1e-4 relative of the exact path (and pass the fixture tolerances, above)', () => {
    let worstUlps = 0;
    let worstRel = 0;
    let where = '';
    let compared = 0;
    let differing = 0;
    const spread: number[] = [];
    for (const [key, fast] of trajectories) {
      if (!key.startsWith(`${FAST}|`)) continue;
      const exact = trajectories.get(key.replace(`${FAST}|`, `${EXACT}|`)) as Float32Array[];
      fast.forEach((values, step) => {
        const ref = exact[step] as Float32Array;
        values.forEach((v, i) => {
          const e = ref[i] as number;
          compared++;
          const u = ulps(v, e);
          if (u > 0) {
            differing++;
            spread.push(u);
          }
          const rel = u === 0 ? 0 : e === 0 ? Math.abs(v) : Math.abs(v - e) / Math.abs(e);
          if (u > worstUlps) {
            worstUlps = u;
            where = `${key} step ${step} [${i}]: fast ${v}, exact ${e}`;
          }
          worstRel = Math.max(worstRel, rel);
        });
      });
    }
    process.stderr.write(
      `precision 'fast' vs exact over the fixtures: ${differing} of ${compared} params differ (median ${spread.sort((a, b) => a - b)[spread.length >> 1]} ulps, 99th percentile ${spread[Math.floor(spread.length * 0.99)]} ulps); largest ${worstUlps} ulps, ${worstRel.toExponential(2)} relative (${where})\n`,
    );
    expect(compared).toBeGreaterThan(1000);
    expect(differing).toBeGreaterThan(0); // the fast arithmetic did run
    // the largest deviations come from sign-sensitive bodies (yogi's sign(nu - g²)), where one ulp can flip a branch
    expect(worstRel).toBeLessThan(1e-4);
  });
});
