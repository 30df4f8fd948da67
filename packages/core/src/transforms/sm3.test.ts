import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectTreeClose, toArrays } from '../test-utils/index.js';
import { patternLeaf as leaf, runPatternSteps } from '../test-utils/pattern-trees.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { scaleBySm3 } from './sm3.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   def G(shape, step, off):  # exact in float32, the same in JS
 *       k = np.arange(int(np.prod(shape)))
 *       return jnp.asarray((((k * 7 + step * 3 + off) % 11 - 5) / 4).reshape(shape).astype(np.float32))
 *   S = {'a': (4,), 'b': (2, 3), 'c': (2, 3, 2)}
 *   tree = lambda step: {n: G(shape, step, i) for i, (n, shape) in enumerate(sorted(S.items()))}
 *   params = tree(100); s = tx.init(params)
 *   for step in range(3):
 *       u, s = tx.update(tree(step), s, params); print(u); params = optax.apply_updates(params, u)
 */
const SHAPES: Record<string, number[]> = { a: [4], b: [2, 3], c: [2, 3, 2] };

const run = (tx: ReturnType<typeof scaleBySm3>) => runPatternSteps(tx, SHAPES);

describe('scaleBySm3', () => {
  it('matches optax with the defaults (b2 = 1: a running sum)', async () => {
    await expectNoLeaks(() => {
      // tx = optax.scale_by_sm3()
      const { updates, state } = run(scaleBySm3());
      expectTreeClose(
        updates,
        [
          {
            a: [-0.1, 0.1, -0.1, 0.1],
            b: [
              [-0.1, 0.1, -0.099999994],
              [-0.1, 0.1, -0.1],
            ],
            c: [
              [
                [-0.1, 0.1],
                [0, -0.1],
                [0.1, -0.099999994],
              ],
              [
                [-0.1, 0.1],
                [-0.1, 0.1],
                [0.099999994, -0.1],
              ],
            ],
          },
          {
            a: [-0.12713906, 0.18284766, -0.045278635, 0.03855042],
            b: [
              [-0.11425356, 0.0042507052, -0.019289307],
              [-0.12713906, 0.17574929, -0.045278635],
            ],
            c: [
              [
                [-0.089999996, 0.019289315],
                [0.060000002, -0.11425356],
                [0.0042507052, -0.03452997],
              ],
              [
                [-0.12713906, 0.16071068],
                [-0.070388384, 0.03855042],
                [0.16999999, -0.089999996],
              ],
            ],
          },
          {
            a: [-0.096167736, 0.11589647, 0.046536386, 0.03469538],
            b: [
              [-0.06801267, -0.028618649, 0.069678456],
              [-0.096167736, 0.112424776, 0.04089889],
            ],
            c: [
              [
                [-0.03525042, 0.000457298],
                [-0.011094462, -0.070383914],
                [-0.028618649, 0.034017492],
              ],
              [
                [-0.097522065, 0.10558294],
                [-0.0067810006, 0.03469538],
                [0.096431434, -0.03525042],
              ],
            ],
          },
        ],
        { rtol: 2e-6, atol: 1e-8 },
      );
      // ScaleBySM3State(mu={'a': [[1.875, 2.375, 1.3125, 2.125]], 'b': [[2.375, 2.6875], [2.0625, 2.6875, 2.0625]],
      //                     'c': [[3.6875, 3.6875], [3.6875, 3.6875, 3.6875], [3.6875, 3.6875]]}, nu=<the last updates>)
      expectTreeClose((state as { mu: unknown }).mu, {
        a: [[1.875, 2.375, 1.3125, 2.125]],
        b: [
          [2.375, 2.6875],
          [2.0625, 2.6875, 2.0625],
        ],
        c: [
          [3.6875, 3.6875],
          [3.6875, 3.6875, 3.6875],
          [3.6875, 3.6875],
        ],
      });
    });
  });

  it('matches optax with b1, b2 and eps', async () => {
    await expectNoLeaks(() => {
      // tx = optax.scale_by_sm3(b1=0.5, b2=0.9, eps=1e-3)
      const { updates } = run(scaleBySm3({ b1: 0.5, b2: 0.9, eps: 1e-3 }));
      expectTreeClose(
        updates,
        [
          {
            a: [-1.5761032, 1.5504341, -1.5504341, 1.5761032],
            b: [
              [-1.5732919, 1.5672688, -1.4680505],
              [-1.5761032, 1.5504341, -1.5504341],
            ],
            c: [
              [
                [-1.5672688, 1.5732919],
                [0, -1.5732919],
                [1.5672688, -1.4680505],
              ],
              [
                [-1.5761032, 1.5504341],
                [-1.5504341, 1.5761032],
                [1.4680505, -1.5672688],
              ],
            ],
          },
          {
            a: [-1.4005005, 2.2493804, -0.050503254, -0.054964364],
            b: [
              [-1.1874806, -0.58718073, 0.40116632],
              [-1.4005005, 2.1460323, -0.050503254],
            ],
            c: [
              [
                [-0.7836344, -0.357426],
                [0.97724533, -1.1874806],
                [-0.58718073, 0.16911411],
              ],
              [
                [-1.4005005, 1.9203687],
                [-0.45015773, -0.054964364],
                [2.018083, -0.7836344],
              ],
            ],
          },
          {
            a: [-0.3840857, 0.32175857, 1.3784732, -0.027482182],
            b: [
              [0.0037673116, -0.83631575, 1.5981257],
              [-0.3840857, 0.3129742, 1.2935094],
            ],
            c: [
              [
                [0.36822474, -0.46292323],
                [-0.59212065, -0.039125443],
                [-0.83631575, 1.1510456],
              ],
              [
                [-0.41604003, 0.30182087],
                [0.7229056, -0.027482182],
                [0.07602954, 0.36822474],
              ],
            ],
          },
        ],
        { rtol: 2e-6, atol: 1e-9 },
      );
    });
  });

  it('keeps one accumulator per axis in mu and the params-shaped nu', async () => {
    await expectNoLeaks(() => {
      const params = { m: tf.zeros([2, 3]), v: [tf.zeros([4])] };
      const s = scaleBySm3().init(params);
      expect(toArrays(s)).toEqual({
        mu: {
          m: [
            [0, 0],
            [0, 0, 0],
          ],
          v: [[[0, 0, 0, 0]]],
        },
        nu: {
          m: [
            [0, 0, 0],
            [0, 0, 0],
          ],
          v: [[0, 0, 0, 0]],
        },
      });
      expect(scaleBySm3().fusion).toBeUndefined();
      return [params, s];
    });
  });

  it('rejects scalars, bad hyperparameters and a foreign state', async () => {
    expect(() => scaleBySm3({ b1: 1.5 })).toThrow(/scaleBySm3: `b1` must be in \[0, 1\], got 1.5/);
    expect(() => scaleBySm3({ b2: -1 })).toThrow(/scaleBySm3: `b2`/);
    expect(() => scaleBySm3({ eps: -1 })).toThrow(/scaleBySm3: `eps`/);
    await expectNoLeaks(() => {
      const scalarParams = { s: tf.scalar(1) };
      expect(() => scaleBySm3().init(scalarParams)).toThrow(/scaleBySm3: the tensor at `s` of params is a scalar \(rank 0\)/);
      const params = { m: tf.zeros([2, 3]) };
      const s = scaleBySm3().init(params);
      const transposed = { m: tf.zeros([3, 2]) };
      expect(() => scaleBySm3().update(transposed, s)).toThrow(/`m`.*shape \[3, 2\].*\[2, 3\]/);
      const badMu = { mu: { m: [(s.mu as { m: tf.Tensor[] }).m[0]] }, nu: s.nu };
      expect(() => scaleBySm3().update(params, badMu)).toThrow(
        /scaleBySm3: state.mu at `m` must be an array of 2 vectors of lengths \[2, 3\]/,
      );
      expect(() => scaleBySm3().update(params, { nu: s.nu } as never)).toThrow(/scaleBySm3: the state lacks `mu`/);
      return [scalarParams, params, s, transposed];
    });
  });

  it('is pure and leaks nothing', async () => {
    await expectPureSteps(scaleBySm3({ b2: 0.9 }), () => ({
      params: { a: tf.zeros([3]), b: [tf.zeros([2, 2])], c: null },
      grads: [0, 1].map((step) => ({ a: leaf([3], step, 0), b: [leaf([2, 2], step, 1)], c: null })),
    }));
  });
});
