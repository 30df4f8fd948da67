import { describe, expect, it } from 'vitest';
import { type GradientTransformation, MAX_COUNT } from '../base.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { ema, trace } from './momentum.js';

/*
 * Expected values printed by optax 0.2.8 (jax cpu, float32) with
 *
 *   gs = [jnp.array(g, jnp.float32) for g in ([0.5, -1., 2., 0.], [0.1, -0.3, 1.5, 1e-3], [-2., 0.7, 0.2, -0.5])]
 *   s = tx.init(jnp.zeros(4))
 *   for g in gs: u, s = tx.update(g, s); print(u)
 */
const GRADS = [
  [0.5, -1, 2, 0],
  [0.1, -0.3, 1.5, 1e-3],
  [-2, 0.7, 0.2, -0.5],
];

function run(tx: GradientTransformation) {
  const params = { w: t([0, 0, 0, 0]) };
  const grads = GRADS.map((g) => ({ w: t(g) }));
  const out = runSteps(tx, params, grads);
  disposeTree([params, grads]);
  return out;
}

describe('trace', () => {
  it('matches optax', async () => {
    await expectNoLeaks(() => {
      // tx = optax.trace(decay=0.9)
      const { updates, state } = run(trace({ decay: 0.9 }));
      const want = [
        [0.5, -1, 2, 0],
        [0.55, -1.2, 3.3, 0.001],
        [-1.505, -0.38000005, 3.1699998, -0.4991],
      ];
      expectTreeClose(
        updates,
        want.map((w) => ({ w })),
      );
      expectTreeClose(state, { trace: { w: want[2] } });
    });
  });

  it('matches optax with nesterov', async () => {
    await expectNoLeaks(() => {
      // tx = optax.trace(decay=0.9, nesterov=True)
      const { updates, state } = run(trace({ decay: 0.9, nesterov: true }));
      expectTreeClose(updates, [
        { w: [0.95, -1.9, 3.8, 0] },
        { w: [0.595, -1.3800001, 4.47, 0.0019] },
        { w: [-3.3544998, 0.35799995, 3.0529997, -0.94919] },
      ]);
      // The state holds the plain trace, not the Nesterov look-ahead.
      expectTreeClose(state, { trace: { w: [-1.505, -0.38000005, 3.1699998, -0.4991] } });
    });
  });

  it('rejects a missing or bad decay and a non-boolean nesterov', () => {
    expect(() => trace(undefined as never)).toThrow(/trace: expected an options object/);
    expect(() => trace({} as never)).toThrow(/trace: `decay` must be a finite number >= 0, got undefined/);
    expect(() => trace({ decay: -0.5 })).toThrow(/trace: `decay`.*-0.5/);
    expect(() => trace({ decay: 0.9, nesterov: 1 as never })).toThrow(/trace: `nesterov` must be a boolean/);
  });

  it('is an element-wise spec, pure, and leaks nothing', async () => {
    expect(trace({ decay: 0.9 }).fusion?.kind).toBe('elementwise');
    await expectPureSteps(trace({ decay: 0.9, nesterov: true }), () => ({
      params: { a: t([1, 2]), b: [t([3])] },
      grads: [
        { a: t([0.5, -1]), b: [t([2])] },
        { a: t([0.1, 0]), b: [t([-1])] },
      ],
    }));
  });
});

describe('ema', () => {
  it('matches optax with debiasing (the default)', async () => {
    await expectNoLeaks(() => {
      // tx = optax.ema(0.9)
      const { updates, state } = run(ema(0.9));
      expectTreeClose(updates, [
        { w: [0.4999999, -0.9999998, 1.9999996, 0] },
        { w: [0.2894736, -0.63157874, 1.7368416, 0.00052631565] },
        { w: [-0.55535036, -0.14022134, 1.1697414, -0.1841697] },
      ]);
      expect((state as { count: number }).count).toBe(3);
    });
  });

  it('matches optax without debiasing, and still counts', async () => {
    await expectNoLeaks(() => {
      // tx = optax.ema(0.8, debias=False)
      const { updates, state } = run(ema(0.8, { debias: false }));
      const want = [
        [0.1, -0.2, 0.4, 0],
        [0.10000001, -0.22000001, 0.62, 0.00020000001],
        [-0.32, -0.036000013, 0.536, -0.09984],
      ];
      expectTreeClose(
        updates,
        want.map((w) => ({ w })),
      );
      expectTreeClose(state, { count: 3, ema: { w: want[2] } });
    });
  });

  it('keeps { count, ema } and saturates the count', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const g = { w: t([1, 1]) };
      const tx = ema(0.5);
      const s0 = tx.init(params);
      expect(toArrays(s0)).toEqual({ count: 0, ema: { w: [0, 0] } });
      const [u, s1] = tx.update(g, { ...s0, count: MAX_COUNT });
      expect(s1.count).toBe(MAX_COUNT);
      // decay^t underflows to 0, so the debiased value equals the raw one: 0.5 · 1 + 0.5 · 0
      expectTreeClose(u, { w: [0.5, 0.5] });
      return [params, g, s0, u, s1];
    });
  });

  it('rejects a decay outside its range', () => {
    expect(() => ema(1)).toThrow(/ema: `decay` must be in \[0, 1\), got 1/);
    expect(() => ema(1, { debias: false })).not.toThrow();
    expect(() => ema(1.5, { debias: false })).toThrow(/ema: `decay` must be in \[0, 1\], got 1.5/);
    expect(() => ema(0.9, { debias: 'no' as never })).toThrow(/ema: `debias` must be a boolean/);
  });

  it('is an element-wise spec, pure, and leaks nothing', async () => {
    expect(ema(0.9).fusion?.kind).toBe('elementwise');
    await expectPureSteps(ema(0.9), () => ({
      params: { a: t([1, 2]) },
      grads: [{ a: t([0.5, -1]) }, { a: t([0.1, 0]) }],
    }));
  });
});
