import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeTree, expectNoLeaks, expectTreeClose, toArrays } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { type AddNoiseState, addNoise } from './noise.js';

/** Runs `steps` updates of zero grads (a tree `{ a, b }` of `n` elements each) and returns each step's noise. */
function noiseOf(tx: ReturnType<typeof addNoise>, steps: number, n = 8, from?: AddNoiseState): { a: number[]; b: number[] }[] {
  const zeros = { a: tf.zeros([n]), b: tf.zeros([n]) };
  let state = from ?? tx.init(zeros);
  const out: { a: number[]; b: number[] }[] = [];
  for (let i = 0; i < steps; i++) {
    const [u, next] = tx.update(zeros, state);
    out.push(toArrays(u) as { a: number[]; b: number[] });
    disposeTree(u);
    state = next;
  }
  disposeTree(zeros);
  return out;
}

function moments(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mean, variance: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) };
}

describe('addNoise', () => {
  it('adds zero-mean noise of variance eta / (count + 1)^gamma', async () => {
    await expectNoLeaks(() => {
      // optax.add_noise(eta, gamma, key): standard_deviation = sqrt(eta / count_inc**gamma).
      const eta = 0.5;
      const gamma = 0.55;
      const n = 20_000;
      const steps = noiseOf(addNoise(eta, gamma, 7), 3, n);
      steps.forEach((step, i) => {
        const variance = eta / (i + 1) ** gamma;
        const { mean, variance: got } = moments([...step.a, ...step.b]);
        // 2n samples: the sample variance has a relative sd of sqrt(1 / n) = 0.7%; allow 5 sd.
        expect(Math.abs(got / variance - 1)).toBeLessThan(5 * Math.sqrt(1 / n));
        expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / (2 * n)));
      });
    });
  });

  it('scales one seeded sample exactly by sqrt(eta / t^gamma), computed in float32', async () => {
    await expectNoLeaks(() => {
      const base = noiseOf(addNoise(1, 0, 3), 2);
      const eta4 = noiseOf(addNoise(4, 0, 3), 2);
      const gamma1 = noiseOf(addNoise(1, 1, 3), 2);
      const times = (tree: { a: number[]; b: number[] }, s: number) => ({
        a: tree.a.map((x) => Math.fround(x * s)),
        b: tree.b.map((x) => Math.fround(x * s)),
      });
      expectTreeClose(
        eta4,
        base.map((s) => times(s, 2)),
        { rtol: 0, atol: 0 },
      );
      // step 1: t = 1, the same noise; step 2: t = 2, so sqrt(1/2) = 0.70710677 in float32
      expectTreeClose(gamma1[0], base[0], { rtol: 0, atol: 0 });
      expectTreeClose(gamma1[1], times(base[1] as { a: number[]; b: number[] }, Math.fround(Math.SQRT1_2)), { rtol: 0, atol: 0 });
    });
  });

  it('is reproducible for a seed, differs across seeds, steps and leaves, and resumes from a saved state', async () => {
    await expectNoLeaks(() => {
      const a = noiseOf(addNoise(1, 0.55, 42), 3);
      expect(noiseOf(addNoise(1, 0.55, 42), 3)).toEqual(a);
      const other = noiseOf(addNoise(1, 0.55, 43), 1)[0] as { a: number[] };
      expect(other.a).not.toEqual(a[0]?.a);
      expect(a[0]?.a).not.toEqual(a[0]?.b);
      expect(a[0]?.a).not.toEqual(a[1]?.a);
      // The state is plain numbers: save it after one step and resume.
      const tx = addNoise(1, 0.55, 42);
      const zeros = { a: tf.zeros([8]), b: tf.zeros([8]) };
      const s0 = tx.init(zeros);
      expect(s0).toEqual({ count: 0, rngKey: 42 });
      const [u, s1] = tx.update(zeros, s0);
      const saved = JSON.parse(JSON.stringify(s1)) as AddNoiseState;
      expect(saved.count).toBe(1);
      expect(noiseOf(tx, 2, 8, saved)).toEqual(a.slice(1));
      return [zeros, u];
    });
  });

  it('keeps the updates it is given: noise is added, not substituted', async () => {
    await expectNoLeaks(() => {
      const tx = addNoise(0, 0.55, 1);
      const g = { w: tf.tensor([1, -2, 3]) };
      const [u] = tx.update(g, tx.init(g));
      expect(toArrays(u)).toEqual({ w: [1, -2, 3] });
      return [g, u];
    });
  });

  it('rejects bad arguments and a foreign state', async () => {
    expect(() => addNoise(-1, 0.55)).toThrow(/addNoise: `eta` must be a finite number >= 0, got -1/);
    expect(() => addNoise(1, Number.NaN)).toThrow(/addNoise: `gamma` must be a finite number, got NaN/);
    expect(() => addNoise(1, 0.55, -1)).toThrow(/addNoise: `seed` must be an integer >= 0, got -1/);
    expect(() => addNoise(1, 0.55, 1.5)).toThrow(/`seed`.*1.5/);
    expect(() => addNoise(1, 0.55, 2 ** 32)).toThrow(/addNoise: `seed` must be an integer in \[0, 4294967295\], got 4294967296/);
    await expectNoLeaks(() => {
      const g = { w: tf.tensor([1]) };
      const tx = addNoise(1, 0.55);
      expect(() => tx.update(g, { count: 0, rngKey: 0.5 })).toThrow(/addNoise: state.rngKey must be an integer/);
      expect(() => tx.update(g, { count: 0 } as never)).toThrow(/addNoise: the state lacks `rngKey`/);
      const ints = { w: tf.tensor([1], [1], 'int32') };
      expect(() => tx.update(ints, tx.init(g))).toThrow(/addNoise.*dtype int32/);
      return [g, ints];
    });
  });

  it('is not element-wise, is pure and leaks nothing', async () => {
    expect(addNoise(1, 0.55).fusion).toBeUndefined();
    await expectPureSteps(addNoise(0.1, 0.55, 5), () => ({
      params: { a: tf.zeros([2]), b: [tf.zeros([1, 2])], c: null },
      grads: [
        { a: tf.tensor([0.5, -1]), b: [tf.tensor([[2, 3]])], c: null },
        { a: tf.tensor([0.1, 0]), b: [tf.tensor([[-1, 1]])], c: null },
      ],
    }));
  });
});
