import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { expectNoLeaks, expectTreeClose, type runSteps, t, updatesOfSteps } from '../test-utils/index.js';
import { purityProblem } from '../test-utils/purity.js';
import { treeLeaves } from '../tree.js';
import { scaleByLearningRate } from './scaling.js';
import { normalizeByUpdateNorm, scaleByParamBlockNorm, scaleByParamBlockRms, scaleByTrustRatio } from './trust.js';

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
 *   TP = {'w': R([0.5,-1.0,2.0,0.25],(2,2)), 'b': A(0.1,-0.2,0.3), 'z': A(0,0)}
 *   TG = [{'w': R([0.1,0.2,-0.3,0.4],(2,2)), 'b': A(1.0,-2.0,0.5), 'z': A(0.3,-0.1)},
 *         {'w': R([-0.05,0.02,0.01,-0.4],(2,2)), 'b': A(0,0,0), 'z': A(0.2,0.2)},
 *         {'w': R([0.3,-0.3,0.3,-0.3],(2,2)), 'b': A(0.01,0.02,-0.03), 'z': A(-0.5,0.5)}]
 *
 * and the calls quoted above each expectation. `runSteps` applies each update
 * to the params (p + u) as `run` does. The tree covers a zero param leaf (`z`
 * at the first step) and a zero update leaf (`b` at the second).
 */
const TP = {
  w: [
    [0.5, -1.0],
    [2.0, 0.25],
  ],
  b: [0.1, -0.2, 0.3],
  z: [0, 0],
};
const TG = [
  {
    w: [
      [0.1, 0.2],
      [-0.3, 0.4],
    ],
    b: [1.0, -2.0, 0.5],
    z: [0.3, -0.1],
  },
  {
    w: [
      [-0.05, 0.02],
      [0.01, -0.4],
    ],
    b: [0, 0, 0],
    z: [0.2, 0.2],
  },
  {
    w: [
      [0.3, -0.3],
      [0.3, -0.3],
    ],
    b: [0.01, 0.02, -0.03],
    z: [-0.5, 0.5],
  },
];

async function expectOptax(tx: Parameters<typeof runSteps>[0], want: unknown[]): Promise<void> {
  await expectNoLeaks(() => expectTreeClose(updatesOfSteps(tx, TP, TG), want));
}

describe('scaleByTrustRatio', () => {
  it('matches optax with the defaults (ratio 1 for zero param or update norms)', async () => {
    // run(optax.scale_by_trust_ratio(), TP, TG)
    await expectOptax(scaleByTrustRatio(), [
      {
        b: [0.1632993221282959, -0.3265986442565918, 0.08164966106414795],
        w: [
          [0.4208126962184906, 0.8416253924369812],
          [-1.262438178062439, 1.6832507848739624],
        ],
        z: [0.30000001192092896, -0.10000000149011612],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.28116855025291443, 0.11246740818023682],
          [0.05623370409011841, -2.2493484020233154],
        ],
        z: [0.22360680997371674, 0.22360680997371674],
      },
      {
        b: [0.18751934170722961, 0.37503868341445923, -0.5625579953193665],
        w: [
          [0.5341538190841675, -0.5341538190841675],
          [0.5341538190841675, -0.5341538190841675],
        ],
        z: [-0.3804226517677307, 0.3804226517677307],
      },
    ]);
  });

  it('matches optax with minNorm, trustCoefficient and eps', async () => {
    // run(optax.scale_by_trust_ratio(min_norm=0.5, trust_coefficient=0.01, eps=1e-3), TP, TG)
    await expectOptax(scaleByTrustRatio({ minNorm: 0.5, trustCoefficient: 0.01, eps: 1e-3 }), [
      {
        b: [0.0021812268532812595, -0.004362453706562519, 0.0010906134266406298],
        w: [
          [0.004200458060950041, 0.008400916121900082],
          [-0.01260137464851141, 0.016801832243800163],
        ],
        z: [0.002994012087583542, -0.0009980039903894067],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.002288548042997718, 0.0009154191939160228],
          [0.0004577095969580114, -0.018308384343981743],
        ],
        z: [0.0019960079807788134, 0.0019960079807788134],
      },
      {
        b: [9.980039612855762e-5, 0.00019960079225711524, -0.00029940117383375764],
        w: [
          [0.011433773674070835, -0.011433773674070835],
          [0.011433773674070835, -0.011433773674070835],
        ],
        z: [-0.003530540969222784, 0.003530540969222784],
      },
    ]);
  });

  it('rejects negative options', () => {
    expect(() => scaleByTrustRatio({ minNorm: -1 })).toThrow(/scaleByTrustRatio: `minNorm` must be a finite number >= 0, got -1/);
    expect(() => scaleByTrustRatio({ trustCoefficient: Number.NaN })).toThrow(/trustCoefficient.*NaN/);
    expect(() => scaleByTrustRatio({ eps: -1e-3 })).toThrow(/eps.*-0.001/);
  });
});

