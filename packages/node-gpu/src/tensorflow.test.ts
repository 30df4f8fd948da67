// The tensorflow backend for real (tfjs-node built by scripts/build-tfjs-node.sh):
// selection and report, the flattened optimizer against core's reference
// path on the cpu backend, and the native calls per step. Without the
// binding these tests are registered as skipped and one line says why.
import {
  adam,
  adamw,
  chain,
  clipByGlobalNorm,
  createOptimizer,
  type GradientTransformation,
  type Params,
  sgd,
  treeMap,
} from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { useNodeBackend } from './backend.js';
import { countNativeCalls } from './native.js';
import { createNodeOptimizer } from './optimizer.js';
import { describeTensorflow, NATIVE_DIR, switchToTensorflow } from './test-utils/native.js';
import { expectClose, F32_STEPS, manyShapes, runSteps, SHAPES, toArrays, tree } from './test-utils/trees.js';

const gate = await switchToTensorflow('tensorflow.test.ts');

/** The three chains the brief names: adam, adamw + clipByGlobalNorm, sgd with momentum. */
const CHAINS: [string, () => GradientTransformation][] = [
  ['adam', () => adam(0.1)],
  ['adamw + clipByGlobalNorm', () => chain(clipByGlobalNorm(1), adamw(0.05, { weightDecay: 0.1 }))],
  ['sgd with momentum', () => sgd(0.1, { momentum: 0.9 })],
];

/** Grads already held by TensorFlow (as a model's gradients are), so counting sees no uploads of them. */
function nativeGrads(shapes: unknown, seed: number): Params {
  const g = tree(shapes, seed, 2);
  const out = treeMap((x: tf.Tensor) => tf.mul(x, 1), g) as Params;
  tf.dispose(g as tf.TensorContainer);
  return out;
}

