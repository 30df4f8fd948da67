import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectPureUpdate, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectSteps } from '../test-utils/optax-steps.js';
import { scaleByBelief, scaleByNovograd, scaleByYogi } from './adaptive.js';

// Expected values: real optax 0.2.8, printed by the script in
// test-utils/optax-steps.ts; the `run(...)` line is quoted above each table.

describe('scaleByBelief', () => {
  // run(optax.scale_by_belief(), 3, 'BELIEF_DEFAULT')
  const BELIEF_DEFAULT = [
    {
      b: [1.1111038, -1.1111037, 1.1111038],
      w: [
        [1.1111037, -1.1111037],
        [1.1111037, 0.0],
      ],
    },
    {
      b: [-0.3910571, -0.04030705, 0.73781174],
      w: [
        [0.90542614, -0.97337323],
        [1.144238, 0.82681024],
      ],
    },
    {
      b: [-0.14471856, -0.03115729, 0.66393816],
      w: [
        [-0.5049739, -0.2062385],
        [0.9426664, -0.7083696],
      ],
    },
  ];
  // run(optax.scale_by_belief(b1=0.8, b2=0.95, eps=1e-6, eps_root=1e-4, nesterov=True), 3, 'BELIEF_OPTS')
  const BELIEF_OPTS = [
    {
      b: [1.5760014, -1.7749957, 1.805242],
      w: [
        [1.7943715, -1.802739],
        [1.80485, 0.0],
      ],
    },
    {
      b: [-1.0381579, 0.57279783, 0.4545205],
      w: [
        [0.77626055, -0.93646854],
        [1.4416234, 0.019751916],
      ],
    },
    {
      b: [0.064318635, 0.010745322, 0.57271856],
      w: [
        [-1.2277163, 0.37812325],
        [0.76735383, -1.4109527],
      ],
    },
  ];

  it('matches optax with the defaults', async () => {
    await expectSteps(scaleByBelief(), BELIEF_DEFAULT);
  });

  it('matches optax with b1, b2, eps, epsRoot and nesterov set', async () => {
    await expectSteps(scaleByBelief({ b1: 0.8, b2: 0.95, eps: 1e-6, epsRoot: 1e-4, nesterov: true }), BELIEF_OPTS);
  });

  it('adds epsRoot to the stored second moment at every step', async () => {
    await expectNoLeaks(() => {
      // Zero gradients: mu stays 0, the prediction error is 0, so s_t = b2 s_{t-1} + epsRoot.
      const params = { x: t([0]) };
      const grads = [t([0]), t([0])].map((x) => ({ x }));
      const run = runSteps(scaleByBelief({ b2: 0.5, epsRoot: 0.25 }), params, grads);
      expect(run.state).toMatchObject({ count: 2, mu: { x: [0] }, nu: { x: [0.375] } });
      return [params, grads];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByBelief({ b1: 1 })).toThrow(/scaleByBelief: `b1` must be in \[0, 1\), got 1/);
    expect(() => scaleByBelief({ b2: -0.1 })).toThrow(/`b2`/);
    expect(() => scaleByBelief({ eps: -1 })).toThrow(/`eps`.*-1/);
    expect(() => scaleByBelief({ epsRoot: -1e-16 })).toThrow(/`epsRoot`/);
    expect(() => scaleByBelief({ nesterov: 0 as never })).toThrow(/`nesterov` must be a boolean/);
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]) };
    const g = { w: t([0.5, -0.5]) };
    await expectPureUpdate(scaleByBelief({ nesterov: true }), params, g);
    tf.dispose([params.w, g.w]);
  });
});

