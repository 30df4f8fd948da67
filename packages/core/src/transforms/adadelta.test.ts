import { describe, expect, it } from 'vitest';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { expectPureSteps } from '../test-utils/purity.js';
import { scaleByAdadelta } from './adadelta.js';

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

function steps(tx: ReturnType<typeof scaleByAdadelta>): unknown[] {
  const params = { w: t([0, 0, 0, 0]) };
  const grads = GRADS.map((g) => ({ w: t(g) }));
  const { updates } = runSteps(tx, params, grads);
  disposeTree([params, grads]);
  return updates;
}

describe('scaleByAdadelta', () => {
  it('matches optax with the defaults', async () => {
    await expectNoLeaks(() => {
      // tx = optax.scale_by_adadelta()
      expectTreeClose(
        steps(scaleByAdadelta()),
        [
          { w: [0.0031622148, -0.003162262, 0.0031622737, 0] },
          { w: [0.0009225024, -0.0013483897, 0.0027734968, 0.00095346273] },
          { w: [-0.0043420866, 0.0027178146, 0.00044862097, -0.0033028193] },
        ],
        { rtol: 1e-6, atol: 1e-10 },
      );
    });
  });

  it('matches optax with rho and eps', async () => {
    await expectNoLeaks(() => {
      // tx = optax.scale_by_adadelta(rho=0.5, eps=1e-3)
      expectTreeClose(
        steps(scaleByAdadelta({ rho: 0.5, eps: 1e-3 })),
        [
          { w: [0.044543542, -0.04467671, 0.04471019, 0] },
          { w: [0.017053215, -0.024647541, 0.046001334, 0.0009997501] },
          { w: [-0.056805015, 0.04737986, 0.009717394, -0.04455463] },
        ],
        { rtol: 1e-6, atol: 1e-10 },
      );
    });
  });

  it('keeps { eG, eX }, zero at init, and is an element-wise spec', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]) };
      const tx = scaleByAdadelta();
      const s = tx.init(params);
      expect(toArrays(s)).toEqual({ eG: { w: [0, 0] }, eX: { w: [0, 0] } });
      expect(tx.fusion?.kind).toBe('elementwise');
      return [params, s];
    });
  });

  it('rejects bad hyperparameters', () => {
    expect(() => scaleByAdadelta({ rho: 1 })).toThrow(/scaleByAdadelta: `rho` must be in \[0, 1\), got 1/);
    expect(() => scaleByAdadelta({ eps: -1e-6 })).toThrow(/scaleByAdadelta: `eps`.*-0.000001/);
  });

  it('is pure and leaks nothing', async () => {
    await expectPureSteps(scaleByAdadelta(), () => ({
      params: { a: t([1, 2]) },
      grads: [{ a: t([0.5, -1]) }, { a: t([0.1, 0]) }],
    }));
  });
});
