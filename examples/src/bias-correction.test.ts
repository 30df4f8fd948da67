import { scaleByAdam } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  biasCorrectionChart,
  effectiveStepSizes,
  gradientStream,
  runBiasCorrection,
  scaleByAdamUncorrected,
  uncorrectedConstantStep,
} from './bias-correction.js';
import { parseXml } from './test-utils/xml.js';

describe('bias-correction example', () => {
  it('without correction, a constant gradient gives the closed-form step (1 - b1^t) / sqrt(1 - b2^t)', () => {
    const grads = gradientStream('constant', 20, 4);
    const steps = effectiveStepSizes(scaleByAdamUncorrected(), grads);
    steps.forEach((s, i) => {
      // float32 moments: relative error a few 1e-7; 1e-5 leaves room for eps = 1e-8.
      expect(s).toBeCloseTo(uncorrectedConstantStep(i + 1), 5);
    });
    expect(uncorrectedConstantStep(1)).toBeCloseTo(0.1 / Math.sqrt(0.001), 12);
  });

  it('with correction (scaleByAdam), a constant gradient gives a step of α from step 1', () => {
    const steps = effectiveStepSizes(scaleByAdam(), gradientStream('constant', 20, 4));
    // Not exactly 1: in float32, 1 - b2 (0.001000000047) and optax's 1 - b2^1
    // (0.000999987) differ by 1.3e-5 relative, so the first steps are 1 - 7e-6.
    for (const s of steps) expect(s).toBeCloseTo(1, 4);
  });

  it('on the noisy stream the uncorrected first step is 0.1/sqrt(0.001) ≈ 3.16× the corrected one, and stays larger', () => {
    const r = runBiasCorrection({ steps: 10, size: 64, seed: 3 });
    expect(r.noisy.corrected[0]).toBeCloseTo(1, 4);
    expect(r.noisy.uncorrected[0]).toBeCloseTo(3.16228, 4);
    r.noisy.uncorrected.forEach((u, i) => {
      expect(u).toBeGreaterThan(r.noisy.corrected[i] as number);
    });
    parseXml(biasCorrectionChart(r));
  });

  it('the hand-written transform is pure and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const tx = scaleByAdamUncorrected({ b1: 0.5, b2: 0.9 });
    const params = { w: tf.zeros([3]) };
    const g = { w: tf.tensor1d([1, -2, 3]) };
    const state = tx.init(params);
    const [u, next] = tx.update(g, state, params);
    // One step: mu = 0.5 g, nu = 0.1 g², u = mu / (sqrt(nu) + eps) = 0.5 / sqrt(0.1) · sign(g).
    expect(Array.from((u as { w: tf.Tensor }).w.dataSync())).toEqual([1, -1, 1].map((s) => expect.closeTo((s * 0.5) / Math.sqrt(0.1), 5)));
    expect(Array.from((state.mu as { w: tf.Tensor }).w.dataSync())).toEqual([0, 0, 0]);
    tf.dispose([u as tf.TensorContainer, next as tf.TensorContainer, state as tf.TensorContainer, params.w, g.w]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
