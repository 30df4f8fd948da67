import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { makeFenchelYoungLoss, softmaxCrossEntropy } from './index.js';

// optax's own check: with logsumexp the Fenchel-Young loss is the softmax cross-entropy.
describe('makeFenchelYoungLoss', () => {
  it('with logsumexp equals softmaxCrossEntropy, and checks maxFun', () => {
    const scores = tf.tensor2d([
      [1, -2, 0.5],
      [3, 0.1, -1],
    ]);
    const targets = tf.tensor2d([
      [0.2, 0.3, 0.5],
      [1, 0, 0],
    ]);
    const before = tf.memory().numTensors;
    const fy = makeFenchelYoungLoss((x) => tf.logSumExp(x, -1));
    const a = fy(scores, targets);
    const b = softmaxCrossEntropy(scores, targets);
    const [x, y] = [Array.from(a.dataSync()), Array.from(b.dataSync())];
    x.forEach((v, i) => {
      expect(v).toBeCloseTo(y[i] as number, 5);
    });
    expect(() => makeFenchelYoungLoss((s) => tf.sum(s))(scores, targets)).toThrow(/must map scores \[2, 3\] to shape \[2\]/);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([scores, targets]);
  });
});
