// Core's conformance fixtures (packages/core/fixtures: optax 0.2.8 and
// torch.optim 1.13) on the tensorflow backend, with core's own loader and
// tolerances: every step case replayed on core's reference path with
// TensorFlow kernels, and through createNodeOptimizer (the flat path), whose
// params are compared after every step. The schedule fixtures hold no
// tensors (they are the same on every backend) and are left to core.
// Without the tfjs-node binding these tests are registered as skipped.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
// core's conformance loader is test-only (not in core's build): read from its source
import {
  build,
  decodeTree,
  type FixtureTree,
  maxAbs,
  readFixture,
  replay,
  type StepCase,
  type StepTolerances,
} from '../../core/src/conformance/loader.js';
import { optaxTolerance, TORCH } from '../../core/src/conformance/tolerances.js';
import { createNodeOptimizer } from './optimizer.js';
import { describeTensorflow, switchToTensorflow } from './test-utils/native.js';
import { expectClose } from './test-utils/trees.js';

const gate = await switchToTensorflow('conformance.tensorflow.test.ts');

const FILES: [string, (c: StepCase) => StepTolerances][] = [
  ['optax-transforms.json', (c) => optaxTolerance(c.family)],
  ['optax-aliases.json', (c) => optaxTolerance(c.family)],
  ['optax-combinators.json', (c) => optaxTolerance(c.family)],
  ['torch.json', () => TORCH],
];

/** How the flat replays ran: flattened (all stages flat, or some on the tree) or on the tree. */
const paths = { allFlat: 0, mixed: 0, tree: 0 };

/** Replays a case through createNodeOptimizer, comparing the params after every step with the fixture. */
function replayFlat(c: StepCase, tol: StepTolerances): void {
  const before = tf.memory().numTensors;
  const tx = build(c.gradtx) as Parameters<typeof createNodeOptimizer>[0];
  const opt = createNodeOptimizer(tx, decodeTree(c.params) as never);
  if (!opt.flattened) paths.tree++;
  else if (opt.reason.includes('see the tree')) paths.mixed++;
  else paths.allFlat++;
  try {
    c.grads.forEach((g, i) => {
      const grads = decodeTree(g);
      opt.step(grads as never);
      tf.dispose(grads as tf.TensorContainer);
      const expected = c.expected[i]!.params as FixtureTree;
      try {
        expectClose(opt.params, decodeExpected(expected), { rtol: tol.params.rtol, atol: tol.params.atol * Math.max(1, maxAbs(expected)) });
      } catch (e) {
        throw new Error(`step ${i} params (${opt.reason}): ${(e as Error).message}`);
      }
    });
  } finally {
    const last = opt.params;
    opt.dispose();
    tf.dispose(last as tf.TensorContainer);
  }
  expect(tf.memory().numTensors, 'tensors left over after the last step (leaked)').toBe(before);
}

/** A fixture tree as nested arrays (no tensors), for comparison. */
function decodeExpected(t: FixtureTree): unknown {
  const tensors = decodeTree(t);
  const toArrays = (x: unknown): unknown =>
    x instanceof tf.Tensor
      ? x.arraySync()
      : Array.isArray(x)
        ? x.map(toArrays)
        : x !== null && typeof x === 'object'
          ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toArrays(v)]))
          : x;
  const out = toArrays(tensors);
  tf.dispose(tensors as tf.TensorContainer);
  return out;
}

describeTensorflow(gate)('core conformance fixtures on the tensorflow backend', () => {
  for (const [file, tolerance] of FILES) {
    const fixture = readFixture<StepCase>(file);
    for (const c of fixture.cases) {
      it(`${file} ${c.id}: core reference path`, () => {
        expect(tf.getBackend()).toBe('tensorflow');
        replay(c, tolerance(c));
      });
      if (c.stateEdits === undefined) {
        // (cases that edit the state between steps, for injectHyperparams, need a state
        // an optimizer does not hand out for writing: the reference replay above covers them)
        it(`${file} ${c.id}: createNodeOptimizer (flat path)`, () => replayFlat(c, tolerance(c)));
      }
    }
  }
  it('most cases ran on the flat path', () => {
    console.log(
      `node-gpu: fixture cases through createNodeOptimizer: ${paths.allFlat} all flat, ${paths.mixed} flat with some stages on the tree, ${paths.tree} on the tree`,
    );
    expect(paths.allFlat + paths.mixed).toBeGreaterThan(3 * paths.tree);
  });
});
