import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../optimizer.js';
import { disposeTree, expectNoLeaks, t } from '../test-utils/index.js';
import { polyakSgd, scaleByPolyak } from './polyak.js';

// Values against optax: conformance/optax-more.test.ts (fixtures/optax-more.json).
describe('scaleByPolyak, polyakSgd', () => {
  it('scales by (value - fMin) / ‖g‖², capped by maxLearningRate', async () => {
    await expectNoLeaks(() => {
      const g = t([3, 4]);
      const tx = scaleByPolyak({ maxLearningRate: 10 });
      const [u] = tx.update(g, tx.init(g), undefined, { value: 5 });
      expect(Array.from((u as tf.Tensor).dataSync())).toEqual([0.6000000238418579, 0.800000011920929]);
      const value = tf.scalar(5);
      const [capped] = scaleByPolyak({ maxLearningRate: 0.1 }).update(g, {}, undefined, { value });
      expect(Array.from((capped as tf.Tensor).dataSync())).toEqual([0.30000001192092896, 0.4000000059604645]);
      return [g, u, capped, value];
    });
  });
  it('gives a zero step for a zero gradient and a negative gap clipped by sps+', () => {
    const z = t([0, 0]);
    const [u0] = scaleByPolyak().update(z, {}, undefined, { value: 1 });
    const g = t([1, 1]);
    const [u1] = scaleByPolyak({ fMin: 2, variant: 'sps+' }).update(g, {}, undefined, { value: 1 });
    expect(Array.from((u0 as tf.Tensor).dataSync())).toEqual([0, 0]);
    expect(Array.from((u1 as tf.Tensor).dataSync())).toEqual([0, 0]);
    disposeTree([z, u0, g, u1]);
  });
  it('a missing value is an error naming the extra argument, also through createOptimizer', () => {
    const g = t([1, 2]);
    expect(() => scaleByPolyak().update(g, {}, undefined)).toThrow(/scaleByPolyak: this transformation needs the extra argument `value`/);
    expect(() => scaleByPolyak().update(g, {}, undefined, { value: 'x' as never })).toThrow(/`value` must be a number or a scalar tensor/);
    const opt = createOptimizer(polyakSgd(), t([0, 0]));
    expect(() => opt.step(g)).toThrow(/extra argument `value`/);
    // u = -g, ‖u‖² = 5, step = 2.5 / 5
    opt.step(g, { value: 2.5 });
    expect(Array.from((opt.params as tf.Tensor).dataSync())).toEqual([-0.5, -1]);
    const p = opt.params;
    opt.dispose();
    disposeTree([g, p]);
  });
  it('rejects bad options', () => {
    expect(() => scaleByPolyak({ variant: 'spsx' as never })).toThrow(/`variant` must be 'sps' or 'sps\+', got "spsx"/);
    expect(() => polyakSgd({ learningRate: 1 } as never)).toThrow(/polyakSgd: unknown option `learningRate`/);
    expect(() => scaleByPolyak({ eps: -1 })).toThrow(/`eps` must be a finite number >= 0/);
  });
});
