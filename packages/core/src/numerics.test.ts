// The gradients that make safeNorm, safeRootMeanSquares and scaleGradient
// what they are (their values are checked against optax in
// conformance/optax-functions.test.ts).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { nnls, powerIteration, safeNorm, safeRootMeanSquares, scaleGradient } from './index.js';

const values = (x: tf.Tensor) => Array.from(x.dataSync());

describe('gradient-safe norms and scaleGradient', () => {
  it('safeNorm and safeRootMeanSquares have a zero gradient (not NaN) where they are clamped', () => {
    const before = tf.memory().numTensors;
    const zeros = tf.zeros([3]);
    const [g1, g2] = [tf.grad((x: tf.Tensor) => safeNorm(x, 0.1))(zeros), tf.grad((x: tf.Tensor) => safeRootMeanSquares(x, 0.1))(zeros)];
    expect(values(g1)).toEqual([0, 0, 0]);
    expect(values(g2)).toEqual([0, 0, 0]);
    const x = tf.tensor1d([3, 4]);
    const g3 = tf.grad((v: tf.Tensor) => safeNorm(v, 0.1))(x);
    expect(values(g3)).toEqual([0.6000000238418579, 0.800000011920929]);
    tf.dispose([zeros, g1, g2, x, g3]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('scaleGradient is the identity forwards and scales the gradient', () => {
    const x = tf.tensor1d([1, -2, 3]);
    const y = scaleGradient({ x }, 0.5).x;
    expect(values(y)).toEqual([1, -2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(scaleGradient(v, 0.5))))(x);
    expect(values(g)).toEqual([1, -2, 3]);
    const g0 = tf.grad((v: tf.Tensor) => tf.sum(tf.square(scaleGradient(v, 0))))(x);
    expect(values(g0)).toEqual([0, 0, 0]);
    expect(scaleGradient({ x }, 1).x).toBe(x);
    tf.dispose([x, y, g, g0]);
  });

  it('says what is wrong', () => {
    const x = tf.ones([2, 2]);
    expect(() => safeNorm(x, 0.1, 1, [0, 1])).toThrow(/safeNorm: `ord` 1 over 2 axes is a matrix norm/);
    expect(() => safeNorm(x, 0.1, null, 2)).toThrow('safeNorm: `axis` 2 is out of range for rank 2');
    expect(() => safeNorm(x, Number.NaN)).toThrow('safeNorm: `minNorm` must be a finite number, got NaN');
    expect(() => scaleGradient(x, Number.POSITIVE_INFINITY)).toThrow('scaleGradient: `scale` must be a finite number, got Infinity');
    tf.dispose(x);
  });

  it('powerIteration takes a linear map on trees and checks its arguments; nothing leaks', () => {
    const before = tf.memory().numTensors;
    const d = tf.tensor1d([3, 1, 0.5]);
    const v0 = { a: tf.tensor1d([1, 1]), b: tf.tensor1d([1]) };
    const [eig, v] = powerIteration(
      (x: { a: tf.Tensor; b: tf.Tensor }) => ({ a: tf.mul(x.a, tf.slice(d, 0, 2)), b: tf.mul(x.b, tf.slice(d, 2, 1)) }),
      {
        v0,
        numIters: 200,
      },
    );
    expect(eig.dataSync()[0]).toBeCloseTo(3, 4);
    expect(Math.abs(v.a.dataSync()[0] as number)).toBeCloseTo(1, 4);
    expect(() => powerIteration((x: tf.Tensor) => x)).toThrow('powerIteration: `v0` must be given when `matrix` is a function');
    const [wide, sq, b3] = [tf.ones([2, 3]), tf.ones([2, 2]) as tf.Tensor2D, tf.ones([3])];
    expect(() => powerIteration(wide)).toThrow(/powerIteration: `matrix` must be a square matrix/);
    expect(() => nnls(sq, b3, 5)).toThrow(/nnls: `b` must be a vector or matrix with 2 rows/);
    tf.dispose([d, v0.a, v0.b, eig, v.a, v.b, wide, sq, b3]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
