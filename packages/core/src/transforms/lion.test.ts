import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectPureUpdate, expectTreeClose, runSteps, t } from '../test-utils/index.js';
import { expectSteps, printedTables } from '../test-utils/optax-steps.js';
import { scaleByLion } from './lion.js';

/** The tables printed by optax 0.2.8 for this file (`fixtures/lion.json`). */
const table = printedTables('lion.json');

// Expected values: real optax 0.2.8, printed by the script in
// test-utils/optax-steps.ts; the `run(...)` line is quoted above each table.

describe('scaleByLion', () => {
  // run(optax.scale_by_lion(), 3, 'LION_DEFAULT')
  const LION_DEFAULT = table('LION_DEFAULT');
  // run(optax.scale_by_lion(b1=0.5, b2=0.8), 3, 'LION_OPTS')
  const LION_OPTS = table('LION_OPTS');
  // run(optax.scale_by_lion(mode='smooth', smooth_beta=2.5), 3, 'LION_SMOOTH')
  const LION_SMOOTH = table('LION_SMOOTH');
  // run(optax.scale_by_lion(b1=0.3, mode='refined'), 3, 'LION_REFINED')
  const LION_REFINED = table('LION_REFINED');

  it('matches optax with the defaults', async () => {
    await expectSteps(scaleByLion(), LION_DEFAULT);
  });

  it('matches optax with b1 and b2 set', async () => {
    await expectSteps(scaleByLion({ b1: 0.5, b2: 0.8 }), LION_OPTS);
  });

  it("matches optax in 'smooth' mode", async () => {
    // tanh is composed from exp and log in the per-element language: within a few ulps.
    await expectSteps(scaleByLion({ mode: 'smooth', smoothBeta: 2.5 }), LION_SMOOTH, { rtol: 1e-6, atol: 1e-7 });
  });

  it("matches optax in 'refined' mode", async () => {
    await expectSteps(scaleByLion({ b1: 0.3, mode: 'refined' }), LION_REFINED);
  });

  it("'smooth' mode's tanh is within a few float32 ulps of Math.tanh, from tiny to saturated inputs", async () => {
    await expectNoLeaks(() => {
      const xs = [0, 1e-30, -3e-8, 1e-4, -0.01, 0.1, 0.3, -0.5, 0.9445541, 1, -2, 4.5, 8.9, -9.05, 12, 100, -1e30];
      // b1 = 0: c = g, so the update is tanh(g).
      const params = { x: tf.zeros([xs.length]) };
      const grads = [{ x: t(xs) }];
      const run = runSteps(scaleByLion({ b1: 0, mode: 'smooth' }), params, grads);
      expectTreeClose(run.updates[0], { x: xs.map(Math.tanh) }, { rtol: 4e-7, atol: 1e-45 });
      return [params, grads];
    });
  });

  it('keeps the momentum at rate b2, after the update', async () => {
    await expectNoLeaks(() => {
      // b1 = 0.5, b2 = 0.75: step 1 mu = 0.25·g1; step 2 uses c = 0.5 g2 + 0.5 mu (old), then mu = 0.25 g2 + 0.75 mu.
      const params = { x: t([0, 0]) };
      const grads = [t([4, -4]), t([-1, -1])].map((x) => ({ x }));
      const run = runSteps(scaleByLion({ b1: 0.5, b2: 0.75 }), params, grads);
      // c2 = 0.5·[-1, -1] + 0.5·[1, -1] = [0, -1]
      expect(run.updates[1]).toEqual({ x: [0, -1] });
      expect(run.state).toEqual({ count: 2, mu: { x: [0.5, -1] } });
      return [params, grads];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByLion({ b1: 1 })).toThrow(/scaleByLion: `b1` must be in \[0, 1\), got 1/);
    expect(() => scaleByLion({ b2: -0.01 })).toThrow(/`b2`/);
    expect(() => scaleByLion({ mode: 'soft' as never })).toThrow(/`mode` must be 'hard', 'smooth' or 'refined', got 'soft'/);
    expect(() => scaleByLion({ mode: 'smooth', smoothBeta: Number.NaN })).toThrow(/`smoothBeta` must be a finite number, got NaN/);
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]) };
    const g = { w: t([0.5, -0.5]) };
    for (const mode of ['hard', 'smooth', 'refined'] as const) await expectPureUpdate(scaleByLion({ mode }), params, g);
    tf.dispose([params.w, g.w]);
  });
});
