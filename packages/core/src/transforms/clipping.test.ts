import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { disposeTree, expectNoLeaks, expectTreeClose, t, toArrays, updatesOfSteps } from '../test-utils/index.js';
import { purityProblem } from '../test-utils/purity.js';
import { treeLeaves } from '../tree.js';
import { adaptiveGradClip, clip, clipByBlockRms, clipByGlobalNorm } from './clipping.js';
import { scaleByLearningRate } from './scaling.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   A = lambda *x: jnp.array(x, dtype=jnp.float32)
 *   R = lambda x, shape: jnp.asarray(np.array(x, dtype=np.float32).reshape(shape))
 *   def run(tx, params, grads_list):
 *       s = tx.init(params); out = []
 *       for g in grads_list:
 *           u, s = tx.update(g, s, params)
 *           out.append(jax.tree.map(lambda x: np.asarray(x).tolist(), u))
 *           params = optax.apply_updates(params, u)
 *       return out
 *
 * and the calls quoted above each expectation. `runSteps` applies the same
 * updates to the params (p + u), so params-dependent transforms see the same
 * params at each step.
 */

const NaN32 = Number.NaN;

describe('clip', () => {
  it('matches optax over three steps, NaN included', async () => {
    await expectNoLeaks(() => {
      // run(optax.clip(0.5), {'w': A(0,0,0,0), 'b': A(0)}, [
      //   {'w': A(0.3,-0.7,0.5,-0.5), 'b': A(2.0)}, {'w': A(1e-3,-1e-3,0.6,-2), 'b': A(-0.49)},
      //   {'w': A(nan,0.51,-0.51,0), 'b': A(0.1)}])
      const got = updatesOfSteps(clip(0.5), { w: [0, 0, 0, 0], b: [0] }, [
        { w: [0.3, -0.7, 0.5, -0.5], b: [2.0] },
        { w: [1e-3, -1e-3, 0.6, -2], b: [-0.49] },
        { w: [NaN32, 0.51, -0.51, 0], b: [0.1] },
      ]);
      expectTreeClose(got, [
        { b: [0.5], w: [0.30000001192092896, -0.5, 0.5, -0.5] },
        { b: [-0.49000000953674316], w: [0.0010000000474974513, -0.0010000000474974513, 0.5, -0.5] },
        { b: [0.10000000149011612], w: [NaN32, 0.5, -0.5, 0.0] },
      ]);
    });
  });

  it('clips everything to zero when maxDelta is 0', async () => {
    await expectNoLeaks(() => {
      // run(optax.clip(0.0), {'w': A(0,0)}, [{'w': A(0.3,-0.7)}]) -> [{'w': [0.0, -0.0]}]
      expectTreeClose(updatesOfSteps(clip(0), { w: [0, 0] }, [{ w: [0.3, -0.7] }]), [{ w: [0, 0] }]);
    });
  });

  it('rejects a negative or non-finite maxDelta', () => {
    expect(() => clip(-0.1)).toThrow(/clip: `maxDelta` must be a finite number >= 0, got -0.1/);
    expect(() => clip(Number.NaN)).toThrow(/maxDelta.*NaN/);
  });
});

