import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { purityProblem } from '../test-utils/purity.js';
import { treeLeaves } from '../tree.js';
import { keepParamsNonnegative, zeroNans } from './constrain.js';
import { scaleByLearningRate } from './scaling.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32); snippets above
 * each expectation, with A = lambda *x: jnp.array(x, dtype=jnp.float32) and
 *   def run(tx, params, grads_list):
 *       s = tx.init(params); out = []
 *       for g in grads_list:
 *           u, s = tx.update(g, s, params)
 *           out.append(jax.tree.map(lambda x: np.asarray(x).tolist(), u))
 *           params = optax.apply_updates(params, u)
 *       return out
 */

describe('keepParamsNonnegative', () => {
  it('matches optax over two steps (a negative param is moved to zero)', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([0.5, 1.0, 0.0, -1.0, 0.2]), b: t([2.0]) };
      const grads = [
        { w: t([-0.7, -0.5, 0.3, 0.5, -0.2]), b: t([-3.0]) },
        { w: t([0.1, -0.6, -0.1, 0.0, 0.0]), b: t([1.0]) },
      ];
      // run(optax.keep_params_nonnegative(), {'w': A(0.5,1.0,0.0,-1.0,0.2), 'b': A(2.0)},
      //     [{'w': A(-0.7,-0.5,0.3,0.5,-0.2), 'b': A(-3.0)}, {'w': A(0.1,-0.6,-0.1,0.0,0.0), 'b': A(1.0)}])
      const { updates, params: after } = runSteps(keepParamsNonnegative(), params, grads);
      expectTreeClose(updates, [
        { b: [-2.0], w: [-0.5, -0.5, 0.30000001192092896, 1.0, -0.20000000298023224] },
        { b: [1.0], w: [0.10000000149011612, -0.5, -0.10000000149011612, 0.0, 0.0] },
      ]);
      for (const p of after)
        for (const x of treeLeaves<number[]>(p, { isLeaf: Array.isArray })) expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
      return [params, grads];
    });
  });

  it('throws a clear error without params, and keeps null leaves', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]), frozen: null };
      const tx = keepParamsNonnegative();
      const s = tx.init(p);
      expect(() => tx.update(p, s)).toThrow(/keepParamsNonnegative: this transformation needs `params`/);
      const g = { w: t([-3, 1]), frozen: null };
      const [u] = tx.update(g, s, p);
      expect((u as { frozen: unknown }).frozen).toBeNull();
      expect(toArrays(u)).toEqual({ w: [-1, 1], frozen: null });
      return [p, g, u];
    });
  });
});

describe('zeroNans', () => {
  it('matches optax over three steps, found_nan per leaf included', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([0, 0, 0]), b: t([0]) };
      const grads = [
        { w: t([1.0, Number.NaN, 3.0]), b: t([0.5]) },
        { w: t([1.0, 2.0, 3.0]), b: t([Number.NaN]) },
        { w: t([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0]), b: t([Number.NaN]) },
      ];
      // tx = optax.zero_nans(); s = tx.init({'w': A(0,0,0), 'b': A(0)})
      //   -> ZeroNansState(found_nan={'b': False, 'w': False})
      // for g in [{'w': A(1.0,nan,3.0), 'b': A(0.5)}, {'w': A(1.0,2.0,3.0), 'b': A(nan)},
      //           {'w': A(inf,-inf,0), 'b': A(nan)}]:
      //     u, s = tx.update(g, s)
      // -> u {'b': [0.5], 'w': [1.0, 0.0, 3.0]}     found_nan {'b': False, 'w': True}
      //    u {'b': [0.0], 'w': [1.0, 2.0, 3.0]}     found_nan {'b': True, 'w': False}
      //    u {'b': [0.0], 'w': [inf, -inf, 0.0]}    found_nan {'b': True, 'w': False}
      const tx = zeroNans();
      let state = tx.init(params);
      const first = state.foundNan as { w: tf.Tensor; b: tf.Tensor };
      expect([first.w.dtype, first.w.shape]).toEqual(['bool', []]);
      expect(toArrays(state)).toEqual({ foundNan: { w: 0, b: 0 } });
      const got: unknown[] = [];
      const found: unknown[] = [];
      for (const g of grads) {
        const [u, s] = tx.update(g, state);
        got.push(toArrays(u));
        found.push(toArrays(s.foundNan));
        disposeTree([u, state]);
        state = s;
      }
      expectTreeClose(got, [
        { b: [0.5], w: [1.0, 0.0, 3.0] },
        { b: [0.0], w: [1.0, 2.0, 3.0] },
        { b: [0.0], w: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.0] },
      ]);
      // bool tensors read back as 1/0
      expect(found).toEqual([
        { b: 0, w: 1 },
        { b: 1, w: 0 },
        { b: 1, w: 0 },
      ]);
      return [params, grads, state];
    });
  });

  it('rejects a foreign state', async () => {
    await expectNoLeaks(() => {
      const g = { w: t([1]) };
      expect(() => zeroNans().update(g, {} as never)).toThrow(/zeroNans: the state lacks `foundNan`/);
      return g;
    });
  });
});

describe('constraints are pure and leak-free', () => {
  const cases: [string, () => { init(p: unknown): unknown; update(u: never, s: never, p?: never): [unknown, unknown] }][] = [
    ['keepParamsNonnegative', () => keepParamsNonnegative()],
    ['zeroNans', () => zeroNans()],
    ['a chain', () => chain(zeroNans(), scaleByLearningRate(0.1), keepParamsNonnegative())],
  ];
  for (const [name, make] of cases) {
    it(`${name}: inputs untouched, fresh outputs`, async () => {
      await expectNoLeaks(() => {
        const { params, g } = purityProblem([
          [0.5, Number.NaN],
          [2, -30],
        ]);
        const tx = make();
        const s0 = tx.init(params);
        const [u, s1] = tx.update(g as never, s0 as never, params as never);
        const [u2, s2] = tx.update(g as never, s1 as never, params as never);
        expect(Array.from(g.w.dataSync())).toEqual([0.5, Number.NaN, 2, -30]);
        expect(Array.from(params.w.dataSync())).toEqual([1, 2, 3, 4]);
        const inputs = new Set([g.w, g.b, params.w, params.b, ...treeLeaves(s0)]);
        for (const leaf of treeLeaves([u, s1])) expect(inputs.has(leaf as tf.Tensor)).toBe(false);
        return [params, g, s0, u, s1, u2, s2];
      });
    });
  }
});
