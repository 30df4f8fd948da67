import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { matrixInversePthRoot } from './matrix-inverse-root.js';

describe('matrixInversePthRoot', () => {
  it('gives H with H^p A close to the identity, leaking nothing', () => {
    const a = tf.tensor2d([4, 1, 0, 1, 3, 0.5, 0, 0.5, 2], [3, 3]);
    const before = tf.memory().numTensors;
    const [h, error] = matrixInversePthRoot(a, 2);
    const check = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.matMul(tf.matMul(h, h), a), tf.eye(3)))));
    expect(check.dataSync()[0]).toBeLessThan(1e-4);
    expect(error.dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([h, error, check]);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
  it('refuses what optax cannot compute, naming it', () => {
    const a = tf.eye(2);
    expect(() => matrixInversePthRoot(a, 3)).toThrow(/matrixInversePthRoot: `p` must be 1, 2, 4 or 8 .*got 3/);
    expect(() => matrixInversePthRoot(tf.zeros([2, 3]), 2)).toThrow(/matrixInversePthRoot: `matrix` must be a square float32 matrix/);
    expect(() => matrixInversePthRoot(a, 2, { numIters: -1 })).toThrow(/matrixInversePthRoot: `numIters` must be an integer >= 0/);
    expect(() => matrixInversePthRoot(a, 2, { tol: 1 } as never)).toThrow(/matrixInversePthRoot: unknown option/);
    a.dispose();
  });
});
