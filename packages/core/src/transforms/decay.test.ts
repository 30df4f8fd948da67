import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { treeMap } from '../tree.js';
import { addDecayedWeights } from './decay.js';
import { scaleByLearningRate } from './scaling.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   gs = [jnp.array(g, jnp.float32) for g in ([0.5, -1., 2., 0.], [0.1, -0.3, 1.5, 1e-3], [-2., 0.7, 0.2, -0.5])]
 *   params = jnp.array([1., -2., 3., 0.5]); s = tx.init(params)
 *   for g in gs:
 *     u, s = tx.update(g, s, params); print(u); params = optax.apply_updates(params, u)
 *
 * (`runSteps` applies the updates to the params the same way.)
 */
const GRADS = [
  [0.5, -1, 2, 0],
  [0.1, -0.3, 1.5, 1e-3],
  [-2, 0.7, 0.2, -0.5],
];

function run(tx: ReturnType<typeof addDecayedWeights>) {
  const params = { w: t([1, -2, 3, 0.5]) };
  const grads = GRADS.map((g) => ({ w: t(g) }));
  const out = runSteps(tx, params, grads);
  disposeTree([params, grads]);
  return out;
}

describe('addDecayedWeights', () => {
  it('matches optax with a constant rate, stateless', async () => {
    await expectNoLeaks(() => {
      // tx = optax.add_decayed_weights(0.1)   (state: EmptyState())
      const { updates, state } = run(addDecayedWeights(0.1));
      expectTreeClose(updates, [
        { w: [0.6, -1.2, 2.3, 0.05] },
        { w: [0.26000002, -0.62, 2.03, 0.056] },
        { w: [-1.814, 0.31799996, 0.93299997, -0.4394] },
      ]);
      expect(state).toEqual({});
    });
  });

  it('matches optax with a schedule evaluated at the count before the update', async () => {
    await expectNoLeaks(() => {
      // tx = optax.add_decayed_weights(lambda c: 0.1 * (c + 1))   (state: WeightDecaySchedule(count=3))
      const { updates, state } = run(addDecayedWeights((c) => 0.1 * (c + 1)));
      expectTreeClose(updates, [
        { w: [0.6, -1.2, 2.3, 0.05] },
        { w: [0.42000002, -0.94000006, 2.56, 0.11100001] },
        { w: [-1.394, -0.5420001, 2.558, -0.3017] },
      ]);
      expect(state).toEqual({ count: 3 });
    });
  });

  it('passes updates through for a constant 0 (the default), even with infinite params', async () => {
    await expectNoLeaks(() => {
      // tx = optax.add_decayed_weights(0.0) -> the updates unchanged
      const { updates } = run(addDecayedWeights());
      expectTreeClose(
        updates,
        GRADS.map((w) => ({ w: w.map(Math.fround) })),
        { rtol: 0, atol: 0 },
      );
      const tx = addDecayedWeights(0);
      const p = { w: t([Number.POSITIVE_INFINITY]) };
      const g = { w: t([2]) };
      const [u] = tx.update(g, tx.init(p), p);
      expect(toArrays(u)).toEqual({ w: [2] });
      return [p, g, u];
    });
  });

  it('applies only where the mask is true (tree or function), as optax.masked', async () => {
    await expectNoLeaks(() => {
      // tx = optax.add_decayed_weights(0.1, mask={'a': True, 'b': False})
      // params = {'a': [1., -2.], 'b': [3.]}, grads {'a': [0.5, -1.], 'b': [2.]}, {'a': [0.1, 0.2], 'b': [-1.]}
      //   -> {a: [0.6, -1.2], b: [2]}, {a: [0.26000002, -0.12000002], b: [-1]}; state MaskedState(inner_state=EmptyState())
      const params = { a: t([1, -2]), b: t([3]) };
      const grads = [
        { a: t([0.5, -1]), b: t([2]) },
        { a: t([0.1, 0.2]), b: t([-1]) },
      ];
      const want = [
        { a: [0.6, -1.2], b: [2] },
        { a: [0.26000002, -0.12000002], b: [-1] },
      ];
      const byTree = runSteps(addDecayedWeights(0.1, { mask: { a: true, b: false } }), params, grads);
      expectTreeClose(byTree.updates, want);
      expect(byTree.state).toEqual({ innerState: {} });
      const byFn = runSteps(addDecayedWeights(0.1, { mask: (p) => treeMap((x: tf.Tensor) => x.size > 1, p) }), params, grads);
      expectTreeClose(byFn.updates, want);
      return [params, grads];
    });
  });

  it('needs params, and rejects a non-finite rate or a bad schedule value', async () => {
    expect(() => addDecayedWeights(Number.NaN)).toThrow(/addDecayedWeights: `weightDecay` must be a finite number, got NaN/);
    expect(() => addDecayedWeights(Number.POSITIVE_INFINITY)).toThrow(/`weightDecay`/);
    await expectNoLeaks(() => {
      const p = { w: t([1]) };
      const g = { w: t([2]) };
      const tx = addDecayedWeights(0.1);
      expect(() => tx.update(g, tx.init(p))).toThrow(/addDecayedWeights: this transformation needs `params`/);
      const bad = addDecayedWeights(() => Number.NaN);
      expect(() => bad.update(g, bad.init(p), p)).toThrow(/addDecayedWeights: the schedule for `weightDecay` returned NaN at count 0/);
      const wrong = { w: t([1, 2]) };
      expect(() => tx.update(g, tx.init(p), wrong)).toThrow(/`w`.*shape/);
      return [p, g, wrong];
    });
  });

  it('is an element-wise spec (unmasked), pure, and leaks nothing', async () => {
    expect(addDecayedWeights(1e-2).fusion?.kind).toBe('elementwise');
    for (const tx of [
      addDecayedWeights(1e-2),
      addDecayedWeights((c) => 1e-2 / (c + 1)),
      addDecayedWeights(1e-2, { mask: { a: false, b: [true] } }),
    ]) {
      await expectPureSteps(tx, () => ({
        params: { a: t([1, 2]), b: [t([3])] },
        grads: [
          { a: t([0.5, -1]), b: [t([2])] },
          { a: t([0.1, 0]), b: [t([-1])] },
        ],
      }));
    }
  });

  it('composes in a chain (AdamW-style decay then learning rate)', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, -2]) };
      const grads = [{ w: t([0.5, 0.5]) }];
      const { updates } = runSteps(chain(addDecayedWeights(0.5), scaleByLearningRate(0.1)), params, grads);
      // -0.1 · (g + 0.5 p)
      expectTreeClose(updates, [{ w: [-0.1, 0.05] }]);
      return [params, grads];
    });
  });
});
