import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectTreeClose, runSteps, t } from '../test-utils/index.js';
import { scaleByOptimisticGradient } from './optimistic.js';

const GS = [
  [0.5, -1, 2, 0],
  [0.1, -0.3, 1.5, 1e-3],
  [-2, 0.7, 0.2, -0.5],
];

/** Runs three steps on GS and returns each step's updates and the final state. */
function run(tx: ReturnType<typeof scaleByOptimisticGradient>) {
  const params = { w: t([0, 0, 0, 0]) };
  const grads = GS.map((g) => ({ w: t(g) }));
  const out = runSteps(tx, params, grads);
  tf.dispose([params.w, ...grads.map((g) => g.w)]);
  return out;
}

describe('scaleByOptimisticGradient', () => {
  it('matches optax 0.2.8 over three steps (alpha 0.7, beta 0.3, and the defaults)', async () => {
    // Printed by optax 0.2.8:
    //   gs = [jnp.array([0.5, -1.0, 2.0, 0.0]), jnp.array([0.1, -0.3, 1.5, 1e-3]), jnp.array([-2.0, 0.7, 0.2, -0.5])]  # float32
    //   tx = optax.scale_by_optimistic_gradient(alpha=0.7, beta=0.3)   # and ()
    //   s = tx.init(gs[0]); for g in gs: u, s = tx.update(g, s); print(u)
    await expectNoLeaks(() => {
      const a = run(scaleByOptimisticGradient({ alpha: 0.7, beta: 0.3 }));
      [
        [0.35, -0.7, 1.4, 0],
        [-0.050000004, 0, 0.9, 0.001],
        [-2.03, 0.78999996, -0.25, -0.5003],
      ].forEach((want, i) => {
        expectTreeClose(a.updates[i], { w: want });
      });
      const d = run(scaleByOptimisticGradient());
      [
        [0.5, -1, 2, 0],
        [-0.3, 0.39999998, 1, 0.002],
        [-4.1, 1.7, -1.1, -1.001],
      ].forEach((want, i) => {
        expectTreeClose(d.updates[i], { w: want });
      });
      // the state keeps the last gradient; optax's is_initial_step is count === 0
      expect(d.state).toEqual({ count: 3, previousGradient: { w: GS[2]?.map(Math.fround) } });
    });
  });

  it('starts from the current gradient: the first step is alpha · g', async () => {
    await expectNoLeaks(() => {
      const { updates } = run(scaleByOptimisticGradient({ alpha: 2, beta: 5 }));
      expectTreeClose(updates[0], { w: GS[0]?.map((g) => 2 * g) as number[] });
    });
  });

  it('rejects a non-finite alpha or beta, naming it', () => {
    expect(() => scaleByOptimisticGradient({ alpha: Number.NaN })).toThrow(/^scaleByOptimisticGradient: `alpha` .*NaN/);
    expect(() => scaleByOptimisticGradient({ beta: Number.POSITIVE_INFINITY })).toThrow(/^scaleByOptimisticGradient: `beta` .*Infinity/);
  });
});
