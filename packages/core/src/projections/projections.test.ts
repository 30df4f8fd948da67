import { describe, expect, it } from 'vitest';
import { projectionBox, projectionHyperplane, projectionL1Ball, projectionL2Ball, projectionSimplex } from '../index.js';
import { disposeTree, t } from '../test-utils/index.js';

// Values against optax: conformance/optax-projections.test.ts (fixtures/optax-projections.json).
describe('projections', () => {
  it('reject bad arguments naming them', () => {
    const x = t([1, 2]);
    expect(() => projectionSimplex(x, 0)).toThrow(/projectionSimplex: `scale` must be a finite number > 0, got 0/);
    expect(() => projectionL2Ball({ a: 3 } as never)).toThrow(/projectionL2Ball: tree must hold tensors, got number 3/);
    expect(() => projectionBox(x, Number.NaN, 1)).toThrow(/projectionBox: `lower` must be a finite number, got NaN/);
    expect(() => projectionHyperplane(x, x, Number.POSITIVE_INFINITY)).toThrow(/`b` must be a finite number/);
    expect(() => projectionL1Ball(x, -1)).toThrow(/`scale` must be a finite number > 0/);
    disposeTree(x);
  });
  it('the simplex projection sums to the scale and is non-negative', () => {
    const x = t([3, -1, 0.5, 0.2]);
    const p = projectionSimplex(x, 2);
    const v = Array.from(p.dataSync());
    expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(2, 6);
    for (const e of v) expect(e).toBeGreaterThanOrEqual(0);
    disposeTree([x, p]);
  });
});