describe('scaleByYogi', () => {
  // run(optax.scale_by_yogi(), 4, 'YOGI_DEFAULT')
  const YOGI_DEFAULT = [
    {
      b: [0.9445362, -0.9911682, 0.99960756],
      w: [
        [0.9960292, -0.9984867],
        [0.9993734, 0.00027587908],
      ],
    },
    {
      b: [-0.360175, -0.037834145, 0.6668904],
      w: [
        [0.7989085, -0.8537424],
        [0.9816194, 0.022695966],
      ],
    },
    {
      b: [-0.13430396, -0.02920789, 0.595058],
      w: [
        [-0.46535793, -0.19278991],
        [0.8068139, -0.634188],
      ],
    },
    {
      b: [0.54015857, -0.47075438, 0.49099377],
      w: [
        [-0.29349533, -0.1531988],
        [0.65587866, 0.1118374],
      ],
    },
  ];
  // run(optax.scale_by_yogi(b1=0.5, b2=0.9, eps=1e-2, eps_root=1e-3, initial_accumulator_value=0.5), 4, 'YOGI_OPTS')
  const YOGI_OPTS = [
    {
      b: [0.2673732, 0.08984413, 0.93288785],
      w: [
        [0.45668802, -0.20327735],
        [0.83051884, 0.2225891],
      ],
    },
    {
      b: [0.041040994, 0.14514421, 0.42574152],
      w: [
        [0.25160557, -0.20669486],
        [0.75028175, 0.10249989],
      ],
    },
    {
      b: [0.04196946, 0.074194245, 0.3196863],
      w: [
        [-0.53785014, 0.17047788],
        [0.4402933, -0.16038391],
      ],
    },
    {
      b: [0.42249584, -0.18857192, 0.17325379],
      w: [
        [-0.18376128, 0.09374905],
        [0.22544111, 0.19305198],
      ],
    },
  ];

  it('matches optax with the defaults', async () => {
    await expectSteps(scaleByYogi(), YOGI_DEFAULT);
  });

  it('matches optax with every option set', async () => {
    await expectSteps(scaleByYogi({ b1: 0.5, b2: 0.9, eps: 1e-2, epsRoot: 1e-3, initialAccumulatorValue: 0.5 }), YOGI_OPTS);
  });

  it('starts both moments at initialAccumulatorValue', async () => {
    await expectNoLeaks(() => {
      const params = { x: t([1, 2]) };
      const s = scaleByYogi({ initialAccumulatorValue: 0.5 }).init(params);
      expect(toArrays(s)).toEqual({ count: 0, mu: { x: [0.5, 0.5] }, nu: { x: [0.5, 0.5] } });
      const d = scaleByYogi().init(params);
      expect(toArrays(d)).toEqual({
        count: 0,
        mu: { x: [Math.fround(1e-6), Math.fround(1e-6)] },
        nu: { x: [Math.fround(1e-6), Math.fround(1e-6)] },
      });
      return [params, s, d];
    });
  });

  it('moves nu additively towards g² (closed form)', async () => {
    await expectNoLeaks(() => {
      // nu = nu - (1 - b2) sign(nu - g²) g² with b2 = 0.5, nu_0 = 1:
      // g = 2: 1 - 0.5·(-1)·4 = 3; g = 1: 3 - 0.5·(+1)·1 = 2.5; g = 0: 2.5 - 0 = 2.5
      const params = { x: t([0]) };
      const grads = [t([2]), t([1]), t([0])].map((x) => ({ x }));
      const run = runSteps(scaleByYogi({ b2: 0.5, initialAccumulatorValue: 1 }), params, grads);
      expect(run.state).toMatchObject({ count: 3, nu: { x: [2.5] } });
      return [params, grads];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByYogi({ b1: 1 })).toThrow(/scaleByYogi: `b1` must be in \[0, 1\), got 1/);
    expect(() => scaleByYogi({ b2: 2 })).toThrow(/`b2`.*2/);
    expect(() => scaleByYogi({ eps: -1e-3 })).toThrow(/`eps`/);
    expect(() => scaleByYogi({ epsRoot: -1 })).toThrow(/`epsRoot`/);
    expect(() => scaleByYogi({ initialAccumulatorValue: -1e-6 })).toThrow(
      /`initialAccumulatorValue` must be a finite number >= 0, got -0\.000001/,
    );
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]) };
    const g = { w: t([0.5, -0.5]) };
    await expectPureUpdate(scaleByYogi(), params, g);
    tf.dispose([params.w, g.w]);
  });
});