describe('scaleByParamBlockNorm', () => {
  it('matches optax with the default minScale', async () => {
    // run(optax.scale_by_param_block_norm(), TP, TG)
    await expectOptax(scaleByParamBlockNorm(), [
      {
        b: [0.37416577339172363, -0.7483315467834473, 0.18708288669586182],
        w: [
          [0.2304886132478714, 0.4609772264957428],
          [-0.6914658546447754, 0.9219544529914856],
        ],
        z: [0.0003000000142492354, -0.00010000000474974513],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.09886731207370758, 0.03954692184925079],
          [0.019773460924625397, -0.7909384965896606],
        ],
        z: [0.00020000000949949026, 0.00020000000949949026],
      },
      {
        b: [0.01166797149926424, 0.02333594299852848, -0.035003915429115295],
        w: [
          [0.4798120856285095, -0.4798120856285095],
          [0.4798120856285095, -0.4798120856285095],
        ],
        z: [-0.0005000000237487257, 0.0005000000237487257],
      },
    ]);
  });

  it('matches optax with minScale', async () => {
    // run(optax.scale_by_param_block_norm(min_scale=0.5), TP, TG)
    await expectOptax(scaleByParamBlockNorm({ minScale: 0.5 }), [
      {
        b: [0.5, -1.0, 0.25],
        w: [
          [0.2304886132478714, 0.4609772264957428],
          [-0.6914658546447754, 0.9219544529914856],
        ],
        z: [0.15000000596046448, -0.05000000074505806],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.09886731207370758, 0.03954692184925079],
          [0.019773460924625397, -0.7909384965896606],
        ],
        z: [0.10000000149011612, 0.10000000149011612],
      },
      {
        b: [0.014500000514090061, 0.029000001028180122, -0.04349999874830246],
        w: [
          [0.4798120856285095, -0.4798120856285095],
          [0.4798120856285095, -0.4798120856285095],
        ],
        z: [-0.25, 0.25],
      },
    ]);
  });

  it('rejects a negative minScale', () => {
    expect(() => scaleByParamBlockNorm({ minScale: -1 })).toThrow(/scaleByParamBlockNorm: `minScale` must be a finite number >= 0, got -1/);
  });
});

describe('scaleByParamBlockRms', () => {
  it('matches optax with the default minScale', async () => {
    // run(optax.scale_by_param_block_rms(), TP, TG)
    await expectOptax(scaleByParamBlockRms(), [
      {
        b: [0.216024711728096, -0.432049423456192, 0.108012355864048],
        w: [
          [0.1152443066239357, 0.2304886132478714],
          [-0.3457329273223877, 0.4609772264957428],
        ],
        z: [0.0003000000142492354, -0.00010000000474974513],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.051312532275915146, 0.020525012165308],
          [0.010262506082654, -0.41050025820732117],
        ],
        z: [0.00020000000949949026, 0.00020000000949949026],
      },
      {
        b: [0.0047110943123698235, 0.009422188624739647, -0.014133282005786896],
        w: [
          [0.2900840640068054, -0.2900840640068054],
          [0.2900840640068054, -0.2900840640068054],
        ],
        z: [-0.0005000000237487257, 0.0005000000237487257],
      },
    ]);
  });

  it('matches optax with minScale', async () => {
    // run(optax.scale_by_param_block_rms(min_scale=0.3), TP, TG)
    await expectOptax(scaleByParamBlockRms({ minScale: 0.3 }), [
      {
        b: [0.30000001192092896, -0.6000000238418579, 0.15000000596046448],
        w: [
          [0.1152443066239357, 0.2304886132478714],
          [-0.3457329273223877, 0.4609772264957428],
        ],
        z: [0.09000000357627869, -0.030000001192092896],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.051312532275915146, 0.020525012165308],
          [0.010262506082654, -0.41050025820732117],
        ],
        z: [0.06000000238418579, 0.06000000238418579],
      },
      {
        b: [0.005780715029686689, 0.011561430059373379, -0.01734214648604393],
        w: [
          [0.2900840640068054, -0.2900840640068054],
          [0.2900840640068054, -0.2900840640068054],
        ],
        z: [-0.15000000596046448, 0.15000000596046448],
      },
    ]);
  });

  it('rejects a non-finite minScale', () => {
    expect(() => scaleByParamBlockRms({ minScale: Number.POSITIVE_INFINITY })).toThrow(/scaleByParamBlockRms: `minScale`.*Infinity/);
  });
});