describe('clipByGlobalNorm', () => {
  it('matches optax over three steps (above, below the threshold, zeros) and keeps the pre-clip norm', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([0, 0, 0]), b: t([0]) };
      const grads = [
        { w: t([0.5, -1.0, 2.0]), b: t([0.25]) },
        { w: t([0.1, -0.2, 0.3]), b: t([-0.4]) },
        { w: t([0, 0, 0]), b: t([0]) },
      ];
      const tx = clipByGlobalNorm(1.0);
      let state = tx.init(params);
      expect(state.globalNorm.shape).toEqual([]);
      expect(state.globalNorm.dtype).toBe('float32');
      expect(state.globalNorm.dataSync()[0]).toBe(0);
      const got: unknown[] = [];
      const norms: number[] = [];
      for (const g of grads) {
        const [u, s] = tx.update(g, state);
        got.push(toArrays(u));
        norms.push(s.globalNorm.dataSync()[0] as number);
        disposeTree([u, state]);
        state = s;
      }
      disposeTree(state);
      // run(optax.clip_by_global_norm(1.0), {'w': A(0,0,0), 'b': A(0)}, [
      //   {'w': A(0.5,-1.0,2.0), 'b': A(0.25)}, {'w': A(0.1,-0.2,0.3), 'b': A(-0.4)},
      //   {'w': A(0,0,0), 'b': A(0)}])
      expectTreeClose(got, [
        { b: [0.10846523195505142], w: [0.21693046391010284, -0.4338609278202057, 0.8677218556404114] },
        { b: [-0.4000000059604645], w: [0.10000000149011612, -0.20000000298023224, 0.30000001192092896] },
        { b: [0.0], w: [0.0, 0.0, 0.0] },
      ]);
      // float(optax.tree.norm(g)) for the first two steps
      expectTreeClose(norms, [2.3048861026763916, 0.547722578048706, 0]);
      return [params, grads];
    });
  });

  it('takes the rescaling branch at exactly the threshold, and propagates NaN', async () => {
    await expectNoLeaks(() => {
      // run(optax.clip_by_global_norm(5.0), {'w': A(0,0)}, [{'w': A(3,4)}]) -> [{'w': [3.0, 4.0]}], norm 5.0
      expectTreeClose(updatesOfSteps(clipByGlobalNorm(5), { w: [0, 0] }, [{ w: [3, 4] }]), [{ w: [3, 4] }]);
      // [3.3, 4.4] has norm exactly 5.5 in float32, and (3.3 / 5.5) · 5.5 rounds to one ulp below
      // 3.3, so the rescaling branch is visible in the bits. optax prints
      // run(optax.clip_by_global_norm(5.5), {'w': A(0,0)}, [{'w': A(3.3,4.4)}]) -> [[3.3000001907348633, 4.400000095367432]]
      // (XLA's vectorised cpu division is not correctly rounded: one ulp above); tfjs's cpu division is,
      // so the closed form is checked bit for bit and optax to float32 tolerance.
      const [atMax] = updatesOfSteps(clipByGlobalNorm(5.5), { w: [0, 0] }, [{ w: [3.3, 4.4] }]) as { w: number[] }[];
      const rescaled = Math.fround(Math.fround(Math.fround(3.3) / 5.5) * 5.5);
      expect(rescaled).not.toBe(Math.fround(3.3));
      expect(atMax?.w[0]).toBe(rescaled);
      expectTreeClose(atMax, { w: [3.3000001907348633, 4.400000095367432] });
      // run(optax.clip_by_global_norm(1.0), {'w': A(0,0)}, [{'w': A(nan,4)}]) -> [{'w': [nan, nan]}]
      expectTreeClose(updatesOfSteps(clipByGlobalNorm(1), { w: [0, 0] }, [{ w: [NaN32, 4] }]), [{ w: [NaN32, NaN32] }]);
    });
  });

  it('exposes its spec, with the norm kept in the state, to the fused engine', () => {
    const tx = clipByGlobalNorm(1);
    expect(tx.fusion?.kind).toBe('elementwise');
    const spec = tx.fusion?.kind === 'elementwise' ? tx.fusion.spec : undefined;
    expect(spec?.reductions).toEqual([{ name: 'globalNorm', of: 'u', op: 'l2', scope: 'global' }]);
    expect(spec?.reductionsInState).toEqual(['globalNorm']);
  });

  it('rejects a non-positive or non-finite maxNorm, and a state without globalNorm', () => {
    expect(() => clipByGlobalNorm(0)).toThrow(/clipByGlobalNorm: `maxNorm` must be a finite number > 0, got 0/);
    expect(() => clipByGlobalNorm(-1)).toThrow(/maxNorm.*-1/);
    expect(() => clipByGlobalNorm(Number.NaN)).toThrow(/maxNorm.*NaN/);
    expect(() => clipByGlobalNorm(Number.POSITIVE_INFINITY)).toThrow(/maxNorm.*Infinity/);
    const g = { w: t([1, 2]) };
    expect(() => clipByGlobalNorm(1).update(g, {} as never)).toThrow(/clipByGlobalNorm: the state lacks `globalNorm`/);
    g.w.dispose();
  });
});

