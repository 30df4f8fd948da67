import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectTreeClose, toArrays } from '../test-utils/index.js';
import { printedTables } from '../test-utils/optax-steps.js';
import { patternLeaf as leaf, runPatternSteps } from '../test-utils/pattern-trees.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { scaleByFactoredRms } from './factored.js';

/** The tables printed by optax 0.2.8 for this file (`fixtures/factored.json`). */
const table = printedTables('factored.json');

/*
 * Expected values (the constants at the end of this file, read from
 * fixtures/factored.json) printed by optax
 * 0.2.8 (jax cpu, float32) with
 *
 *   def G(shape, step, off):  # exact in float32, the same in JS
 *       k = np.arange(int(np.prod(shape)))
 *       return jnp.asarray((((k * 7 + step * 3 + off) % 11 - 5) / 4).reshape(shape).astype(np.float32))
 *   S = {'a': (5,), 'b': (3, 4), 'c': (2, 3, 4), 'd': (4, 4, 2), 'e': (5, 3)}
 *   tree = lambda step: {n: G(shape, step, i) for i, (n, shape) in enumerate(sorted(S.items()))}
 *   params = tree(100); s = tx.init(params)
 *   for step in range(3):
 *       u, s = tx.update(tree(step), s, params); print(u); params = optax.apply_updates(params, u)
 *
 * The shapes cover: a vector (never factored), the largest axis last (b, c),
 * a tie between the two largest axes (d: factored over axes 0 and 1), and the
 * largest axis first (e).
 */
const SHAPES: Record<string, number[]> = { a: [5], b: [3, 4], c: [2, 3, 4], d: [4, 4, 2], e: [5, 3] };

const run = (tx: ReturnType<typeof scaleByFactoredRms>) => runPatternSteps(tx, SHAPES);

// float32 rounding: XLA and tfjs may sum the means in a different order.
const TOL = { rtol: 1e-6, atol: 1e-9 };

