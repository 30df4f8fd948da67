import { describe, expect, it } from 'vitest';
import { expectPureUpdate, t } from '../test-utils/index.js';
import { scaleByDistanceOverGradients } from './distance-over-gradients.js';

// Values against optax: conformance/optax-more.test.ts (fixtures/optax-more.json).
describe('scaleByDistanceOverGradients', () => {
  it('is pure and leak-free, and runs on the reference path', async () => {
    const tx = scaleByDistanceOverGradients();
    expect(tx.fusion).toBeUndefined();
    await expectPureUpdate(tx, { w: t([[1, 2]]), b: t([3]) }, { w: t([[0.5, -1]]), b: t([2]) }, 3);
  });
  it('needs params and rejects bad options', () => {
    const tx = scaleByDistanceOverGradients();
    const p = t([1]);
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(/scaleByDistanceOverGradients: this transformation needs `params`/);
    expect(() => scaleByDistanceOverGradients({ repsRel: 0 })).toThrow(/`repsRel` must be a finite number > 0/);
    expect(() => scaleByDistanceOverGradients({ reps_rel: 1 } as never)).toThrow(/unknown option `reps_rel`/);
  });
});
