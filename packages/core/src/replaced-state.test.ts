// The replayed fast path must notice a slot tensor (or a param) the user put
// into opt.state / opt.params, and step it instead of the old buffer.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fusedStats } from './fused/stats.js';
import * as gx from './index.js';
import { saveState } from './interop/checkpoint.js';
import { createOptimizer } from './optimizer.js';

describe('a state tensor replaced by the user', () => {
  it('is the one the next step updates, and the one saveState saves', async () => {
    const opt = createOptimizer(gx.scaleByAdam({ b1: 0.5 }), { w: tf.tensor1d([1, 2, 3]) });
    const g = { w: tf.tensor1d([0.25, -0.5, 1]) };
    opt.step(g);
    opt.step(g);
    const fastBefore = fusedStats.fast;
    opt.step(g);
    expect(fusedStats.fast, 'the fast path is in use').toBe(fastBefore + 1);
    const state = opt.state as { mu: Record<string, tf.Tensor> };
    const mine = tf.zeros([3]);
    const old = state.mu.w as tf.Tensor;
    state.mu.w = mine;
    opt.step(g);
    const mu = (opt.state as { mu: Record<string, tf.Tensor> }).mu.w as tf.Tensor;
    // mu = (1 - b1) g + b1 · 0
    expect(Array.from(mu.dataSync())).toEqual([0.125, -0.25, 0.5]);
    const saved = await saveState(opt.state);
    const restored = gx.loadState(saved, gx.scaleByAdam({ b1: 0.5 }), opt.params) as { mu: Record<string, tf.Tensor> };
    expect(Array.from((restored.mu.w as tf.Tensor).dataSync())).toEqual([0.125, -0.25, 0.5]);
    tf.dispose([restored.mu.w as tf.Tensor, (restored as unknown as { nu: Record<string, tf.Tensor> }).nu.w as tf.Tensor]);
    // and the fast path takes over again afterwards
    const fastAgain = fusedStats.fast;
    opt.step(g);
    opt.step(g);
    expect(fusedStats.fast).toBeGreaterThan(fastAgain);
    tf.dispose([g.w, old, (opt.params as Record<string, tf.Tensor>).w as tf.Tensor]);
    opt.dispose();
  });

  it('a replaced param is stepped too', () => {
    const opt = createOptimizer(gx.sgd(1), { w: tf.tensor1d([1, 2]) });
    const g = { w: tf.tensor1d([0.5, 0.5]) };
    opt.step(g);
    opt.step(g);
    const params = opt.params as Record<string, tf.Tensor>;
    const old = params.w as tf.Tensor;
    params.w = tf.tensor1d([10, 20]);
    opt.step(g);
    expect(Array.from(((opt.params as Record<string, tf.Tensor>).w as tf.Tensor).dataSync())).toEqual([9.5, 19.5]);
    tf.dispose([g.w, old, (opt.params as Record<string, tf.Tensor>).w as tf.Tensor]);
    opt.dispose();
  });
});
