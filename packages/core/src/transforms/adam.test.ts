import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { expectNoLeaks, expectPureUpdate, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectSteps } from '../test-utils/optax-steps.js';
import { scaleByAdam, scaleByAdamax, scaleByAMSGrad, scaleByRAdam } from './adam.js';
import { scaleByLearningRate } from './scaling.js';

/** Adam in float64, written from the paper's algorithm, as an independent closed form. */
function adamClosedForm(grads: number[][], opts: { b1: number; b2: number; eps: number }): number[][] {
  const n = grads[0]?.length ?? 0;
  const mu = new Array(n).fill(0);
  const nu = new Array(n).fill(0);
  return grads.map((g, step) => {
    const t1 = step + 1;
    return g.map((gi, i) => {
      mu[i] = opts.b1 * mu[i] + (1 - opts.b1) * gi;
      nu[i] = opts.b2 * nu[i] + (1 - opts.b2) * gi * gi;
      return mu[i] / (1 - opts.b1 ** t1) / (Math.sqrt(nu[i] / (1 - opts.b2 ** t1)) + opts.eps);
    });
  });
}

describe('scaleByAdam', () => {
  it('matches the closed form over several steps', async () => {
    await expectNoLeaks(() => {
      const gs = [
        [0.5, -1, 2, 0],
        [0.1, -0.3, 1.5, 1e-3],
        [-2, 0.7, 0.2, -0.5],
      ];
      const params = { w: t([0, 0, 0, 0]) };
      const grads = gs.map((g) => ({ w: t(g) }));
      const run = runSteps(scaleByAdam(), params, grads);
      const want = adamClosedForm(gs, { b1: 0.9, b2: 0.999, eps: 1e-8 });
      // optax computes 1 - b2^t in float32, which for b2 = 0.999 is off by ~1.5e-5
      // relative to the float64 value; gradtx does the same, so a float64 closed
      // form agrees only to ~3e-5 (the optax fixtures check the exact values).
      run.updates.forEach((u, i) => {
        expectTreeClose(u, { w: want[i] }, { rtol: 3e-5, atol: 1e-7 });
      });
      tf.dispose([params.w, ...grads.map((g) => g.w)]);
    });
  });

  it('keeps count, mu and nu in the state', () => {
    const params = { w: t([1, 2]) };
    const s = scaleByAdam().init(params);
    expect(s.count).toBe(0);
    expect(Object.keys(s).sort()).toEqual(['count', 'mu', 'nu']);
    tf.dispose([params.w, s.mu as tf.Tensor[], s.nu as tf.Tensor[]].flat() as tf.Tensor[]);
  });

  it('rejects b1 outside [0, 1) and negative eps', () => {
    expect(() => scaleByAdam({ b1: 1 })).toThrow(/b1.*\[0, 1\).*1/);
    expect(() => scaleByAdam({ b2: -0.1 })).toThrow(/b2/);
    expect(() => scaleByAdam({ eps: -1 })).toThrow(/eps.*-1/);
  });

  it('does not mutate or dispose its inputs', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const g = { w: t([0.5, -0.5]) };
      const tx = chain(scaleByAdam(), scaleByLearningRate(0.1));
      const s0 = tx.init(params);
      const [u, s1] = tx.update(g, s0, params);
      expect(g.w.isDisposed).toBe(false);
      expect(Array.from(g.w.dataSync())).toEqual([0.5, -0.5]);
      expect(Array.from((s0[0] as { mu: { w: tf.Tensor } }).mu.w.dataSync())).toEqual([0, 0]);
      return [params, g, s0, u, s1];
    });
  });
});

// AMSGrad, Adamax and RAdam against real optax 0.2.8: see test-utils/optax-steps.ts for
// the script that printed the tables (`run(...)` lines are quoted above each table).