describeTensorflow(gate)('the tensorflow backend (tfjs-node)', () => {
  it('is selected and reported', async () => {
    const info = gate.info!;
    expect(info.backend).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(info.package).toBe('@tensorflow/tfjs-node');
    expect(info.device).toBe('cpu');
    // prefer 'gpu': tfjs-node-gpu is not installed here, so tfjs-node on the CPU, and the report says so
    expect(info.attempts).toEqual([{ package: '@tensorflow/tfjs-node-gpu', resolved: null, error: 'not installed' }]);
    expect(info.reason).toBe(
      'using the tensorflow backend from @tensorflow/tfjs-node on the CPU (@tensorflow/tfjs-node-gpu could not be used; see `attempts`)',
    );
    // once loaded, a second call reports the same backend without loading anything
    const again = await useNodeBackend({ prefer: 'cpu', searchPaths: [NATIVE_DIR] });
    expect(again).toEqual({
      backend: 'tensorflow',
      device: 'cpu',
      package: '@tensorflow/tfjs-node',
      reason: 'using the tensorflow backend from @tensorflow/tfjs-node on the CPU',
      attempts: [],
    });
    const x = tf.tensor([1, 2, 3]);
    const { calls } = countNativeCalls(() => tf.dispose(tf.add(x, x)));
    expect(calls.ops).toBe(1);
    x.dispose();
  });

  for (const [name, make] of CHAINS) {
    it(`${name}: the flattened optimizer matches core's reference path on the cpu backend`, async () => {
      await tf.setBackend('cpu');
      const ref = runSteps((p) => createOptimizer(make(), p, { fused: false }), SHAPES, 5);
      await tf.setBackend('tensorflow');
      const before = tf.memory().numTensors;
      let reason = '';
      const got = runSteps(
        (p) => {
          const opt = createNodeOptimizer(make(), p);
          reason = opt.reason;
          expect(opt.flattened).toBe(true);
          return opt;
        },
        SHAPES,
        5,
      );
      expect(reason).toMatch(/^steps run on one flat buffer on the tensorflow backend/);
      got.params.forEach((p, i) => {
        expectClose(p, ref.params[i], F32_STEPS);
      });
      expectClose(got.state, ref.state, F32_STEPS);
      expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    });
  }

  for (const [name, make] of CHAINS) {
    it(`${name}: a step costs the same native calls for 4, 16 and 64 leaves (core's tree path grows with them)`, () => {
      const rows: { leaves: number; flat: number; flatUploads: number; split: number; tree: number }[] = [];
      for (const leaves of [4, 16, 64]) {
        const shapes = manyShapes(leaves);
        const flatOpt = createNodeOptimizer(make(), tree(shapes, 1));
        const treeOpt = createOptimizer(make(), tree(shapes, 1));
        const g0 = nativeGrads(shapes, 2);
        // the first step and read upload the constant index, size and shape tensors
        flatOpt.step(g0);
        void flatOpt.params;
        treeOpt.step(g0);
        const g = nativeGrads(shapes, 3);
        const flat = countNativeCalls(() => flatOpt.step(g)).calls;
        const read = countNativeCalls(() => flatOpt.params).calls;
        const ref = countNativeCalls(() => treeOpt.step(g)).calls;
        // one gather, no split in the step itself (params are split when read)
        expect(flat.opNames.filter((n) => n === 'DynamicStitch')).toHaveLength(1);
        expect(flat.opNames.filter((n) => n === 'SplitV')).toHaveLength(0);
        // reading the params: one SplitV plus one Reshape per leaf that is not 1-D (3 of every 4 here)
        expect(read.ops).toBe(1 + (leaves * 3) / 4);
        expect(read.uploads, 'the split sizes and shapes were uploaded at the first read').toBe(0);
        rows.push({ leaves, flat: flat.ops, flatUploads: flat.uploads, split: read.ops, tree: ref.ops });
        const p1 = flatOpt.params;
        const p2 = treeOpt.params;
        flatOpt.dispose();
        treeOpt.dispose();
        tf.dispose([g0, g, p1, p2] as tf.TensorContainer);
      }
      console.log(
        `node-gpu: native calls per step, ${name}: ${rows.map((r) => `${r.leaves} leaves: ${r.flat} ops + ${r.flatUploads} uploads flat (split on read: ${r.split}), ${r.tree} ops on the tree`).join('; ')}`,
      );
      const [a, b, c] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
      expect([b.flat, c.flat], 'flat step ops for 16 and 64 leaves vs 4').toEqual([a.flat, a.flat]);
      expect([b.flatUploads, c.flatUploads], 'flat step uploads for 16 and 64 leaves vs 4').toEqual([a.flatUploads, a.flatUploads]);
      expect(a.flat).toBeLessThan(40);
      // the tree path costs at least one op per leaf per stage: 16x the leaves, 16x... well over 8x the ops
      expect(c.tree).toBeGreaterThan(8 * a.tree);
      expect(c.tree).toBeGreaterThan(10 * c.flat);
    });
  }

  it('tf.Variable params: assigned after every step (a split per step) and equal to the reference', async () => {
    await tf.setBackend('cpu');
    const ref = runSteps((p) => createOptimizer(adam(0.1), p, { fused: false }), SHAPES, 3);
    await tf.setBackend('tensorflow');
    const init = tree(SHAPES, 1);
    const vars = treeMap((x: tf.Tensor) => tf.variable(x), init) as Params;
    tf.dispose(init as tf.TensorContainer);
    const before = tf.memory().numTensors;
    const opt = createNodeOptimizer(adam(0.1), vars);
    for (let i = 0; i < 3; i++) {
      const g = tree(SHAPES, 100 + i, 2);
      const { calls } = countNativeCalls(() => opt.step(g));
      // the split (SplitV) and a Reshape for each of the 3 leaves (of 4) that are not 1-D
      expect(calls.opNames.filter((n) => n === 'SplitV')).toHaveLength(1);
      expect(calls.opNames.filter((n) => n === 'Reshape')).toHaveLength(3);
      tf.dispose(g as tf.TensorContainer);
      expectClose(vars, ref.params[i], F32_STEPS);
    }
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(toArrays(vars)).toBeTruthy();
    tf.dispose(vars as tf.TensorContainer);
  });
});