describe('clipByBlockRms', () => {
  it('matches optax over three steps, rms exactly at the threshold included', async () => {
    await expectNoLeaks(() => {
      // run(optax.clip_by_block_rms(0.5), {'w': A(0,0,0,0), 'b': A(0,0)}, [
      //   {'w': A(0.5,-1.0,2.0,0.1), 'b': A(0.1,-0.2)}, {'w': A(0.3,0.3,-0.3,0.3), 'b': A(3,-4)},
      //   {'w': A(0,0,0,0), 'b': A(0.5,0.5)}])
      const got = updatesOfSteps(clipByBlockRms(0.5), { w: [0, 0, 0, 0], b: [0, 0] }, [
        { w: [0.5, -1.0, 2.0, 0.1], b: [0.1, -0.2] },
        { w: [0.3, 0.3, -0.3, 0.3], b: [3, -4] },
        { w: [0, 0, 0, 0], b: [0.5, 0.5] },
      ]);
      expectTreeClose(got, [
        {
          b: [0.10000000149011612, -0.20000000298023224],
          w: [0.21801036596298218, -0.43602073192596436, 0.8720414638519287, 0.043602075427770615],
        },
        {
          b: [0.4242640733718872, -0.5656854510307312],
          w: [0.30000001192092896, 0.30000001192092896, -0.30000001192092896, 0.30000001192092896],
        },
        { b: [0.5, 0.5], w: [0.0, 0.0, 0.0, 0.0] },
      ]);
    });
  });

  it('rejects a non-positive threshold', () => {
    expect(() => clipByBlockRms(0)).toThrow(/clipByBlockRms: `threshold` must be a finite number > 0, got 0/);
    expect(() => clipByBlockRms(Number.NaN)).toThrow(/threshold.*NaN/);
  });
});