describe('scaleByAMSGrad', () => {
  // run(optax.scale_by_amsgrad(), 4, 'AMSGRAD_DEFAULT')
  const AMSGRAD_DEFAULT = [
    {
      b: [0.9999933, -0.9999933, 0.9999934],
      w: [
        [0.9999933, -0.9999933],
        [0.9999933, 0.0],
      ],
    },
    {
      b: [-0.3660998, -0.035087485, 0.47192666],
      w: [
        [0.57894343, -0.6315747],
        [0.8684151, 0.74411875],
      ],
    },
    {
      b: [-0.11433711, -0.022140073, 0.34698415],
      w: [
        [-0.465833, -0.14022043],
        [0.5848669, -0.63766015],
      ],
    },
    {
      b: [0.5414925, -0.47305968, 0.2480259],
      w: [
        [-0.25720382, -0.096539035],
        [0.4118902, 0.112233326],
      ],
    },
  ];
  // run(optax.scale_by_amsgrad(b1=0.8, b2=0.95, eps=1e-4, eps_root=1e-3), 3, 'AMSGRAD_OPTS')
  const AMSGRAD_OPTS = [
    {
      b: [0.9525546, -0.99416107, 0.9999113],
      w: [
        [0.9978071, -0.99940073],
        [0.9998254, 0.0],
      ],
    },
    {
      b: [-0.41017216, 0.018410359, 0.44255337],
      w: [
        [0.5543373, -0.61074495],
        [0.8609608, 0.017508356],
      ],
    },
    {
      b: [-0.115991324, 0.010865129, 0.315819],
      w: [
        [-0.5379329, -0.073726304],
        [0.5490844, -0.68693775],
      ],
    },
  ];
  // run(optax.scale_by_amsgrad(bias_correction_mu=False, bias_correction_nu=False), 3, 'AMSGRAD_NO_BC')
  const AMSGRAD_NO_BC = [
    {
      b: [3.1622677, -3.1622741, 3.1622775],
      w: [
        [3.1622756, -3.1622765],
        [3.1622772, 0.0],
      ],
    },
    {
      b: [-1.5557884, -0.16200297, 2.8355088],
      w: [
        [3.4125946, -3.6363623],
        [4.175542, 3.161278],
      ],
    },
    {
      b: [-0.67665005, -0.14580266, 2.950393],
      w: [
        [-2.3059912, -0.9566259],
        [4.000257, -3.1565776],
      ],
    },
  ];
  // run(optax.scale_by_amsgrad(bias_correction_mu=False), 3, 'AMSGRAD_NO_BC_MU')
  const AMSGRAD_NO_BC_MU = [
    {
      b: [0.09999935, -0.09999935, 0.09999936],
      w: [
        [0.09999936, -0.09999936],
        [0.09999936, 0.0],
      ],
    },
    {
      b: [-0.069558986, -0.0066666245, 0.0896661],
      w: [
        [0.10999929, -0.11999922],
        [0.16499893, 0.1413826],
      ],
    },
    {
      b: [-0.030985367, -0.005999962, 0.094032735],
      w: [
        [-0.12624079, -0.03799975],
        [0.15849899, -0.17280595],
      ],
    },
  ];

  it('matches optax with the defaults', async () => {
    await expectSteps(scaleByAMSGrad(), AMSGRAD_DEFAULT);
  });

  it('matches optax with b1, b2, eps and epsRoot set', async () => {
    await expectSteps(scaleByAMSGrad({ b1: 0.8, b2: 0.95, eps: 1e-4, epsRoot: 1e-3 }), AMSGRAD_OPTS);
  });

  it('matches optax without bias corrections (the paper), in both modes', async () => {
    await expectSteps(scaleByAMSGrad({ biasCorrectionMu: false, biasCorrectionNu: false }), AMSGRAD_NO_BC);
    await expectSteps(scaleByAMSGrad({ biasCorrectionMu: false, biasCorrectionNu: false, mode: 'torch' }), AMSGRAD_NO_BC);
    await expectSteps(scaleByAMSGrad({ biasCorrectionMu: false }), AMSGRAD_NO_BC_MU);
  });

  // PyTorch 1.13 (Debian), float32: updates = -(params delta) with lr = 1, the
  // params reset to zero before each step so the delta is the update itself:
  //   import torch, numpy as np
  //   def run(name, n, **kw):
  //     ps = {k: torch.zeros(np.shape(v), dtype=torch.float32, requires_grad=True) for k, v in G[0].items()}
  //     opt = torch.optim.Adam([ps['b'], ps['w']], lr=1.0, amsgrad=True, **kw)
  //     for g in G[:n]:
  //       with torch.no_grad():
  //         for k in ps: ps[k].zero_()
  //       for k in ps: ps[k].grad = torch.tensor(g[k], dtype=torch.float32)
  //       opt.step()
  //       print(-ps['b'].detach().numpy(), -ps['w'].detach().numpy())
  //   run('AMSGRAD_TORCH', 4)
  //   run('AMSGRAD_TORCH_OPTS', 4, betas=(0.8, 0.95), eps=1e-4)
  const AMSGRAD_TORCH = [
    {
      b: [0.99999994, -0.9999999, 1.0],
      w: [
        [0.9999999, -0.9999999],
        [0.9999999, -0.0],
      ],
    },
    {
      b: [-0.3661035, -0.03812204, 0.66724277],
      w: [
        [0.80304104, -0.8556971],
        [0.98257506, 0.74412626],
      ],
    },
    {
      b: [-0.13669065, -0.029453708, 0.59601074],
      w: [
        [-0.46583474, -0.19324864],
        [0.8080945, -0.63766253],
      ],
    },
    {
      b: [0.54149777, -0.47306427, 0.49181554],
      w: [
        [-0.2939762, -0.1535921],
        [0.6569727, 0.11223442],
      ],
    },
  ];
  const AMSGRAD_TORCH_OPTS = [
    {
      b: [0.9990011, -0.9996668, 0.9999666],
      w: [
        [0.9998, -0.9999],
        [0.99995005, -0.0],
      ],
    },
    {
      b: [-0.4181681, 0.020158378, 0.61801815],
      w: [
        [0.77557456, -0.8366837],
        [0.97769666, 0.680732],
      ],
    },
    {
      b: [-0.14296809, 0.01438768, 0.5334149],
      w: [
        [-0.53811395, -0.102470316],
        [0.75413704, -0.6908441],
      ],
    },
    {
      b: [0.6140653, -0.51985365, 0.40659577],
      w: [
        [-0.31068164, -0.071905516],
        [0.5633861, 0.16931808],
      ],
    },
  ];

  it("mode 'torch' matches torch.optim.Adam(amsgrad=True)", async () => {
    // PyTorch divides sqrt(nuMax) by sqrt(bc2) and multiplies mu by lr / bc1 before
    // dividing; gradtx keeps optax's order, so the two agree to a few float32 ulps.
    const tol = { rtol: 1e-6, atol: 1e-7 };
    await expectSteps(scaleByAMSGrad({ mode: 'torch' }), AMSGRAD_TORCH, tol);
    await expectSteps(scaleByAMSGrad({ mode: 'torch', b1: 0.8, b2: 0.95, eps: 1e-4 }), AMSGRAD_TORCH_OPTS, tol);
  });

  it("mode 'torch' keeps the raw running maximum, 'optax' the bias-corrected one", async () => {
    // One large gradient, then zeros: nu = (1 - b2) b2^(t-1) · 9 shrinks.
    await expectNoLeaks(() => {
      const b2 = 0.5;
      const params = { x: t([0]) };
      const grads = [t([3]), t([0]), t([0])].map((x) => ({ x }));
      const torch = runSteps(scaleByAMSGrad({ b1: 0, b2, eps: 0, mode: 'torch' }), params, grads);
      const optax = runSteps(scaleByAMSGrad({ b1: 0, b2, eps: 0 }), params, grads);
      // After step 3: nu = 0.5·0.25·9 = 1.125; optax's nuMax stays at the
      // step-1 value 4.5 / 0.5 = 9; torch's raw nuMax stays 4.5.
      expect((torch.state as { nuMax: { x: number[] } }).nuMax.x).toEqual([4.5]);
      expect((optax.state as { nuMax: { x: number[] } }).nuMax.x).toEqual([9]);
      // b1 = 0 makes every later update 0; step 1 is g / sqrt(nuMax / bc2) = 3 / 3 in both.
      expect(torch.updates[0]).toEqual({ x: [1] });
      expect(optax.updates[0]).toEqual({ x: [1] });
      return [params, grads];
    });
  });

  it('keeps count, mu, nu and nuMax in the state', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const s = scaleByAMSGrad().init(params);
      expect(Object.keys(s)).toEqual(['count', 'mu', 'nu', 'nuMax']);
      expect(toArrays(s)).toEqual({ count: 0, mu: { w: [0, 0] }, nu: { w: [0, 0] }, nuMax: { w: [0, 0] } });
      return [params, s];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByAMSGrad({ b1: 1 })).toThrow(/scaleByAMSGrad: `b1` must be in \[0, 1\), got 1/);
    expect(() => scaleByAMSGrad({ b2: -0.5 })).toThrow(/`b2`.*-0\.5/);
    expect(() => scaleByAMSGrad({ eps: -1e-8 })).toThrow(/`eps`/);
    expect(() => scaleByAMSGrad({ epsRoot: Number.NaN })).toThrow(/`epsRoot`/);
    expect(() => scaleByAMSGrad({ mode: 'keras' as never })).toThrow(/`mode` must be 'optax' or 'torch', got 'keras'/);
    expect(() => scaleByAMSGrad({ biasCorrectionNu: 1 as never })).toThrow(/`biasCorrectionNu` must be a boolean/);
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]) };
    const g = { w: t([0.5, -0.5]) };
    await expectPureUpdate(scaleByAMSGrad(), params, g);
    await expectPureUpdate(scaleByAMSGrad({ mode: 'torch' }), params, g);
    tf.dispose([params.w, g.w]);
  });
});