describe('scaleByNovograd', () => {
  // run(optax.scale_by_novograd(), 3, 'NOVOGRAD_DEFAULT')
  const NOVOGRAD_DEFAULT = [
    {
      b: [0.03314968, -0.09944904, 0.9944903],
      w: [
        [0.21821788, -0.43643576],
        [0.8728715, 0.0],
      ],
    },
    {
      b: [-0.10057681, 0.07351027, 0.8885207],
      w: [
        [0.25342268, -0.5638719],
        [1.6409832, 0.0005702659],
      ],
    },
    {
      b: [-0.031174298, 0.06615924, 1.2744273],
      w: [
        [-0.7304331, -0.17200501],
        [1.5727363, -0.23911513],
      ],
    },
  ];
  // s = run(optax.scale_by_novograd(b1=0.5, b2=0.6, eps=1e-3, eps_root=0.01, weight_decay=0.1), 3, 'NOVOGRAD_OPTS')
  // print(s.nu)  ->  {'b': Array(3.3656244), 'w': Array(4.366)}
  const NOVOGRAD_OPTS = [
    {
      b: [0.043120507, -0.07936152, 0.9636152],
      w: [
        [0.31791535, -0.6358307],
        [0.92166144, 0.3],
      ],
    },
    {
      b: [-0.049286246, 0.07883127, 0.54391116],
      w: [
        [0.34011132, -0.7295847],
        [1.3434284, 0.48049363],
      ],
    },
    {
      b: [0.011939537, 0.059362613, 0.6103021],
      w: [
        [-0.6197585, -0.366868],
        [1.0437849, 0.37939197],
      ],
    },
  ];

  it('matches optax with the defaults', async () => {
    await expectSteps(scaleByNovograd(), NOVOGRAD_DEFAULT);
  });

  it('matches optax with every option set, keeping one scalar nu per leaf', async () => {
    const state = await expectSteps(scaleByNovograd({ b1: 0.5, b2: 0.6, eps: 1e-3, epsRoot: 0.01, weightDecay: 0.1 }), NOVOGRAD_OPTS);
    const s = state as { count: number; nu: { b: number; w: number } };
    expect(s.count).toBe(3);
    expect(Math.abs(s.nu.b - 3.3656244) / 3.3656244).toBeLessThan(2e-6);
    expect(Math.abs(s.nu.w - 4.366) / 4.366).toBeLessThan(2e-6);
  });

  it('initializes the moments from the first update (closed form)', async () => {
    await expectNoLeaks(() => {
      // g = [3, 4]: ‖g‖² = 25, so step 1 gives nu = 25 and u = mu = g / 5 + 0.5·p.
      const params = { x: t([1, -2]) };
      const grads = [{ x: t([3, 4]) }];
      const s0 = scaleByNovograd({ weightDecay: 0.5, eps: 0 }).init(params);
      expect(toArrays(s0)).toEqual({ count: 0, mu: { x: [0, 0] }, nu: { x: 0 } });
      const run = runSteps(scaleByNovograd({ weightDecay: 0.5, eps: 0 }), params, grads);
      expectTreeClose(run.updates[0], { x: [0.6 + 0.5, 0.8 - 1] });
      expectTreeClose(run.state, { count: 1, mu: { x: [0.6 + 0.5, 0.8 - 1] }, nu: { x: 25 } });
      return [params, grads, s0];
    });
  });

  it('needs params and checks its state', async () => {
    await expectNoLeaks(() => {
      const params = { x: t([1, 2]) };
      const g = { x: t([0.5, -0.5]) };
      const tx = scaleByNovograd();
      const s = tx.init(params);
      expect(() => tx.update(g, s)).toThrow(/scaleByNovograd: this transformation needs `params`/);
      const wrong = { x: t([1, 2, 3]) };
      expect(() => tx.update(wrong, s, params)).toThrow(/updates has shape \[3\] but state\.mu has shape \[2\]/);
      expect(() => tx.update(g, { count: 0, mu: s.mu } as never, params)).toThrow(/scaleByNovograd: the state lacks `nu`/);
      expect(() => tx.update(g, { ...s, nu: { x: (s.mu as { x: tf.Tensor }).x } }, params)).toThrow(
        /state\.nu at `x` must be a scalar tensor, got shape \[2\]/,
      );
      return [params, g, s, wrong];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByNovograd({ b1: 1 })).toThrow(/scaleByNovograd: `b1` must be in \[0, 1\), got 1/);
    expect(() => scaleByNovograd({ b2: -0.25 })).toThrow(/`b2`/);
    expect(() => scaleByNovograd({ eps: -1 })).toThrow(/`eps`/);
    expect(() => scaleByNovograd({ epsRoot: Number.NaN })).toThrow(/`epsRoot`/);
    expect(() => scaleByNovograd({ weightDecay: -0.1 })).toThrow(/`weightDecay` must be a finite number >= 0, got -0\.1/);
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]), b: [t([[0.5]]), null] };
    const g = { w: t([0.5, -0.5]), b: [t([[2]]), null] };
    await expectPureUpdate(scaleByNovograd({ weightDecay: 0.1 }), params, g, 3);
    tf.dispose([params.w, g.w, params.b[0] as tf.Tensor, g.b[0] as tf.Tensor]);
  });
});
