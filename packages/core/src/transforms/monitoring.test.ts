import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { createOptimizer } from '../optimizer.js';
import { disposeTree, t } from '../test-utils/index.js';
import { treeL2Norm } from '../tree-utils.js';
import { measureWithEma, monitor, snapshot } from './monitoring.js';
import { perExampleGlobalNormClip } from './per-example-clip.js';
import { scaleByLearningRate } from './scaling.js';
import { unitwiseClip, unitwiseNorm } from './unitwise.js';

// Values against optax: conformance/optax-functions.test.ts (fixtures/optax-functions.json).
describe('monitoring, per-example and unit-wise clipping', () => {
  it('monitor records inside a chain run by createOptimizer, leaving the step unchanged', () => {
    const opt = createOptimizer(
      chain(monitor({ norm: treeL2Norm, ema: measureWithEma(treeL2Norm, 0.5) }), scaleByLearningRate(1)),
      t([0, 0]),
    );
    const g = t([3, 4]);
    opt.step(g);
    const m = (opt.state as [{ measurements: Record<string, { dataSync(): Float32Array }> }])[0].measurements;
    expect(m.norm?.dataSync()[0]).toBe(5);
    expect(m.ema?.dataSync()[0]).toBe(5);
    expect(Array.from((opt.params as tf.Tensor).dataSync())).toEqual([-3, -4]);
    const p = opt.params;
    opt.dispose();
    disposeTree([p, g]);
  });
  it('rejects bad arguments naming them', () => {
    expect(() => snapshot(3 as never, treeL2Norm)).toThrow(/snapshot: `measureName` must be a string/);
    expect(() => monitor({ a: 3 as never })).toThrow(/monitor: the measure `a` must be a function or a gradient transformation/);
    expect(() => measureWithEma(treeL2Norm, 0.9, { debais: true } as never)).toThrow(
      /measureWithEma: unknown option `debais`; the options are `debias`/,
    );
    const x = t([[1, 2]]);
    const v = t([1, 2]);
    expect(() => perExampleGlobalNormClip({ a: x, b: v }, 1)).toThrow(
      /perExampleGlobalNormClip: every leaf of `grads` must have the batch on axis 0/,
    );
    const r6 = tf.zeros([2, 1, 2, 1, 2, 2]);
    expect(() => unitwiseNorm(r6)).toThrow(/unitwiseNorm: expected a tensor of rank 1 to 5/);
    expect(() => unitwiseClip(x, v, x)).toThrow(/unitwiseClip: `maxNorm` has shape \[2\] but `gNorm` has shape \[1, 2\]/);
    disposeTree([x, v, r6]);
  });
});