describe('scaleByAdamax', () => {
  // run(optax.scale_by_adamax(), 3, 'ADAMAX_DEFAULT')
  const ADAMAX_DEFAULT = [
    {
      b: [0.99999976, -0.9999998, 0.9999998],
      w: [
        [0.99999976, -0.99999976],
        [0.99999976, 0.0],
      ],
    },
    {
      b: [-0.2894736, -0.035122834, 0.47240213],
      w: [
        [0.5795267, -0.63221097],
        [0.86929, 0.5263104],
      ],
    },
    {
      b: [-0.090496376, -0.022184562, 0.34768137],
      w: [
        [-0.27767518, -0.1405022],
        [0.5860421, -0.3683394],
      ],
    },
  ];
  // run(optax.scale_by_adamax(b1=0.5, b2=0.9, eps=0.1), 3, 'ADAMAX_OPTS')
  const ADAMAX_OPTS = [
    {
      b: [0.5, -0.75, 0.96774197],
      w: [
        [0.8333333, -0.9090909],
        [0.952381, 0.0],
      ],
    },
    {
      b: [-0.3333333, 0.18518518, 0.3560335],
      w: [
        [0.43209875, -0.53872055],
        [0.88183427, 0.0066006603],
      ],
    },
    {
      b: [-0.052910056, 0.088183425, 0.2605678],
      w: [
        [-0.49659866, 0.19240019],
        [0.48710847, -0.4757143],
      ],
    },
  ];

  it('matches optax with the defaults', async () => {
    await expectSteps(scaleByAdamax(), ADAMAX_DEFAULT);
  });

  it('matches optax with b1, b2 and eps set', async () => {
    await expectSteps(scaleByAdamax({ b1: 0.5, b2: 0.9, eps: 0.1 }), ADAMAX_OPTS);
  });

  it('keeps the decayed maximum of |g| + eps in nu', async () => {
    await expectNoLeaks(() => {
      const params = { x: t([0, 0]) };
      const grads = [t([2, -1]), t([0.5, -4])].map((x) => ({ x }));
      const run = runSteps(scaleByAdamax({ b2: 0.5, eps: 0.25 }), params, grads);
      // step 1: max(|g| + 0.25, 0) = [2.25, 1.25]; step 2: max([0.75, 4.25], 0.5 · [2.25, 1.25]) = [1.125, 4.25]
      expect(run.state).toMatchObject({ count: 2, nu: { x: [1.125, 4.25] } });
      return [params, grads];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByAdamax({ b1: -0.1 })).toThrow(/scaleByAdamax: `b1` must be in \[0, 1\), got -0\.1/);
    expect(() => scaleByAdamax({ b2: 1 })).toThrow(/`b2`/);
    expect(() => scaleByAdamax({ eps: -1 })).toThrow(/`eps`.*-1/);
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]) };
    const g = { w: t([0.5, -0.5]) };
    await expectPureUpdate(scaleByAdamax(), params, g);
    tf.dispose([params.w, g.w]);
  });
});