describe('adaptiveGradClip', () => {
  // Leaves of rank 0, 1, 2, 4, a [1, 5] row (squeezed rank 1: one unit) and zero params (eps).
  const P = {
    v: [0.5, -0.25, 1.0],
    m: [
      [-0.2, -0.1],
      [0, 0.1],
      [0.2, 0.3],
    ],
    row: [[0.1, 0.2, 0.3, 0.4, 0.5]],
    k: [
      [[[0.01, 0.06]], [[0.11, 0.16]]],
      [[[0.21, 0.26]], [[0.31, 0.36]]],
    ],
    z: [0, 0],
    s: 2.0,
  };
  const G1 = {
    v: [0.3, 0.1, -0.2],
    m: [
      [0.3, 0.25],
      [0.2, 0.15],
      [0.1, 0.05],
    ],
    row: [[0.5, -0.5, 0.5, -0.5, 0.5]],
    k: [
      [[[-0.3, -0.1]], [[0.1, 0.3]]],
      [[[0.5, 0.7]], [[0.9, 1.1]]],
    ],
    z: [1e-5, -1e-5],
    s: 1.0,
  };
  const G2 = {
    v: [-0.14, -0.04, 0.11],
    m: [
      [-0.14, -0.115],
      [-0.09, -0.065],
      [-0.04, -0.015],
    ],
    row: [[-0.24, 0.26, -0.24, 0.26, -0.24]],
    k: [
      [[[0.0115, 0.0105]], [[0.0095, 0.0085]]],
      [[[0.0075, 0.0065]], [[0.0055, 0.0045]]],
    ],
    z: [0.01, 0.01],
    s: -0.49,
  };
  // P, G1, G2 as above, in Python with A(...) for vectors, R(values, shape) for the rest, jnp.float32(x) for s.

  it('matches optax over two steps with the default eps and inferred units', async () => {
    await expectNoLeaks(() => {
      // run(optax.adaptive_grad_clip(0.1), P, [G1, G2])
      expectTreeClose(updatesOfSteps(adaptiveGradClip(0.1), P, [G1, G2]), [
        {
          k: [
            [[[-0.01087388675659895, -0.003546516178175807]], [[0.003624628996476531, 0.010639549233019352]]],
            [[[0.018123144283890724, 0.02482561394572258]], [[0.032621659338474274, 0.03901167958974838]]],
          ],
          m: [
            [0.022677868604660034, 0.028030594810843468],
            [0.01511857844889164, 0.01681835763156414],
            [0.00755928922444582, 0.005606119055300951],
          ],
          row: [[0.033166252076625824, -0.033166252076625824, 0.033166252076625824, -0.033166252076625824, 0.033166252076625824]],
          s: 0.20000000298023224,
          v: [0.09185586869716644, 0.03061862289905548, -0.06123724579811096],
          z: [9.999999747378752e-6, -9.999999747378752e-6],
        },
        {
          k: [
            [[[0.011500000022351742, 0.010499999858438969]], [[0.009499999694526196, 0.008500000461935997]]],
            [[[0.007499999832361937, 0.006500000134110451]], [[0.005499999970197678, 0.0044999998062849045]]],
          ],
          m: [
            [-0.02236182987689972, -0.028977150097489357],
            [-0.01437546219676733, -0.016378387808799744],
            [-0.006389094050973654, -0.0037796280812472105],
          ],
          row: [[-0.03280353546142578, 0.03553716465830803, -0.03280353546142578, 0.03553716465830803, -0.03280353546142578]],
          s: -0.2200000137090683,
          v: [-0.08678797632455826, -0.024796564131975174, 0.0681905522942543],
          z: [7.071068102959543e-5, 7.071068102959543e-5],
        },
      ]);
    });
  });

  it('matches optax with eps', async () => {
    await expectNoLeaks(() => {
      // run(optax.adaptive_grad_clip(0.5, eps=0.1), P, [G1, G2])
      expectTreeClose(updatesOfSteps(adaptiveGradClip(0.5, { eps: 0.1 }), P, [G1, G2]), [
        {
          k: [
            [[[-0.05436943098902702, -0.01773258112370968]], [[0.018123142421245575, 0.053197745233774185]]],
            [[[0.09061571210622787, 0.1241280660033226]], [[0.16310827434062958, 0.1950584053993225]]],
          ],
          m: [
            [0.11338934302330017, 0.1401529759168625],
            [0.07559289783239365, 0.08409179002046585],
            [0.03779644891619682, 0.028030594810843468],
          ],
          row: [[0.16583123803138733, -0.16583123803138733, 0.16583123803138733, -0.16583123803138733, 0.16583123803138733]],
          s: 1.0,
          v: [0.30000001192092896, 0.10000000149011612, -0.20000000298023224],
          z: [9.999999747378752e-6, -9.999999747378752e-6],
        },
        {
          k: [
            [[[0.011500000022351742, 0.010499999858438969]], [[0.009499999694526196, 0.008500000461935997]]],
            [[[0.007499999832361937, 0.006500000134110451]], [[0.005499999970197678, 0.0044999998062849045]]],
          ],
          m: [
            [-0.1080130785703659, -0.11500000208616257],
            [-0.06943698227405548, -0.06499999761581421],
            [-0.03086087852716446, -0.014999999664723873],
          ],
          row: [[-0.19181954860687256, 0.20780451595783234, -0.19181954860687256, 0.20780451595783234, -0.19181954860687256]],
          s: -0.49000000953674316,
          v: [-0.14000000059604645, -0.03999999910593033, 0.10999999940395355],
          z: [0.009999999776482582, 0.009999999776482582],
        },
      ]);
    });
  });

  it('matches optax with an explicit axis (one, negative, several)', async () => {
    await expectNoLeaks(() => {
      // run(optax.adaptive_grad_clip(0.2, axis=1), {'m': P['m']}, [{'m': G1['m']}]); axis=-1 prints the same
      const byRow = [
        {
          m: [
            [0.034355901181697845, 0.02862991765141487],
            [0.01600000075995922, 0.012000001035630703],
            [0.06449806690216064, 0.03224903345108032],
          ],
        },
      ];
      expectTreeClose(updatesOfSteps(adaptiveGradClip(0.2, { axis: 1 }), { m: P.m }, [{ m: G1.m }]), byRow);
      expectTreeClose(updatesOfSteps(adaptiveGradClip(0.2, { axis: -1 }), { m: P.m }, [{ m: G1.m }]), byRow);
      // run(optax.adaptive_grad_clip(0.2, axis=(0, 1)), {'m': P['m']}, [{'m': G1['m']}])
      expectTreeClose(updatesOfSteps(adaptiveGradClip(0.2, { axis: [0, 1] }), { m: P.m }, [{ m: G1.m }]), [
        {
          m: [
            [0.05483241751790047, 0.04569368064403534],
            [0.03655494377017021, 0.027416208758950233],
            [0.018277471885085106, 0.009138735942542553],
          ],
        },
      ]);
    });
  });

  it('throws clear errors: missing params, bad options, shapes it cannot infer', async () => {
    await expectNoLeaks(() => {
      expect(() => adaptiveGradClip(-1)).toThrow(/adaptiveGradClip: `clipping` must be a finite number >= 0, got -1/);
      expect(() => adaptiveGradClip(0.1, { eps: -1 })).toThrow(/`eps`.*-1/);
      expect(() => adaptiveGradClip(0.1, { axis: 0.5 })).toThrow(/`axis` must be an integer/);
      expect(() => adaptiveGradClip(0.1, { axis: [] })).toThrow(/`axis` must be an integer/);
      const p = { w: t([1, 2]) };
      const tx = adaptiveGradClip(0.1);
      const s = tx.init(p);
      expect(() => tx.update(p, s)).toThrow(/adaptiveGradClip: this transformation needs `params`/);
      expect(() => adaptiveGradClip(0.1, { axis: 1 }).update(p, s, p)).toThrow(
        /`axis` 1 is out of range for the leaf at `w` of shape \[2\]/,
      );
      const big = { deep: tf.zeros([2, 2, 2, 2, 2, 2]) };
      expect(() => tx.update(big, s, big)).toThrow(
        /cannot infer the units of the leaf at `deep` of shape \[2, 2, 2, 2, 2, 2\].*pass `axis`/,
      );
      const [u] = adaptiveGradClip(0.1, { axis: [0, 5] }).update(big, s, big);
      expect((u as { deep: tf.Tensor }).deep.shape).toEqual([2, 2, 2, 2, 2, 2]);
      return [p, big, u];
    });
  });
});