describe('normalizeByUpdateNorm', () => {
  it('matches optax with the defaults', async () => {
    // run(optax.normalize_by_update_norm(), TP, TG)
    await expectOptax(normalizeByUpdateNorm(), [
      {
        b: [0.4207029938697815, -0.841405987739563, 0.21035149693489075],
        w: [
          [0.04207029938697815, 0.0841405987739563],
          [-0.12621089816093445, 0.1682811975479126],
        ],
        z: [0.12621089816093445, -0.04207029938697815],
      },
      {
        b: [0.0, 0.0, 0.0],
        w: [
          [-0.10142989456653595, 0.04057195410132408],
          [0.02028597705066204, -0.8114391565322876],
        ],
        z: [0.4057195782661438, 0.4057195782661438],
      },
      {
        b: [0.01077449880540371, 0.02154899761080742, -0.03232349827885628],
        w: [
          [0.3232349753379822, -0.3232349753379822],
          [0.3232349753379822, -0.3232349753379822],
        ],
        z: [-0.538724958896637, 0.538724958896637],
      },
    ]);
  });

  it('matches optax with scaleFactor and eps', async () => {
    // run(optax.normalize_by_update_norm(scale_factor=-0.5, eps=0.1), TP, TG)
    await expectOptax(normalizeByUpdateNorm({ scaleFactor: -0.5, eps: 0.1 }), [
      {
        b: [-0.20185929536819458, 0.40371859073638916, -0.10092964768409729],
        w: [
          [-0.020185930654406548, -0.040371861308813095],
          [0.06055779010057449, -0.08074372261762619],
        ],
        z: [-0.06055779010057449, 0.020185930654406548],
      },
      {
        b: [-0.0, -0.0, -0.0],
        w: [
          [0.04216204583644867, -0.016864817589521408],
          [-0.008432408794760704, 0.33729636669158936],
        ],
        z: [-0.16864818334579468, -0.16864818334579468],
      },
      {
        b: [-0.004863262642174959, -0.009726525284349918, 0.014589788392186165],
        w: [
          [-0.14589789509773254, 0.14589789509773254],
          [-0.14589789509773254, 0.14589789509773254],
        ],
        z: [0.24316313862800598, -0.24316313862800598],
      },
    ]);
  });

  it('maps zero updates to zeros', async () => {
    // run(optax.normalize_by_update_norm(), {'w': A(0,0)}, [{'w': A(0,0)}]) -> [{'w': [0.0, 0.0]}]
    await expectNoLeaks(() => expectTreeClose(updatesOfSteps(normalizeByUpdateNorm(), { w: [0, 0] }, [{ w: [0, 0] }]), [{ w: [0, 0] }]));
  });

  it('rejects a non-finite scaleFactor and a negative eps', () => {
    expect(() => normalizeByUpdateNorm({ scaleFactor: Number.NaN })).toThrow(
      /normalizeByUpdateNorm: `scaleFactor` must be a finite number, got NaN/,
    );
    expect(() => normalizeByUpdateNorm({ eps: -1 })).toThrow(/eps.*-1/);
  });
});

describe('trust transforms: params, purity, leaks', () => {
  const needParams: [string, () => { init(p: unknown): unknown; update(u: never, s: never, p?: never): [unknown, unknown] }][] = [
    ['scaleByTrustRatio', () => scaleByTrustRatio()],
    ['scaleByParamBlockNorm', () => scaleByParamBlockNorm()],
    ['scaleByParamBlockRms', () => scaleByParamBlockRms()],
  ];
  for (const [name, make] of needParams) {
    it(`${name} throws a clear error without params`, async () => {
      await expectNoLeaks(() => {
        const p = { w: t([1, 2]) };
        const tx = make();
        const s = tx.init(p);
        expect(() => tx.update(p as never, s as never)).toThrow(new RegExp(`${name}: this transformation needs \`params\``));
        return [p, s];
      });
    });
  }

  const all = [...needParams, ['normalizeByUpdateNorm', () => normalizeByUpdateNorm()] as (typeof needParams)[number]];
  all.push(['a chain', () => chain(scaleByTrustRatio(), normalizeByUpdateNorm(), scaleByLearningRate(0.1))]);
  for (const [name, make] of all) {
    it(`${name}: inputs untouched, fresh outputs`, async () => {
      await expectNoLeaks(() => {
        const { params, g } = purityProblem();
        const tx = make();
        const s0 = tx.init(params);
        const [u, s1] = tx.update(g as never, s0 as never, params as never);
        expect(Array.from(g.w.dataSync())).toEqual([0.5, -0.5, 2, -3]);
        expect(Array.from(params.w.dataSync())).toEqual([1, 2, 3, 4]);
        const inputs = new Set([g.w, g.b, params.w, params.b]);
        for (const leaf of treeLeaves([u, s1])) expect(inputs.has(leaf as tf.Tensor)).toBe(false);
        return [params, g, s0, u, s1];
      });
    });
  }
});
