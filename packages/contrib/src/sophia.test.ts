// Hutchinson's estimator with a dense Hessian, tested statistically (its
// random signs are tfjs's seeded generator, so the fixtures use a diagonal
// Hessian, where every draw is exact).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { applyUpdates, createOptimizer } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { hutchinsonEstimatorDiagHessian, sophia } from './index.js';

// f(x, y) = 0.5 [x; y]ᵀ A [x; y] for a dense symmetric A: the Hessian is A
const A = [
  [2, 0.5, -1, 0.3],
  [0.5, 1, 0.2, -0.7],
  [-1, 0.2, 3, 0.4],
  [0.3, -0.7, 0.4, 1.5],
];

describe('hutchinsonEstimatorDiagHessian', () => {
  it('is an unbiased estimate of the Hessian diagonal', () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor2d(A);
    const objFn = (p: unknown) =>
      tf.tidy(() => {
        const { x, y } = p as { x: tf.Tensor; y: tf.Tensor };
        const v = tf.reshape(tf.concat([x, y]), [4, 1]);
        return tf.mul(0.5, tf.sum(tf.mul(v, tf.matMul(a, v)))) as tf.Scalar;
      });
    const params = { x: tf.tensor1d([0.3, -1]), y: tf.tensor1d([2, 0.5]) };
    const tx = hutchinsonEstimatorDiagHessian({ seed: 3 });
    let s = tx.init(params);
    const n = 1000;
    const sum = [0, 0, 0, 0];
    for (let k = 0; k < n; k++) {
      const [u, next] = tx.update(params, s, params, { objFn });
      const { x, y } = u as { x: tf.Tensor; y: tf.Tensor };
      [...x.dataSync(), ...y.dataSync()].forEach((v, i) => {
        sum[i] = (sum[i] as number) + v;
      });
      tf.dispose([x, y]);
      s = next;
    }
    A.forEach((row, i) => {
      // one draw is A_ii + Σ_{j≠i} A_ij v_i v_j: variance Σ_{j≠i} A_ij²; the mean of n draws is within 5 standard errors
      const se = Math.sqrt(row.reduce((acc, v, j) => acc + (j === i ? 0 : v * v), 0) / n);
      expect(Math.abs((sum[i] as number) / n - (row[i] as number))).toBeLessThan(5 * se);
    });
    tf.dispose([a, params.x, params.y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("gets objFn through createOptimizer's opt.step, as through tx.update", () => {
    const before = tf.memory().numTensors;
    const objFn = (p: unknown) => tf.tidy(() => tf.sum(tf.pow((p as { w: tf.Tensor }).w, 4)) as tf.Scalar);
    const init = (): { w: tf.Tensor } => ({ w: tf.tensor1d([0.5, -1, 2]) });
    const grads = { w: tf.tensor1d([0.1, -0.2, 0.3]) };
    const opt = createOptimizer(sophia(0.1, { updateInterval: 1 }), init());
    const tx = sophia(0.1, { updateInterval: 1 });
    let params = init();
    let state = tx.init(params);
    for (let i = 0; i < 3; i++) {
      opt.step(grads, { objFn });
      const [u, next] = tx.update(grads, state, params, { objFn });
      const moved = applyUpdates(params, u) as { w: tf.Tensor };
      tf.dispose([u, params, state] as never);
      [params, state] = [moved, next];
    }
    expect(Array.from((opt.params as { w: tf.Tensor }).w.dataSync())).toEqual(Array.from(params.w.dataSync()));
    expect(Array.from(params.w.dataSync())).not.toEqual([0.5, -1, 2]);
    const p = opt.params;
    opt.dispose();
    tf.dispose([p, params, state, grads] as never);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says what is missing or wrong', () => {
    const tx = hutchinsonEstimatorDiagHessian();
    const p = { w: tf.ones([2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(/hutchinsonEstimatorDiagHessian: this transformation needs `params`/);
    expect(() => tx.update(p, s, p)).toThrow(/needs the extra argument `objFn`/);
    expect(() => tx.update(p, s, p, { objFn: () => 1 })).toThrow(/`objFn` must return a scalar tensor, got 1/);
    expect(() => sophia(0.1, { updateInterval: 0 })).toThrow('sophia: `updateInterval` must be an integer >= 1, got 0');
    expect(() => sophia(0.1, { eps: 0 })).toThrow('sophia: `eps` must be a finite number > 0, got 0');
    expect(() => hutchinsonEstimatorDiagHessian({ seed: -1 })).toThrow(/`seed` must be an integer >= 0, got -1/);
    tf.dispose(p as never);
  });
});
