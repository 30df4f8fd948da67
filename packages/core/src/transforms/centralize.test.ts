import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t } from '../test-utils/index.js';
import { treeLeaves } from '../tree.js';
import { centralize } from './centralize.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   R = lambda x, shape: jnp.asarray(np.array(x, dtype=np.float32).reshape(shape))
 *   CG = {'m': R([1,2,3,4,5,7],(2,3)), 'v': A(1,2,3), 'c': R([0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.9],(2,2,2)),
 *         's': jnp.float32(3.0), 'r': R([0.5,1.5],(1,2)), 'col': R([0.5,1.5],(2,1))}
 *   tx = optax.centralize(); s = tx.init(CG)
 *   for g in [CG, jax.tree.map(lambda x: x*x, CG)]:
 *       u, s = tx.update(g, s); print(jax.tree.map(lambda x: np.asarray(x).tolist(), u))
 */
const CG = {
  m: [
    [1, 2, 3],
    [4, 5, 7],
  ],
  v: [1, 2, 3],
  c: [
    [
      [0.1, 0.2],
      [0.3, 0.4],
    ],
    [
      [0.5, 0.6],
      [0.7, 0.9],
    ],
  ],
  s: 3,
  r: [[0.5, 1.5]],
  col: [[0.5], [1.5]],
};

describe('centralize', () => {
  it('matches optax over two steps: per-row means for rank >= 2, vectors and scalars unchanged', async () => {
    await expectNoLeaks(() => {
      const g1 = Object.fromEntries(Object.entries(CG).map(([k, v]) => [k, t(v as number[])]));
      const g2 = tf.tidy(() => Object.fromEntries(Object.entries(g1).map(([k, v]) => [k, tf.mul(v, v)])));
      const { updates } = runSteps(centralize(), g1, [g1, g2]);
      expectTreeClose(updates, [
        {
          c: [
            [
              [-0.15000000596046448, -0.04999999701976776],
              [0.050000011920928955, 0.15000000596046448],
            ],
            [
              [-0.17499995231628418, -0.07499992847442627],
              [0.025000035762786865, 0.2250000238418579],
            ],
          ],
          col: [[0.0], [0.0]],
          m: [
            [-1.0, 0.0, 1.0],
            [-1.3333334922790527, -0.33333349227905273, 1.6666665077209473],
          ],
          r: [[-0.5, 0.5]],
          s: 3.0,
          v: [1.0, 2.0, 3.0],
        },
        {
          c: [
            [
              [-0.0650000050663948, -0.03500000014901161],
              [0.015000000596046448, 0.08500000834465027],
            ],
            [
              [-0.22749999165534973, -0.11749997735023499],
              [0.012499988079071045, 0.3324999511241913],
            ],
          ],
          col: [[0.0], [0.0]],
          m: [
            [-3.6666669845581055, -0.6666669845581055, 4.3333330154418945],
            [-14.0, -5.0, 19.0],
          ],
          r: [[-1.0, 1.0]],
          s: 9.0,
          v: [1.0, 4.0, 9.0],
        },
      ]);
      disposeTree([g1, g2]);
    });
  });

  it('keeps null leaves, rejects a foreign state, is pure and leak-free', async () => {
    await expectNoLeaks(() => {
      const g = {
        w: t([
          [1, 2],
          [3, 5],
        ]),
        v: t([1, 2]),
        none: null,
      };
      const tx = centralize();
      const s0 = tx.init(g);
      expect(s0).toEqual({});
      const [u, s1] = tx.update(g, s0);
      expect((u as { none: unknown }).none).toBeNull();
      expect(Array.from(g.w.dataSync())).toEqual([1, 2, 3, 5]);
      const inputs = new Set([g.w, g.v]);
      for (const leaf of treeLeaves([u, s1])) expect(inputs.has(leaf as tf.Tensor)).toBe(false);
      expect(() => tx.update(g, null as never)).toThrow(/centralize: expected the state made by centralize\(\)\.init, got null/);
      return [g, u];
    });
  });
});
