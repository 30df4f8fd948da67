import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { expectNoLeaks, expectTreeClose, runSteps, t } from '../test-utils/index.js';
import { scaleByAdam } from './adam.js';
import { scaleByLearningRate } from './scaling.js';

/** Adam in float64, written from the paper's algorithm, as an independent closed form. */
function adamClosedForm(grads: number[][], opts: { b1: number; b2: number; eps: number }): number[][] {
  const n = grads[0]?.length ?? 0;
  const mu = new Array(n).fill(0);
  const nu = new Array(n).fill(0);
  return grads.map((g, step) => {
    const t1 = step + 1;
    return g.map((gi, i) => {
      mu[i] = opts.b1 * mu[i] + (1 - opts.b1) * gi;
      nu[i] = opts.b2 * nu[i] + (1 - opts.b2) * gi * gi;
      return mu[i] / (1 - opts.b1 ** t1) / (Math.sqrt(nu[i] / (1 - opts.b2 ** t1)) + opts.eps);
    });
  });
}

describe('scaleByAdam', () => {
  it('matches the closed form over several steps', async () => {
    await expectNoLeaks(() => {
      const gs = [
        [0.5, -1, 2, 0],
        [0.1, -0.3, 1.5, 1e-3],
        [-2, 0.7, 0.2, -0.5],
      ];
      const params = { w: t([0, 0, 0, 0]) };
      const grads = gs.map((g) => ({ w: t(g) }));
      const run = runSteps(scaleByAdam(), params, grads);
      const want = adamClosedForm(gs, { b1: 0.9, b2: 0.999, eps: 1e-8 });
      // optax computes 1 - b2^t in float32, which for b2 = 0.999 is off by ~1.5e-5
      // relative to the float64 value; gradtx does the same, so a float64 closed
      // form agrees only to ~3e-5 (the optax fixtures check the exact values).
      run.updates.forEach((u, i) => expectTreeClose(u, { w: want[i] }, { rtol: 3e-5, atol: 1e-7 }));
      tf.dispose([params.w, ...grads.map((g) => g.w)]);
    });
  });

  it('keeps count, mu and nu in the state', () => {
    const params = { w: t([1, 2]) };
    const s = scaleByAdam().init(params);
    expect(s.count).toBe(0);
    expect(Object.keys(s).sort()).toEqual(['count', 'mu', 'nu']);
    tf.dispose([params.w, s.mu as tf.Tensor[], s.nu as tf.Tensor[]].flat() as tf.Tensor[]);
  });

  it('rejects b1 outside [0, 1) and negative eps', () => {
    expect(() => scaleByAdam({ b1: 1 })).toThrow(/b1.*\[0, 1\).*1/);
    expect(() => scaleByAdam({ b2: -0.1 })).toThrow(/b2/);
    expect(() => scaleByAdam({ eps: -1 })).toThrow(/eps.*-1/);
  });

  it('does not mutate or dispose its inputs', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const g = { w: t([0.5, -0.5]) };
      const tx = chain(scaleByAdam(), scaleByLearningRate(0.1));
      const s0 = tx.init(params);
      const [u, s1] = tx.update(g, s0, params);
      expect(g.w.isDisposed).toBe(false);
      expect(Array.from(g.w.dataSync())).toEqual([0.5, -0.5]);
      expect(Array.from((s0[0] as { mu: { w: tf.Tensor } }).mu.w.dataSync())).toEqual([0, 0]);
      return [params, g, s0, u, s1];
    });
  });
});