describe('clipping transforms are pure and leak-free', () => {
  const cases: [string, () => { init(p: unknown): unknown; update(u: never, s: never, p?: never): [unknown, unknown] }][] = [
    ['clip', () => clip(0.1)],
    ['clipByGlobalNorm', () => clipByGlobalNorm(0.1)],
    ['clipByBlockRms', () => clipByBlockRms(0.1)],
    ['adaptiveGradClip', () => adaptiveGradClip(0.01)],
    ['a chain', () => chain(clipByGlobalNorm(0.5), clip(0.1), scaleByLearningRate(0.1))],
  ];
  for (const [name, make] of cases) {
    it(`${name}: inputs untouched, fresh outputs`, async () => {
      await expectNoLeaks(() => {
        const { params, g } = purityProblem();
        const tx = make();
        const s0 = tx.init(params);
        const [u, s1] = tx.update(g as never, s0 as never, params as never);
        const [u2, s2] = tx.update(u as never, s1 as never, params as never);
        expect(Array.from(g.w.dataSync())).toEqual([0.5, -0.5, 2, -3]);
        expect(Array.from(params.w.dataSync())).toEqual([1, 2, 3, 4]);
        const inputs = new Set([g.w, g.b, params.w, params.b]);
        for (const leaf of treeLeaves([u, s1, u2, s2])) expect(inputs.has(leaf as tf.Tensor)).toBe(false);
        expect((u as { w: tf.Tensor }).w.isDisposed).toBe(false);
        return [params, g, s0, u, s1, u2, s2];
      });
    });
  }
});
