import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { multiNormal } from './multi-normal.js';

describe('multiNormal', () => {
  it('samples [...shape, ...paramShape] with the mean and scale asked for, reproducibly (seed 0 too)', () => {
    const loc = tf.tensor1d([1, -2]);
    const logScale = tf.tensor1d([Math.log(0.5), Math.log(2)]);
    const d = multiNormal(loc, logScale);
    const before = tf.memory().numTensors;
    const s = d.sample([4000], 0);
    const again = d.sample([4000], 0);
    expect(s.shape).toEqual([4000, 2]);
    expect(Array.from(s.dataSync())).toEqual(Array.from(again.dataSync()));
    const { mean, variance } = tf.moments(s, 0);
    const [m, v] = [mean.dataSync(), variance.dataSync()];
    expect(m[0]).toBeCloseTo(1, 1);
    expect(m[1]).toBeCloseTo(-2, 0);
    expect(Math.sqrt(v[0] as number)).toBeCloseTo(0.5, 1);
    expect(Math.sqrt(v[1] as number)).toBeCloseTo(2, 1);
    tf.dispose([s, again, mean, variance]);
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
    expect(loc.isDisposed || logScale.isDisposed).toBe(false);
    tf.dispose([loc, logScale]);
  });

  it('refuses bad inputs, naming them', () => {
    const loc = tf.zeros([2]);
    expect(() => multiNormal(loc, tf.tensor1d([1, 2], 'int32'))).toThrow(/multiNormal: `logScale` must be a float32 tensor/);
    const d = multiNormal(loc, tf.zeros([2]));
    expect(() => d.sample([2], -1)).toThrow(/multiNormal: `seed` must be an integer >= 0/);
    expect(() => d.logProb(tf.scalar(1))).toThrow(/multiNormal: logProb's `x` must be a tensor of rank at least 1/);
    d.dispose();
  });
});
