import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { scaleByRms, scaleByRss, scaleByStddev } from './rms.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   gs = [jnp.array(g, jnp.float32) for g in ([0.5, -1., 2., 0.], [0.1, -0.3, 1.5, 1e-3], [-2., 0.7, 0.2, -0.5])]
 *   s = tx.init(jnp.zeros(4))
 *   for g in gs: u, s = tx.update(g, s); print(u)
 *
 * for each `tx` named in the table below (values printed as the shortest
 * float32 round-trip strings).
 */
const GRADS = [
  [0.5, -1, 2, 0],
  [0.1, -0.3, 1.5, 1e-3],
  [-2, 0.7, 0.2, -0.5],
];

const CASES: [string, () => GradientTransformation, number[][]][] = [
  // optax.scale_by_rms()
  [
    'scaleByRms()',
    () => scaleByRms(),
    [
      [3.162277, -3.1622775, 3.1622775, 0],
      [0.65232795, -0.9534626, 1.9611614, 3.0151134],
      [-3.0818508, 1.8836542, 0.27459165, -3.1622715],
    ],
  ],
  // optax.scale_by_rms(decay=0.8, eps=1e-3, initial_scale=0.5, eps_in_sqrt=False, bias_correction=True)
  [
    'scaleByRms(all options)',
    () => scaleByRms({ decay: 0.8, eps: 1e-3, initialScale: 0.5, epsInSqrt: false, biasCorrection: true }),
    [
      [0.33311123, -0.57701707, 0.81616336, 0],
      [0.099624015, -0.25485238, 0.7575538, 0.0010595359],
      [-1.3375676, 0.69336456, 0.13099843, -0.6306247],
    ],
  ],
  // optax.scale_by_rms(bias_correction=True)
  [
    'scaleByRms({ biasCorrection })',
    () => scaleByRms({ biasCorrection: true }),
    [
      [1, -1.0000001, 1.0000001, 0],
      [0.28434327, -0.4156048, 0.8548506, 1.3654939],
      [-1.6043396, 0.9805864, 0.142946, -1.646205],
    ],
  ],
  // optax.scale_by_stddev()
  [
    'scaleByStddev()',
    () => scaleByStddev(),
    [
      [3.3333325, -3.333333, 3.3333333, 0],
      [0.6988564, -1.0314212, 2.173913, 3.1622775],
      [-3.1682246, 1.8935801, 0.30499324, -3.3326602],
    ],
  ],
  // optax.scale_by_stddev(decay=0.8, eps=1e-3, initial_scale=1.0, eps_in_sqrt=False, bias_correction=True)
  [
    'scaleByStddev(all options)',
    () => scaleByStddev({ decay: 0.8, eps: 1e-3, initialScale: 1, epsInSqrt: false, biasCorrection: true }),
    [
      [0.24987507, -0.49975014, 0.9995003, 0],
      [0.07412531, -0.21755573, 1.1051481, 0.00074943784],
      [-1.3101205, 0.5642884, 0.15576445, -0.4741753],
    ],
  ],
  // optax.scale_by_stddev(bias_correction=True, initial_scale=0.5)
  [
    'scaleByStddev({ biasCorrection, initialScale })',
    () => scaleByStddev({ biasCorrection: true, initialScale: 0.5 }),
    [
      [0.23570229, -0.47140455, 0.942809, 0],
      [0.06786149, -0.19983403, 1.0127032, 0.000684935],
      [-1.2425807, 0.5167564, 0.14380352, -0.42207235],
    ],
  ],
  // optax.scale_by_rss()
  [
    'scaleByRss()',
    () => scaleByRss(),
    [
      [0.84515417, -0.95346254, 0.9877296, 0],
      [0.16666666, -0.27500954, 0.5952568, 0.0031622604],
      [-0.95782626, 0.54006165, 0.07911878, -0.8451529],
    ],
  ],
  // optax.scale_by_rss(initial_accumulator_value=0.0, eps=1e-2): the zero gradient meets a zero sum first
  [
    'scaleByRss(all options)',
    () => scaleByRss({ initialAccumulatorValue: 0, eps: 1e-2 }),
    [
      [0.98058075, -0.9950372, 0.9987523, 0],
      [0.19245009, -0.2860388, 0.59952056, 0.009999501],
      [-0.9678678, 0.5551361, 0.07968191, -0.9805788],
    ],
  ],
];

