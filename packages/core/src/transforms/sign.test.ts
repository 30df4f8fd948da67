import { describe, expect, it } from 'vitest';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { scaleBySign } from './sign.js';

describe('scaleBySign', () => {
  it('matches optax, NaN and infinities included', async () => {
    await expectNoLeaks(() => {
      // optax 0.2.8: optax.scale_by_sign().update(jnp.array([0.5, -1., 0., -0., jnp.nan, jnp.inf, -jnp.inf, 1e-30]), optax.EmptyState())
      //   -> [1, -1, 0, -0, nan, 1, -1, 1]
      const params = { w: t([0, 0, 0, 0, 0, 0, 0, 0]) };
      const grads = [
        { w: t([0.5, -1, 0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-30]) },
        { w: t([-3, 2, 1e-3, -1e-3, 0, 7, -7, 0]) },
      ];
      const { updates, state } = runSteps(scaleBySign(), params, grads);
      expectTreeClose(updates, [{ w: [1, -1, 0, 0, Number.NaN, 1, -1, 1] }, { w: [-1, 1, 1, -1, 0, 1, -1, 0] }], { rtol: 0, atol: 0 });
      expect(state).toEqual({});
      disposeTree([params, grads]);
    });
  });

  it('is a stateless element-wise spec', () => {
    const tx = scaleBySign();
    expect(tx.fusion?.kind).toBe('elementwise');
    expect(tx.init({})).toEqual({});
  });

  it('is pure and leaks nothing', async () => {
    await expectPureSteps(scaleBySign(), () => ({
      params: { a: t([1, 2]), b: null },
      grads: [
        { a: t([0.5, -1]), b: null },
        { a: t([0, 3]), b: null },
      ],
    }));
  });
});
