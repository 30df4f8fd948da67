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
// Left out, by rule: cases with `stateEdits` (injectHyperparams cases that
// set a hyperparameter in the state between steps). The optimizer owns its
// state and may update it in place, so a test cannot edit it between steps;
// those cases stay covered by optax-combinators.test.ts. asTfOptimizer's
// params are a flat record of variables keyed by their names, so it replays
// the cases whose params are such a record (all but those with nested
// params trees, which createOptimizer covers).
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Params, Updates } from '../base.js';
import { fusedStats } from '../fused/engine.js';
import { asTfOptimizer } from '../interop/tf-optimizer.js';
import { createOptimizer } from '../optimizer.js';
import { disposeTree } from '../test-utils/index.js';
import { isPlainObject } from '../tree.js';
import { buildTransformation, compare, decodeTree, type FixtureTree, readFixture, type StepCase, type Tolerance } from './loader.js';
import { optaxTolerance, TORCH } from './tolerances.js';

const SUITES: { name: string; cases: StepCase[]; tol: (c: StepCase) => Tolerance }[] = [
  ...['optax-transforms', 'optax-aliases', 'optax-combinators'].map((name) => ({
    name,
    cases: readFixture<StepCase>(`${name}.json`).cases,
    tol: (c: StepCase) => optaxTolerance(c.family).params,
  })),
  { name: 'torch', cases: readFixture<StepCase>('torch.json').cases, tol: () => TORCH.params },
];

/** The rule for leaving a case out: it edits the state between steps. */
const editsState = (c: StepCase): boolean => (c.stateEdits ?? []).length > 0;

/** Runs a case's steps through `createOptimizer` and compares the params after each. */
function replayOptimizer(c: StepCase, tol: Tolerance): void {
  const before = tf.memory().numTensors;
  const opt = createOptimizer(buildTransformation(c), decodeTree(c.params) as Params);
  try {
    c.grads.forEach((g, i) => {
      const grads = decodeTree(g) as Updates;
      try {
        opt.step(grads);
      } finally {
        disposeTree(grads);
      }
      compare(`step ${i} params`, opt.params, c.expected[i]!.params, tol);
    });
  } finally {
    const params = opt.params;
    opt.dispose();
    disposeTree(params);
  }
  expect(tf.memory().numTensors, 'tensors left over after disposing the optimizer and its params (leaked)').toBe(before);
}

/** Whether a case's params are a flat record of leaves (what asTfOptimizer's variables form). */
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

/** Steps each replay ran on the fused engine, by `route|backend|suite|case`. */
const fusedSteps = new Map<string, number>();

const ROUTES = [
  { name: 'createOptimizer', replay: replayOptimizer, takes: (_: StepCase) => true },
  { name: 'asTfOptimizer', replay: replayTfOptimizer, takes: flatParams },
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
        for (const c of suite.cases.filter((c) => !editsState(c) && route.takes(c))) {
          it(c.id, () => {
            const before = fusedStats.fused + fusedStats.fast;
            route.replay(c, suite.tol(c));
            fusedSteps.set(`${route.name}|${backend}|${suite.name}|${c.id}`, fusedStats.fused + fusedStats.fast - before);
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
