// Conformance with optax 0.2.8 of the monitoring transforms, per-example and
// unit-wise clipping and the optax.tree moment helpers: the cases of
// fixtures/optax-functions.json (made by fixtures/generate_optax_functions.py).
// Call cases run fn(...args) once; monitor cases run update for each step and
// compare the measurements in the state (and that the updates pass through).
// Tolerance: rtol 2e-6, atol 1e-6 of the tree's scale for a single
// evaluation; the monitor cases (moving averages over 4-5 steps) use the
// element-wise optimizers' OPTAX_STEPS update tolerance. Each case checks
// that nothing leaks.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import * as gradtx from '../index.js';
import { disposeTree } from '../test-utils/index.js';
import { build, compare, decodeTree, type FixtureTree, readFixture } from './loader.js';
import { OPTAX_STEPS } from './tolerances.js';

interface CallCase {
  id: string;
  kind: 'call';
  fn: string;
  optax: string;
  args: unknown[];
  expected: FixtureTree;
}
interface MonitorCase {
  id: string;
  kind: 'monitor';
  gradtx: unknown;
  optax: string;
  statePath: string[];
  params: FixtureTree;
  grads: FixtureTree[];
  expected: FixtureTree[];
}

const fixture = readFixture<CallCase | MonitorCase>('optax-functions.json');
const ONE_PASS = { rtol: 2e-6, atol: 1e-6 };

/** A fixture argument: a tree (an object) is decoded to tensors; numbers, booleans and lists of numbers stay. */
const decodeArg = (a: unknown): unknown => (a !== null && typeof a === 'object' && !Array.isArray(a) ? decodeTree(a as FixtureTree) : a);

function runCall(c: CallCase): void {
  const fn = (gradtx as unknown as Record<string, (...a: unknown[]) => unknown>)[c.fn];
  if (typeof fn !== 'function') throw new Error(`@gradtx/core has no function ${c.fn}`);
  const args = c.args.map(decodeArg);
  const before = tf.memory().numTensors;
  const out = fn(...args);
  try {
    compare(c.id, out, c.expected, ONE_PASS);
  } finally {
    disposeTree([out, args]);
  }
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before - gradtx.treeLeaves(args).filter(gradtx.isTensor).length);
}

function runMonitor(c: MonitorCase): void {
  const before = tf.memory().numTensors;
  const tx = build(c.gradtx) as GradientTransformation;
  const params = decodeTree(c.params);
  let state = tx.init(params as gradtx.Params);
  c.grads.forEach((g, i) => {
    const grads = decodeTree(g);
    const [updates, next] = tx.update(grads as gradtx.Updates, state, params as gradtx.Params);
    compare(`step ${i} updates (passed through)`, updates, g, ONE_PASS);
    const measured = c.statePath.reduce((node: unknown, k) => (node as Record<string, unknown>)[k], next);
    compare(`step ${i} measurements`, measured, c.expected[i] as FixtureTree, OPTAX_STEPS.updates);
    disposeTree([grads, updates, state]);
    state = next;
  });
  disposeTree([state, params]);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
}

describe(`optax conformance: monitoring, per-example and unit-wise clipping, tree moments (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => (c.kind === 'call' ? runCall(c) : runMonitor(c)));
  }
});
