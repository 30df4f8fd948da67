import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { expectNoLeaks, expectTreeClose, type runSteps, t, updatesOfSteps } from '../test-utils/index.js';
import { printedTables } from '../test-utils/optax-steps.js';
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
 * and the calls quoted above each expectation (the tables in
 * fixtures/trust.json, each named by its call). `runSteps` applies each update
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

const table = printedTables('trust.json');

async function expectOptax(tx: Parameters<typeof runSteps>[0], want: unknown[]): Promise<void> {
  await expectNoLeaks(() => expectTreeClose(updatesOfSteps(tx, TP, TG), want));
}

describe('scaleByTrustRatio', () => {
  it('matches optax with the defaults (ratio 1 for zero param or update norms)', async () => {
    // run(optax.scale_by_trust_ratio(), TP, TG)
    await expectOptax(scaleByTrustRatio(), table('optax.scale_by_trust_ratio()'));
  });

  it('matches optax with minNorm, trustCoefficient and eps', async () => {
    // run(optax.scale_by_trust_ratio(min_norm=0.5, trust_coefficient=0.01, eps=1e-3), TP, TG)
    await expectOptax(
      scaleByTrustRatio({ minNorm: 0.5, trustCoefficient: 0.01, eps: 1e-3 }),
      table('optax.scale_by_trust_ratio(min_norm=0.5, trust_coefficient=0.01, eps=1e-3)'),
    );
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
    await expectOptax(scaleByParamBlockNorm(), table('optax.scale_by_param_block_norm()'));
  });

  it('matches optax with minScale', async () => {
    // run(optax.scale_by_param_block_norm(min_scale=0.5), TP, TG)
    await expectOptax(scaleByParamBlockNorm({ minScale: 0.5 }), table('optax.scale_by_param_block_norm(min_scale=0.5)'));
  });

  it('rejects a negative minScale', () => {
    expect(() => scaleByParamBlockNorm({ minScale: -1 })).toThrow(/scaleByParamBlockNorm: `minScale` must be a finite number >= 0, got -1/);
  });
});

describe('scaleByParamBlockRms', () => {
  it('matches optax with the default minScale', async () => {
    // run(optax.scale_by_param_block_rms(), TP, TG)
    await expectOptax(scaleByParamBlockRms(), table('optax.scale_by_param_block_rms()'));
  });

  it('matches optax with minScale', async () => {
    // run(optax.scale_by_param_block_rms(min_scale=0.3), TP, TG)
    await expectOptax(scaleByParamBlockRms({ minScale: 0.3 }), table('optax.scale_by_param_block_rms(min_scale=0.3)'));
  });

  it('rejects a non-finite minScale', () => {
    expect(() => scaleByParamBlockRms({ minScale: Number.POSITIVE_INFINITY })).toThrow(/scaleByParamBlockRms: `minScale`.*Infinity/);
  });
});

describe('normalizeByUpdateNorm', () => {
  it('matches optax with the defaults', async () => {
    // run(optax.normalize_by_update_norm(), TP, TG)
    await expectOptax(normalizeByUpdateNorm(), table('optax.normalize_by_update_norm()'));
  });

  it('matches optax with scaleFactor and eps', async () => {
    // run(optax.normalize_by_update_norm(scale_factor=-0.5, eps=0.1), TP, TG)
    await expectOptax(
      normalizeByUpdateNorm({ scaleFactor: -0.5, eps: 0.1 }),
      table('optax.normalize_by_update_norm(scale_factor=-0.5, eps=0.1)'),
    );
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
