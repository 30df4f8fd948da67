// minimize on both paths of createNodeOptimizer equals core's createOptimizer.minimize.
import { adam, createOptimizer } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
// the gradient functions, as the @tensorflow/tfjs union package registers them
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import { describe, expect, it } from 'vitest';
import { createNodeOptimizer } from './optimizer.js';

const target = tf.tensor1d([1, -1, 0.5]);
const loss = (p: tf.Tensor | unknown) => (p as { w: tf.Tensor }).w.sub(target).square().sum();

describe('createNodeOptimizer.minimize', () => {
  for (const flatten of [true, false]) {
    it(`equals core's minimize (flatten: ${flatten})`, () => {
      const a = createNodeOptimizer(adam(0.1), { w: tf.variable(tf.tensor1d([3, 2, -2])) }, { flatten });
      const b = createOptimizer(adam(0.1), { w: tf.variable(tf.tensor1d([3, 2, -2])) });
      for (let i = 0; i < 3; i++) {
        const la = a.minimize(loss, { returnLoss: true });
        const lb = b.minimize(loss, { returnLoss: true });
        expect(la.dataSync()[0]).toBeCloseTo(lb.dataSync()[0], 5);
        tf.dispose([la, lb]);
      }
      const wa = Array.from((a.params as { w: tf.Tensor }).w.dataSync());
      const wb = Array.from((b.params as { w: tf.Tensor }).w.dataSync());
      for (const [i, x] of wa.entries()) expect(x).toBeCloseTo(wb[i] as number, 5);
      a.dispose();
      b.dispose();
    });
  }
});