describe('scaleByRAdam', () => {
  // run(optax.scale_by_radam(), 7, 'RADAM_DEFAULT'): rho reaches the threshold 5 at step 6.
  const RADAM_DEFAULT = [
    {
      b: [0.09999999, -0.29999995, 2.9999995],
      w: [
        [0.49999988, -0.99999976],
        [1.9999995, 0.0],
      ],
    },
    {
      b: [-0.057894725, -0.010526314, 1.4157891],
      w: [
        [0.2894736, -0.63157874],
        [1.7368414, 0.00052631565],
      ],
    },
    {
      b: [-0.018081177, -0.006642065, 1.0409591],
      w: [
        [-0.55535036, -0.14022134],
        [1.1697413, -0.1841697],
      ],
    },
    {
      b: [0.27795866, -0.15010174, 0.74408245],
      w: [
        [-0.30662972, -0.096539654],
        [0.8237857, 0.043852862],
      ],
    },
    {
      b: [0.28334102, -0.08902833, 0.07399331],
      w: [
        [-0.24396223, -0.024126373],
        [0.622622, -0.25988886],
      ],
    },
    {
      b: [0.0035932495, 0.006895888, 0.0028170284],
      w: [
        [-0.0005920983, -0.006535444],
        [0.012432091, -0.007970357],
      ],
    },
    {
      b: [0.0064821797, 0.0069020125, 0.0037971805],
      w: [
        [-0.0005097682, -0.0036607466],
        [0.007421258, -0.005891879],
      ],
    },
  ];
  // run(optax.scale_by_radam(b1=0.8, b2=0.95, eps=1e-3, eps_root=1e-4, threshold=4.5, nesterov=True), 6, 'RADAM_OPTS')
  const RADAM_OPTS = [
    {
      b: [0.14444447, -0.4333334, 4.333334],
      w: [
        [0.7222223, -1.4444447],
        [2.8888893, 0.0],
      ],
    },
    {
      b: [-0.1504554, 0.1421676, 0.7780511],
      w: [
        [0.21949002, -0.5273225],
        [1.8497269, 0.00088342454],
      ],
    },
    {
      b: [0.008025677, 0.0021680181, 0.7904928],
      w: [
        [-1.2532766, 0.23810476],
        [0.80825454, -0.34020263],
      ],
    },
    {
      b: [0.5679776, -0.28684458, 0.4517061],
      w: [
        [-0.13159627, -0.028502055],
        [0.49869847, 0.25100076],
      ],
    },
    {
      b: [0.07737102, -0.0139866825, -0.052213103],
      w: [
        [-0.024844334, 0.01703504],
        [0.040472873, -0.103120185],
      ],
    },
    {
      b: [-0.05370322, 0.14678463, 0.019480428],
      w: [
        [0.048974, -0.08736331],
        [0.055363856, -0.0366222],
      ],
    },
  ];
  // run(optax.scale_by_radam(b2=0.95, threshold=2.5), 3, 'RADAM_LOW_THRESHOLD'): at step 3
  // rho ≈ 2.94 passes the threshold but (rho - 4)(rho - 2) < 0, so r and the updates are NaN.
  const RADAM_LOW_THRESHOLD = [
    {
      b: [0.09999999, -0.29999995, 2.9999995],
      w: [
        [0.49999988, -0.99999976],
        [1.9999995, 0.0],
      ],
    },
    {
      b: [-0.057894725, -0.010526314, 1.4157891],
      w: [
        [0.2894736, -0.63157874],
        [1.7368414, 0.00052631565],
      ],
    },
    {
      b: [Number.NaN, Number.NaN, Number.NaN],
      w: [
        [Number.NaN, Number.NaN],
        [Number.NaN, Number.NaN],
      ],
    },
  ];

  it('matches optax with the defaults, through the switch to the rectified step', async () => {
    await expectSteps(scaleByRAdam(), RADAM_DEFAULT);
  });

  it('matches optax with b1, b2, eps, epsRoot, threshold and nesterov set', async () => {
    await expectSteps(scaleByRAdam({ b1: 0.8, b2: 0.95, eps: 1e-3, epsRoot: 1e-4, threshold: 4.5, nesterov: true }), RADAM_OPTS);
  });

  it('matches optax where a low threshold makes the rectification NaN', async () => {
    await expectSteps(scaleByRAdam({ b2: 0.95, threshold: 2.5 }), RADAM_LOW_THRESHOLD);
  });

  it('computes rho and r per step as optax does (eager, float32)', () => {
    // import jax.numpy as jnp, numpy as np
    // for b2, th, ts in [(0.999, 5.0, [5, 6, 1000]), (0.5, 1.5, [1, 2])]:
    //   ro_inf = 2.0/(1.0-b2)-1.0
    //   for t in ts:
    //     c = jnp.asarray(t, jnp.int32); b2t = b2**c
    //     ro = ro_inf - 2 * c * b2t / (1 - b2t)
    //     r = jnp.sqrt((ro - 4.0) * (ro - 2.0) * ro_inf / ((ro_inf - 4.0) * (ro_inf - 2.0) * ro))
    //     print(b2, t, np.float32(ro), bool(ro >= th), np.float32(r))
    // printed (b2, t, rho, rho >= threshold, r):
    //   0.999 5 4.9606934 False 0.016961483 | 0.999 6 5.954834 True 0.025522908
    //   0.999 1000 835.9282 True 0.64531046 | 0.5 1 1.0 False nan | 0.5 2 1.6666666 True nan
    type Spec = { scalars(count: number): Record<string, number> };
    const scalarsOf = (tx: { fusion?: unknown }) => (tx.fusion as { spec: Spec }).spec.scalars;
    const def = scalarsOf(scaleByRAdam());
    // below the threshold r is unused (set to 0); the step is the bias-corrected momentum
    expect(def(4)).toMatchObject({ rectified: 0, r: 0 });
    expect(def(5)).toMatchObject({ rectified: 1, r: Math.fround(0.025522908) });
    expect(def(999)).toMatchObject({ rectified: 1, r: Math.fround(0.64531046) });
    const low = scalarsOf(scaleByRAdam({ b2: 0.5, threshold: 1.5 }));
    expect(low(0).rectified).toBe(0);
    expect(low(1).rectified).toBe(1);
    expect(low(1).r).toBeNaN();
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByRAdam({ b1: 1.5 })).toThrow(/scaleByRAdam: `b1` must be in \[0, 1\), got 1\.5/);
    expect(() => scaleByRAdam({ b2: 1 })).toThrow(/`b2`/);
    expect(() => scaleByRAdam({ eps: -1 })).toThrow(/`eps`/);
    expect(() => scaleByRAdam({ epsRoot: -1 })).toThrow(/`epsRoot`/);
    expect(() => scaleByRAdam({ threshold: Number.POSITIVE_INFINITY })).toThrow(/`threshold` must be a finite number, got Infinity/);
    expect(() => scaleByRAdam({ nesterov: 'yes' as never })).toThrow(/`nesterov` must be a boolean/);
  });

  it('is pure and does not leak', async () => {
    const params = { w: t([1, 2]) };
    const g = { w: t([0.5, -0.5]) };
    await expectPureUpdate(scaleByRAdam({ threshold: 0.5 }), params, g, 3);
    tf.dispose([params.w, g.w]);
  });
});
