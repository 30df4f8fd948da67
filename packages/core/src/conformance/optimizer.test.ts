// Conformance of the training-loop helper: every step-based fixture case
// (fixtures/optax-transforms.json, optax-aliases.json, optax-combinators.json
// and torch.json) replayed through `createOptimizer(tx, params)` and
// `opt.step(grads)`, once on the tfjs `cpu` backend and once on `wasm`, the
// two backends where the optimizer takes the fused engine (and, from the
// second step on, its in-place fast path). The params after every step are
// compared with the fixture's at the same tolerances as the `tx.update` +
// `applyUpdates` suites beside this file (the optimizer exposes no per-step
// updates; the params trajectory covers them). Each case also checks that no
// tensor is left once the optimizer and its params are disposed.
//
// Left out, by rule: cases with `stateEdits` (injectHyperparams cases that
// set a hyperparameter in the state between steps). The optimizer owns its
// state and may update it in place, so a test cannot edit it between steps;
// those cases stay covered by optax-combinators.test.ts.
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Params, Updates } from '../base.js';
import { fusedStats } from '../fused/stats.js';
import { createOptimizer } from '../optimizer.js';
import { disposeTree } from '../test-utils/index.js';
import { buildTransformation, compare, decodeTree, readFixture, type StepCase, type Tolerance } from './loader.js';
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

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`createOptimizer conformance on ${backend}`, () => {
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
        for (const c of suite.cases.filter((c) => !editsState(c))) {
          it(c.id, () => replayOptimizer(c, suite.tol(c)));
        }
      });
    }
  });
}
