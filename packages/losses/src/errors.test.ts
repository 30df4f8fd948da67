// Bad input: each loss throws an error naming the function, the argument and the value.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { huberLoss, smoothLabels, softmaxCrossEntropy, softmaxCrossEntropyWithIntegerLabels, squaredError } from './index.js';

describe('loss arguments', () => {
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const ints = tf.tensor1d([0, 1], 'int32');
  it('rejects non-tensors, wrong dtypes and mismatched shapes', () => {
    expect(() => squaredError([1, 2] as never)).toThrow(/^squaredError: `predictions` must be a tensor, got an array$/);
    expect(() => softmaxCrossEntropy(ints, x)).toThrow(
      /softmaxCrossEntropy: `logits` must have dtype float32, got a int32 tensor of shape \[2\]/,
    );
    expect(() => softmaxCrossEntropyWithIntegerLabels(x, x)).toThrow(/`labels` must have dtype int32/);
    expect(() => squaredError(x, tf.ones([2]))).toThrow(/`predictions` has shape \[2, 2\] but `targets` has shape \[2\]/);
  });
  it('rejects unknown options, bad numbers and out-of-range axes', () => {
    expect(() => huberLoss(x, x, { delta: Number.NaN })).toThrow(/huberLoss: `delta` must be a finite number, got NaN/);
    expect(() => huberLoss(x, x, { delta_: 1 } as never)).toThrow(/huberLoss: unknown option `delta_`; the options are `delta`/);
    expect(() => softmaxCrossEntropy(x, x, { axis: 2 })).toThrow(/`axis` 2 is out of bounds for a tensor of rank 2/);
    expect(() => smoothLabels(x, '0.1' as never)).toThrow(/smoothLabels: `alpha` must be a finite number, got '0.1'/);
  });
  it('leaks nothing when it throws', () => {
    const before = tf.memory().numTensors;
    expect(() => softmaxCrossEntropy(x, x, { axis: [0, 0] })).toThrow(/repeats an axis/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
