import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { expectNoLeaks, expectPureUpdate, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectSteps, printedTables } from '../test-utils/optax-steps.js';
import { scaleByAdam, scaleByAdamax, scaleByAMSGrad, scaleByRAdam } from './adam.js';
import { scaleByLearningRate } from './scaling.js';

/** The tables printed by optax 0.2.8 for this file (`fixtures/adam.json`). */
const table = printedTables('adam.json');

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
  const AMSGRAD_DEFAULT = table('AMSGRAD_DEFAULT');
  // run(optax.scale_by_amsgrad(b1=0.8, b2=0.95, eps=1e-4, eps_root=1e-3), 3, 'AMSGRAD_OPTS')
  const AMSGRAD_OPTS = table('AMSGRAD_OPTS');
  // run(optax.scale_by_amsgrad(bias_correction_mu=False, bias_correction_nu=False), 3, 'AMSGRAD_NO_BC')
  const AMSGRAD_NO_BC = table('AMSGRAD_NO_BC');
  // run(optax.scale_by_amsgrad(bias_correction_mu=False), 3, 'AMSGRAD_NO_BC_MU')
  const AMSGRAD_NO_BC_MU = table('AMSGRAD_NO_BC_MU');

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
  const AMSGRAD_TORCH = table('AMSGRAD_TORCH');
  const AMSGRAD_TORCH_OPTS = table('AMSGRAD_TORCH_OPTS');

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
  const ADAMAX_DEFAULT = table('ADAMAX_DEFAULT');
  // run(optax.scale_by_adamax(b1=0.5, b2=0.9, eps=0.1), 3, 'ADAMAX_OPTS')
  const ADAMAX_OPTS = table('ADAMAX_OPTS');

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
  const RADAM_DEFAULT = table('RADAM_DEFAULT');
  // run(optax.scale_by_radam(b1=0.8, b2=0.95, eps=1e-3, eps_root=1e-4, threshold=4.5, nesterov=True), 6, 'RADAM_OPTS')
  const RADAM_OPTS = table('RADAM_OPTS');
  // run(optax.scale_by_radam(b2=0.95, threshold=2.5), 3, 'RADAM_LOW_THRESHOLD'): at step 3
  // rho ≈ 2.94 passes the threshold but (rho - 4)(rho - 2) < 0, so r and the updates are NaN.
  const RADAM_LOW_THRESHOLD = table('RADAM_LOW_THRESHOLD');

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
