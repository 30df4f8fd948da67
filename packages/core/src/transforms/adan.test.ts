import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeTree, expectPureUpdate, t } from '../test-utils/index.js';
import { adan, scaleByAdan } from './adan.js';

// Values against optax: conformance/optax-more.test.ts (fixtures/optax-more.json).
describe('scaleByAdan', () => {
  it('is element-wise (fuses) and pure', async () => {
    expect(scaleByAdan().fusion?.kind).toBe('elementwise');
    await expectPureUpdate(scaleByAdan(), { w: t([1, 2]) }, { w: t([0.5, -1]) }, 3);
  });
  it('uses no gradient difference at the first step: u = g / (|g| + eps) there', () => {
    const tx = scaleByAdan({ eps: 0 });
    const g = t([2, -3]);
    const s = tx.init(g);
    const [u, s1] = tx.update(g, s);
    const [a, b] = Array.from((u as tf.Tensor).dataSync());
    expect(a).toBeCloseTo(1, 6);
    expect(b).toBeCloseTo(-1, 6);
    disposeTree([u, g, s1, s]);
  });
  it('rejects bad options naming them', () => {
    expect(() => scaleByAdan({ b3: 1 })).toThrow(/scaleByAdan: `b3` must be in \[0, 1\), got 1/);
    expect(() => scaleByAdan({ beta1: 0.9 } as never)).toThrow(/scaleByAdan: unknown option `beta1`/);
    expect(() => adan(-1)).toThrow(/adan: `learningRate`/);
    expect(() => adan(0.1, { b4: 1 } as never)).toThrow(/adan: unknown option `b4`/);
  });
});
