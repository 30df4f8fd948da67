import { describe, expect, it } from 'vitest';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { scaleByRprop } from './rprop.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   rg = [jnp.array(g, jnp.float32) for g in ([1., -1., 2., 0.5], [1., 1., 2., 0.], [-1., 1., 3., -0.5],
 *                                             [-1., 1., -3., 0.5], [2., 2., 1., 1.])]
 *   s = tx.init(jnp.zeros(4))
 *   for g in rg: u, s = tx.update(g, s); print(u)
 *   print(s)
 *
 * The grads walk through every case: same sign, sign flip, a zero product.
 * optax returns the previous step's stored update (so the first update is 0).
 */
const GRADS = [
  [1, -1, 2, 0.5],
  [1, 1, 2, 0],
  [-1, 1, 3, -0.5],
  [-1, 1, -3, 0.5],
  [2, 2, 1, 1],
];

function run(tx: ReturnType<typeof scaleByRprop>) {
  const params = { w: t([0, 0, 0, 0]) };
  const grads = GRADS.map((g) => ({ w: t(g) }));
  const out = runSteps(tx, params, grads);
  disposeTree([params, grads]);
  return out;
}

describe('scaleByRprop', () => {
  it('matches optax with the defaults', async () => {
    await expectNoLeaks(() => {
      // tx = optax.scale_by_rprop(0.1)
      const { updates, state } = run(scaleByRprop(0.1));
      expectTreeClose(updates, [
        { w: [0, 0, 0, 0] },
        { w: [0.1, 0, 0.1, 0.1] },
        { w: [0, 0, 0.120000005, 0] },
        { w: [0, 0.05, 0, 0] },
        { w: [0, 0.060000002, 0, 0] },
      ]);
      // ScaleByRpropState(step_sizes=[0.03, 0.072, 0.072, 0.05], prev_updates=[0., 0.072, 0.072, 0.05])
      expectTreeClose(state, { prevUpdates: { w: [0, 0.072, 0.072, 0.05] }, stepSizes: { w: [0.03, 0.072, 0.072, 0.05] } });
    });
  });

  it('matches optax with every option (clipped step sizes)', async () => {
    await expectNoLeaks(() => {
      // tx = optax.scale_by_rprop(0.1, eta_minus=0.3, eta_plus=2.0, min_step_size=0.05, max_step_size=0.15)
      const { updates, state } = run(scaleByRprop(0.1, { etaMinus: 0.3, etaPlus: 2, minStepSize: 0.05, maxStepSize: 0.15 }));
      expectTreeClose(updates, [
        { w: [0, 0, 0, 0] },
        { w: [0.1, 0, 0.1, 0.1] },
        { w: [0, 0, 0.15, 0] },
        { w: [0, 0.05, 0, 0] },
        { w: [0, 0.1, 0, 0] },
      ]);
      // ScaleByRpropState(step_sizes=[0.05, 0.15, 0.05, 0.05], prev_updates=[0., 0.15, 0.05, 0.05])
      expectTreeClose(state, { prevUpdates: { w: [0, 0.15, 0.05, 0.05] }, stepSizes: { w: [0.05, 0.15, 0.05, 0.05] } });
    });
  });

  it('starts the step sizes at the learning rate and is an element-wise spec', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const tx = scaleByRprop(0.25);
      const s = tx.init(params);
      expect(toArrays(s)).toEqual({ stepSizes: { w: [0.25, 0.25] }, prevUpdates: { w: [0, 0] } });
      expect(tx.fusion?.kind).toBe('elementwise');
      return [params, s];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByRprop(-0.1)).toThrow(/scaleByRprop: `learningRate`.*-0.1/);
    expect(() => scaleByRprop(Number.NaN)).toThrow(/`learningRate`/);
    expect(() => scaleByRprop(0.1, { etaMinus: 0 })).toThrow(/`etaMinus` must be a finite number > 0, got 0/);
    expect(() => scaleByRprop(0.1, { etaPlus: -1 })).toThrow(/`etaPlus`/);
    expect(() => scaleByRprop(0.1, { minStepSize: -1 })).toThrow(/`minStepSize`/);
    expect(() => scaleByRprop(0.1, { minStepSize: 1, maxStepSize: 0.5 })).toThrow(/`maxStepSize` must be >= minStepSize \(1\), got 0.5/);
  });

  it('is pure and leaks nothing', async () => {
    await expectPureSteps(scaleByRprop(0.1), () => ({
      params: { a: t([1, 2]) },
      grads: [{ a: t([0.5, -1]) }, { a: t([0.1, 1]) }, { a: t([0.1, 1]) }],
    }));
  });
});
