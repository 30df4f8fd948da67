// The noise of differentiallyPrivateAggregate, tested statistically (it is
// tfjs's seeded generator, not JAX's stream, so no fixture can hold it):
// with zero gradients the update is noiseStd · N(0, 1) / B.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { differentiallyPrivateAggregate, dpsgd } from './index.js';

const B = 4;
const zeros = () => ({ a: tf.zeros([B, 200, 50]), b: tf.zeros([B, 10000]) });

/** The values of one update of zero gradients, per leaf, and the next state. */
function draw(seed: number, steps = 1): Float32Array[][] {
  const tx = differentiallyPrivateAggregate(1.5, 2, { seed });
  const g = zeros();
  let s = tx.init(g);
  const out: Float32Array[][] = [];
  for (let i = 0; i < steps; i++) {
    const [u, next] = tx.update(g, s);
    const leaves = [(u as { a: tf.Tensor }).a, (u as { b: tf.Tensor }).b];
    out.push(leaves.map((x) => x.dataSync() as Float32Array));
    tf.dispose(leaves);
    s = next;
  }
  tf.dispose(g as never);
  return out;
}

const mean = (x: Float32Array) => x.reduce((a, v) => a + v, 0) / x.length;
const std = (x: Float32Array) => {
  const m = mean(x);
  return Math.sqrt(x.reduce((a, v) => a + (v - m) ** 2, 0) / x.length);
};
const corr = (x: Float32Array, y: Float32Array) => {
  const [mx, my] = [mean(x), mean(y)];
  return x.reduce((a, v, i) => a + (v - mx) * ((y[i] as number) - my), 0) / (x.length * std(x) * std(y));
};

describe('differentiallyPrivateAggregate noise', () => {
  it('has mean 0 and standard deviation l2NormClip · noiseMultiplier / batch, per leaf', () => {
    const before = tf.memory().numTensors;
    const [[a, b]] = draw(0) as [[Float32Array, Float32Array]];
    const sigma = (1.5 * 2) / B;
    for (const x of [a, b]) {
      // n = 10,000: the sample mean is within 5 standard errors, the sample std within 5 %
      expect(Math.abs(mean(x))).toBeLessThan((5 * sigma) / Math.sqrt(x.length));
      expect(std(x) / sigma).toBeGreaterThan(0.95);
      expect(std(x) / sigma).toBeLessThan(1.05);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is reproducible for a seed, and independent across leaves, steps and seeds', () => {
    const [[a0, b0], [a1]] = draw(5, 2) as [[Float32Array, Float32Array], [Float32Array]];
    const [[again]] = draw(5) as [[Float32Array]];
    const [[other]] = draw(6) as [[Float32Array]];
    expect(Array.from(again)).toEqual(Array.from(a0));
    // |corr| < 0.05 over 10,000 pairs of independent normals (5 standard errors)
    for (const [x, y] of [
      [a0, b0.subarray(0, 10000)],
      [a0, a1],
      [a0, other],
    ] as const) {
      expect(Math.abs(corr(x, y))).toBeLessThan(0.05);
    }
  });

  it('checks its arguments and the batch axis', () => {
    expect(() => differentiallyPrivateAggregate(-1, 1)).toThrow(
      'differentiallyPrivateAggregate: `l2NormClip` must be a finite number >= 0, got -1',
    );
    expect(() => differentiallyPrivateAggregate(1, 1, { seed: 2 ** 32 })).toThrow(/`seed` must be an integer in \[0, 4294967295\]/);
    expect(() => dpsgd(0.1, 1, 1, 0, { momentum: 1 })).toThrow('dpsgd: `momentum` must be in [0, 1), got 1');
    const tx = differentiallyPrivateAggregate(1, 1);
    const g = { s: tf.scalar(1) };
    expect(() => tx.update(g, tx.init(g))).toThrow(/every leaf of the updates needs a leading batch axis/);
    tf.dispose(g as never);
  });
});