describe('scaleByRms, scaleByStddev, scaleByRss', () => {
  it.each(CASES)('%s matches optax over three steps', async (_name, make, want) => {
    await expectNoLeaks(() => {
      const params = { w: t([0, 0, 0, 0]) };
      const grads = GRADS.map((g) => ({ w: t(g) }));
      const run = runSteps(make(), params, grads);
      // 1e-6 relative: float32 rounding of sqrt/rsqrt may differ by an ulp between XLA and tfjs.
      expectTreeClose(
        run.updates,
        want.map((w) => ({ w })),
        { rtol: 1e-6, atol: 1e-9 },
      );
      disposeTree([params, grads]);
    });
  });

  it('are element-wise specs for the fused engine', () => {
    for (const [, make] of CASES) expect(make().fusion?.kind).toBe('elementwise');
  });

  it('keep the state optax keeps, starting from initialScale / initialAccumulatorValue', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const states = [
        scaleByRms({ initialScale: 0.5 }).init(params),
        scaleByRms({ biasCorrection: true }).init(params),
        scaleByStddev({ initialScale: 0.25 }).init(params),
        scaleByStddev({ biasCorrection: true }).init(params),
        scaleByRss().init(params),
      ];
      expect(toArrays(states)).toEqual([
        { nu: { w: [0.5, 0.5] } },
        { count: 0, nu: { w: [0, 0] } },
        { mu: { w: [0, 0] }, nu: { w: [0.25, 0.25] } },
        { count: 0, mu: { w: [0, 0] }, nu: { w: [0, 0] } },
        { sumOfSquares: { w: [Math.fround(0.1), Math.fround(0.1)] } },
      ]);
      return [params, states];
    });
  });

  it('count the steps only with biasCorrection', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const grads = [{ w: t([1, 1]) }, { w: t([2, 2]) }];
      expect((runSteps(scaleByStddev({ biasCorrection: true }), params, grads).state as { count: number }).count).toBe(2);
      expect(Object.keys(runSteps(scaleByRms(), params, grads).state as object)).toEqual(['nu']);
      return [params, grads];
    });
  });

  it('reject bad hyperparameters, naming them', () => {
    expect(() => scaleByRms({ decay: 1 })).toThrow(/scaleByRms: `decay` must be in \[0, 1\), got 1/);
    expect(() => scaleByRms({ eps: -1 })).toThrow(/scaleByRms: `eps`.*-1/);
    expect(() => scaleByRms({ initialScale: Number.NaN })).toThrow(/`initialScale`.*NaN/);
    expect(() => scaleByRms({ epsInSqrt: 'yes' as never })).toThrow(/`epsInSqrt` must be a boolean/);
    expect(() => scaleByStddev({ decay: -0.1 })).toThrow(/scaleByStddev: `decay`/);
    expect(() => scaleByStddev({ biasCorrection: 1 as never })).toThrow(/scaleByStddev: `biasCorrection`/);
    expect(() => scaleByRss({ initialAccumulatorValue: -0.1 })).toThrow(/scaleByRss: `initialAccumulatorValue`.*-0.1/);
    expect(() => scaleByRss({ eps: Number.POSITIVE_INFINITY })).toThrow(/scaleByRss: `eps`/);
  });

  it('reject updates that do not match the state, naming the path', async () => {
    await expectNoLeaks(() => {
      const tx = scaleByRms();
      const params = { a: t([1, 2]) };
      const s = tx.init(params);
      const g = { a: t([1, 2, 3]) };
      expect(() => tx.update(g, s)).toThrow(/`a`.*shape \[3\].*\[2\]/);
      expect(() => tx.update({ b: g.a }, s)).toThrow(/scaleByRms|tree mismatch/);
      return [params, s, g];
    });
  });

  it.each([
    ['scaleByRms', () => scaleByRms({ biasCorrection: true })],
    ['scaleByStddev', () => scaleByStddev({ biasCorrection: true, epsInSqrt: false })],
    ['scaleByRss', () => scaleByRss()],
  ])('%s is pure and leaks nothing', async (_name, make) => {
    await expectPureSteps(make(), () => ({
      params: { a: t([1, 2]), b: [t([[3]])] },
      grads: [
        { a: t([0.5, -1]), b: [t([[2]])] },
        { a: t([0.1, 0]), b: [t([[-1]])] },
      ],
    }));
  });
});
