// Conformance with optax 0.2.8 of L-BFGS and the line searches: the cases of
// fixtures/optax-linesearch.json (made by fixtures/generate_optax_linesearch.py).
// Each step evaluates the case's objective (the same function, written here
// with tfjs ops) and its gradient at the current params with tf.valueAndGrads,
// calls update(grad, state, params, { value, grad, valueFn }) as optax's own
// L-BFGS tests do, and compares the updates and params with optax's. Every
// case runs through tx.update and through createOptimizer on cpu and wasm.
//
// Tolerances (stated): rtol 1e-5, atol 1e-6 of the tree's scale (the
// element-wise optimizers' OPTAX_STEPS for updates), except on the Rosenbrock
// function: there L-BFGS amplifies float32 rounding of the objective (which
// tfjs and XLA round differently) through its curvature pairs and the line
// search's interpolation, so that optax's own float32 and float64 runs differ
// by 3e-5 relative at step 5 (gradtx lands within 1e-7 of the float64 run
// there); those cases are held to rtol 1e-4, atol 1e-5.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradientTransformation, Params, Updates } from '../base.js';
import { createOptimizer } from '../optimizer.js';
import { disposeTree } from '../test-utils/index.js';
import { treeLeaves, treeMap } from '../tree.js';
import { applyUpdates } from '../update.js';
import { build, compare, decodeTree, type FixtureNumber, type FixtureTree, readFixture, type Tolerance } from './loader.js';

interface LinesearchCase {
  id: string;
  gradtx: unknown;
  optax: string;
  objective: 'rosenbrock' | 'logistic' | 'quadratic';
  data: Record<string, FixtureTree>;
  params: FixtureTree;
  expected: { updates: FixtureTree; params: FixtureTree; value: FixtureNumber }[];
}

const TIGHT: Tolerance = { rtol: 1e-5, atol: 1e-6 };
const ROSENBROCK: Tolerance = { rtol: 1e-4, atol: 1e-5 };
const tolerance = (c: LinesearchCase): Tolerance => (c.objective === 'rosenbrock' ? ROSENBROCK : TIGHT);

type Objective = (p: Params) => tf.Tensor;

/** The objectives of the generator, with tfjs ops (data decoded once per case). */
function objective(c: LinesearchCase, data: Record<string, unknown>): Objective {
  if (c.objective === 'rosenbrock') {
    return (p) =>
      tf.tidy(() => {
        const x = p as tf.Tensor1D;
        const n = x.shape[0];
        const head = tf.slice(x, [0], [n - 1]);
        const tail = tf.slice(x, [1], [n - 1]);
        return tf.sum(tf.add(tf.mul(100, tf.square(tf.sub(tail, tf.square(head)))), tf.square(tf.sub(1, head))));
      });
  }
  if (c.objective === 'logistic') {
    const x = data.x as tf.Tensor2D;
    const y = data.y as tf.Tensor1D;
    return (p) =>
      tf.tidy(() => {
        const { w, b } = p as { w: tf.Tensor1D; b: tf.Scalar };
        const z = tf.add(tf.reshape(tf.matMul(x, tf.reshape(w, [-1, 1])), [-1]), b);
        return tf.add(tf.mean(tf.softplus(tf.neg(tf.mul(y, z)))), tf.mul(0.01, tf.sum(tf.square(w))));
      });
  }
  const a = data.a as Record<string, tf.Tensor>;
  const cs = data.c as Record<string, tf.Tensor>;
  return (p) =>
    tf.tidy(() => {
      const tree = p as Record<string, tf.Tensor>;
      return Object.keys(tree)
        .sort()
        .map((k) => tf.mul(0.5, tf.sum(tf.mul(a[k] as tf.Tensor, tf.square(tf.sub(tree[k] as tf.Tensor, cs[k] as tf.Tensor))))))
        .reduce((s, t) => tf.add(s, t));
    });
}

const fixture = readFixture<LinesearchCase>('optax-linesearch.json');

/** Runs a case's steps; `step` applies one update and returns the new params (and the updates when it has them). */
function replayCase(c: LinesearchCase, step: (f: Objective, params: Params, value: tf.Tensor, grad: Updates) => [Params, Updates?]): void {
  const data = decodeTree(c.data as FixtureTree) as Record<string, unknown>;
  const f = objective(c, data);
  let params = decodeTree(c.params) as Params;
  try {
    c.expected.forEach((e, i) => {
      const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => f(rebuild(params, xs)) as tf.Scalar)(treeLeaves<tf.Tensor>(params));
      const grad = rebuild(params, grads);
      const [next, updates] = step(f, params, value, grad);
      disposeTree([value, grad]);
      if (updates !== undefined) {
        compare(`step ${i} updates`, updates, e.updates, tolerance(c));
        disposeTree(updates);
      }
      compare(`step ${i} params`, next, e.params, tolerance(c));
      if (next !== params) disposeTree(params);
      params = next;
    });
  } finally {
    disposeTree([params, data]);
  }
}

/** A tree with the structure of `like` and the given leaves (in leaf order). */
function rebuild(like: Params, leaves: tf.Tensor[]): Params {
  if (like instanceof tf.Tensor) return leaves[0] as tf.Tensor;
  const keys = Object.keys(like as object).sort();
  return Object.fromEntries(keys.map((k, i) => [k, leaves[i]])) as Params;
}

function viaUpdate(c: LinesearchCase): void {
  const before = tf.memory().numTensors;
  const tx = build(c.gradtx) as GradientTransformation;
  let state: unknown;
  replayCase(c, (f, params, value, grad) => {
    state ??= tx.init(params);
    const [updates, next] = tx.update(grad, state, params, { value, grad, valueFn: f });
    disposeTree(state);
    state = next;
    return [applyUpdates(params, updates), updates];
  });
  disposeTree(state);
  expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
}

function viaOptimizer(c: LinesearchCase): void {
  const before = tf.memory().numTensors;
  const tx = build(c.gradtx) as GradientTransformation;
  let opt: ReturnType<typeof createOptimizer> | undefined;
  replayCase(c, (f, params, value, grad) => {
    opt ??= createOptimizer(
      tx,
      treeMap((x: tf.Tensor) => tf.clone(x), params),
    );
    opt.step(grad, { value, grad, valueFn: f });
    // a copy the replay owns (it disposes the previous step's params)
    return [treeMap((x: tf.Tensor) => tf.clone(x), opt.params)];
  });
  const p = opt?.params;
  opt?.dispose();
  disposeTree(p);
  expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
}

describe(`optax conformance: L-BFGS and line searches through tx.update (${fixture.source})`, () => {
  for (const c of fixture.cases) it(`${c.id}: ${c.optax}`, () => viaUpdate(c));
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`L-BFGS and line searches through createOptimizer on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'wasm')
        setWasmPaths(
          createRequire(import.meta.url)
            .resolve('@tensorflow/tfjs-backend-wasm')
            .replace(/[^/\\]*$/, ''),
        );
      await tf.setBackend(backend);
      expect(tf.getBackend()).toBe(backend);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    for (const c of fixture.cases) it(c.id, () => viaOptimizer(c));
  });
}