describe('scaleByFactoredRms', () => {
  it('matches optax when factoring every matrix (minDimSizeToFactor = 2)', async () => {
    await expectNoLeaks(() => {
      const { updates, state } = run(scaleByFactoredRms({ minDimSizeToFactor: 2 }));
      expectTreeClose(updates, MIN2, TOL);
      // FactoredState shapes: v_row {'a': (1,), 'b': (3,), 'c': (2, 3), 'd': (4, 2), 'e': (3,)},
      //   v_col {'a': (1,), 'b': (4,), 'c': (2, 4), 'd': (4, 2), 'e': (5,)}, v {'a': (5,), others (1,)}; count 3
      const s = state as { count: number; vRow: Record<string, number[]>; vCol: Record<string, number[]>; v: Record<string, number[]> };
      expect(s.count).toBe(3);
      const shapeOf = (x: unknown): number[] => (Array.isArray(x) ? [x.length, ...shapeOf(x[0])] : []);
      const shapes = (t: Record<string, unknown>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, shapeOf(v)]));
      expect(shapes(s.vRow)).toEqual({ a: [1], b: [3], c: [2, 3], d: [4, 2], e: [3] });
      expect(shapes(s.vCol)).toEqual({ a: [1], b: [4], c: [2, 4], d: [4, 2], e: [5] });
      expect(shapes(s.v)).toEqual({ a: [5], b: [1], c: [1], d: [1], e: [1] });
      // v_row['e'] = [0.49858195, 0.655305, 0.73435223], v_col['b'] = [0.5226194, 0.62591994, 0.7213007, 0.5463946]
      expectTreeClose(
        [s.vRow.e, s.vCol.b],
        [
          [0.49858195, 0.655305, 0.73435223],
          [0.5226194, 0.62591994, 0.7213007, 0.5463946],
        ],
        TOL,
      );
    });
  });

  it('matches optax without factoring (factored: false, and the defaults on small params)', async () => {
    await expectNoLeaks(() => {
      expectTreeClose(run(scaleByFactoredRms({ factored: false })).updates, UNFACTORED, TOL);
      expectTreeClose(run(scaleByFactoredRms()).updates, UNFACTORED, TOL);
    });
  });

  it('matches optax with decayRate, stepOffset, minDimSizeToFactor and epsilon', async () => {
    await expectNoLeaks(() => {
      const tx = scaleByFactoredRms({ decayRate: 0.5, stepOffset: -2, minDimSizeToFactor: 4, epsilon: 1e-3 });
      expectTreeClose(run(tx).updates, OPTIONS, TOL);
    });
  });

  it('matches optax with a custom decayRateFn, called with (count - stepOffset, decayRate)', async () => {
    await expectNoLeaks(() => {
      expectTreeClose(run(scaleByFactoredRms({ minDimSizeToFactor: 2, decayRateFn: () => 0.5 })).updates, CONST_DECAY, TOL);
      const calls: [number, number][] = [];
      run(
        scaleByFactoredRms({
          stepOffset: 3,
          decayRate: 0.7,
          decayRateFn: (step, rate) => {
            calls.push([step, rate]);
            return 0.5;
          },
        }),
      );
      expect(calls).toEqual([
        [-3, 0.7],
        [-2, 0.7],
        [-1, 0.7],
      ]);
    });
  });

  it('throws where optax would silently produce NaN (count below stepOffset)', async () => {
    await expectNoLeaks(() => {
      // optax.scale_by_factored_rms(step_offset=5): the first update is all NaN.
      const tx = scaleByFactoredRms({ stepOffset: 5 });
      const p = { w: tf.tensor([1, 2, 3]) };
      const s = tx.init(p);
      expect(() => tx.update(p, s, p)).toThrow(/scaleByFactoredRms: the decay rate decayRateFn\(-5, 0.8\) at count 0 is NaN/);
      return [p, s];
    });
  });

  it('rejects bad options, missing params and a foreign state', async () => {
    expect(() => scaleByFactoredRms({ factored: 1 as never })).toThrow(/scaleByFactoredRms: `factored` must be a boolean/);
    expect(() => scaleByFactoredRms({ decayRate: Number.NaN })).toThrow(/`decayRate` must be a finite number, got NaN/);
    expect(() => scaleByFactoredRms({ stepOffset: 0.5 })).toThrow(/`stepOffset` must be an integer, got 0.5/);
    expect(() => scaleByFactoredRms({ minDimSizeToFactor: -1 })).toThrow(/`minDimSizeToFactor` must be an integer >= 0, got -1/);
    expect(() => scaleByFactoredRms({ epsilon: -1 })).toThrow(/`epsilon`/);
    expect(() => scaleByFactoredRms({ decayRateFn: 0.5 as never })).toThrow(/`decayRateFn` must be a function/);
    await expectNoLeaks(() => {
      const tx = scaleByFactoredRms({ minDimSizeToFactor: 2 });
      const p = { m: tf.zeros([2, 3]) };
      const s = tx.init(p);
      expect(() => tx.update(p, s)).toThrow(/scaleByFactoredRms: this transformation needs `params`/);
      const other = { m: tf.zeros([4, 3]) };
      expect(() => tx.update(other, s, other)).toThrow(/state.vRow at `m` has shape \[2\], expected \[3\] for a param of shape \[4, 3\]/);
      expect(() => tx.update(p, { ...s, count: -1 }, p)).toThrow(/state.count must be a number >= 0/);
      return [p, s, other];
    });
  });

  it('starts from zeros, is not element-wise, is pure and leaks nothing', async () => {
    await expectNoLeaks(() => {
      const p = { m: tf.zeros([2, 3]), v: tf.zeros([2]) };
      const s = scaleByFactoredRms({ minDimSizeToFactor: 2 }).init(p);
      expect(toArrays(s)).toEqual({ count: 0, vRow: { m: [0, 0], v: [0] }, vCol: { m: [0, 0, 0], v: [0] }, v: { m: [0], v: [0, 0] } });
      expect(scaleByFactoredRms().fusion).toBeUndefined();
      return [p, s];
    });
    await expectPureSteps(scaleByFactoredRms({ minDimSizeToFactor: 2 }), () => ({
      params: { m: leaf([2, 3], 100, 0), v: [leaf([3], 100, 1)], n: null },
      grads: [0, 1].map((step) => ({ m: leaf([2, 3], step, 0), v: [leaf([3], step, 1)], n: null })),
    }));
  });
});

/** tx = optax.scale_by_factored_rms(min_dim_size_to_factor=2) */
const MIN2 = table('MIN2');

/** tx = optax.scale_by_factored_rms(factored=False), and optax.scale_by_factored_rms() (same values) */
const UNFACTORED = table('UNFACTORED');

/** tx = optax.scale_by_factored_rms(decay_rate=0.5, step_offset=-2, min_dim_size_to_factor=4, epsilon=1e-3) */
const OPTIONS = table('OPTIONS');

/** tx = optax.scale_by_factored_rms(min_dim_size_to_factor=2, decay_rate_fn=lambda step, rate: 0.5) */
const CONST_DECAY = table('CONST_DECAY');
