// Narrow optimizer state (bfloat16, float16, block-wise int8) on webgpu: not
// available in this version (the codecs pack codes into int32 words, and
// tfjs-webgpu's int32 arithmetic runs in float32), and refused with a clear
// message rather than stored wrong.
import * as gx from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu } from './index.js';
import { onBackend } from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

describe('narrow state on webgpu', () => {
  // tfjs-webgpu computes int32 operations in float32, so codes cannot be packed into int32 words there with tfjs ops:
  // the transformations say so instead of storing wrong words
  for (const [name, make] of [
    ['scaleByAdam', () => gx.scaleByAdam({ muDtype: 'bfloat16', nuDtype: 'bfloat16' })],
    ['scaleByAdam', () => gx.scaleByAdam({ nuDtype: 'int8' })],
    ['trace', () => gx.trace({ decay: 0.9, accumulatorDtype: 'float16' })],
    ['multiSteps', () => gx.multiSteps(gx.scale(1), 2, { accumulatorDtype: 'bfloat16' })],
  ] as [string, () => gx.GradientTransformation][]) {
    it(`${name}: init refuses narrow state with a clear message, nothing leaked`, async () => {
      const params = { w: tf.tensor1d([1, 2, 3]) };
      const before = tf.memory().numTensors;
      expect(() => make().init(params)).toThrow(
        new RegExp(
          `^${name}: state stored as .* needs exact int32 tensor arithmetic to pack its codes, which the webgpu backend does not have`,
        ),
      );
      expect(tf.memory().numTensors).toBe(before);
      params.w.dispose();
    });
  }

  it('a state made on cpu is refused by update on webgpu, with the same message', async () => {
    const tx = gx.scaleByAdam({ muDtype: 'bfloat16' });
    const state = await onBackend('cpu', async () => tx.init({ w: tf.tensor1d([1, 2, 3]) }));
    expect(() => tx.update({ w: tf.tensor1d([1, 1, 1]) }, state)).toThrow('needs exact int32 tensor arithmetic');
  });
});
