import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectPureUpdate, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectSteps, printedTables } from '../test-utils/optax-steps.js';
import { scaleByBelief, scaleByNovograd, scaleByYogi } from './adaptive.js';

/** The tables printed by optax 0.2.8 for this file (`fixtures/adaptive.json`). */
const table = printedTables('adaptive.json');

// Expected values: real optax 0.2.8, printed by the script in
// test-utils/optax-steps.ts; the `run(...)` line is quoted above each table.

describe('scaleByBelief', () => {
  // run(optax.scale_by_belief(), 3, 'BELIEF_DEFAULT')
  const BELIEF_DEFAULT = table('BELIEF_DEFAULT');
  // run(optax.scale_by_belief(b1=0.8, b2=0.95, eps=1e-6, eps_root=1e-4, nesterov=True), 3, 'BELIEF_OPTS')
  const BELIEF_OPTS = table('BELIEF_OPTS');

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
  const YOGI_DEFAULT = table('YOGI_DEFAULT');
  // run(optax.scale_by_yogi(b1=0.5, b2=0.9, eps=1e-2, eps_root=1e-3, initial_accumulator_value=0.5), 4, 'YOGI_OPTS')
  const YOGI_OPTS = table('YOGI_OPTS');

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
  const NOVOGRAD_DEFAULT = table('NOVOGRAD_DEFAULT');
  // s = run(optax.scale_by_novograd(b1=0.5, b2=0.6, eps=1e-3, eps_root=0.01, weight_decay=0.1), 3, 'NOVOGRAD_OPTS')
  // print(s.nu)  ->  {'b': Array(3.3656244), 'w': Array(4.366)}
  const NOVOGRAD_OPTS = table('NOVOGRAD_OPTS');

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
