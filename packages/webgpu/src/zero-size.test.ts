// The reference path on webgpu with zero-size leaves: reductions over a tree
// that holds a [0] leaf (global norms, trust ratios, block norms) work and
// agree with the cpu reference path.
import * as gx from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu } from './index.js';
import { expectNoGpuErrors, expectTracesClose, GPU_TOL, onBackend, randomTree, rng, run } from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

const SHAPES = { a: [5], z: [0], m: [2, 3] };

const cases: [string, () => gx.GradientTransformation][] = [
  ['clipByGlobalNorm', () => gx.clipByGlobalNorm(0.5)],
  ['scaleByTrustRatio', () => gx.scaleByTrustRatio()],
  ['scaleByParamBlockNorm', () => gx.scaleByParamBlockNorm()],
  ['scaleByParamBlockRms', () => gx.scaleByParamBlockRms()],
  ['normalizeByUpdateNorm', () => gx.normalizeByUpdateNorm()],
  ['lamb', () => gx.lamb(0.01)],
];

describe('zero-size leaves on the webgpu reference path', () => {
  for (const [name, make] of cases) {
    it(`${name}: a tree with a [0] leaf steps as on cpu`, async () => {
      const params = randomTree(rng(1), SHAPES);
      const grads = [randomTree(rng(2), SHAPES), randomTree(rng(3), SHAPES)];
      const expected = await onBackend('cpu', () => run(make(), params, grads, 'reference'));
      const before = tf.memory().numTensors;
      const got = await expectNoGpuErrors(() => run(make(), params, grads, 'reference'));
      expectTracesClose(got, expected, name, GPU_TOL);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
