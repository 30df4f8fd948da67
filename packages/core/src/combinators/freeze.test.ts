import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { expectNoLeaks, runSteps, t, toArrays } from '../test-utils/index.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale, scaleByLearningRate } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { freeze, selectiveTransform } from './freeze.js';

describe('freeze', () => {
  it('zeros the updates where the mask is true and passes the others', async () => {
    await expectNoLeaks(() => {
      const g = { a: t([1, -2]), b: { c: t([3]), d: t([4]) } };
      const tx = freeze({ a: true, b: { c: false, d: true } });
      const s = tx.init(g);
      const [u, s1] = tx.update(g, s);
      expect(toArrays(u)).toEqual({ a: [0, 0], b: { c: [3], d: [0] } });
      expect(s1).toEqual({ innerState: {} });
      expect((u as { b: { c: unknown } }).b.c).not.toBe(g.b.c);
      return [g, u];
    });
  });

  it('takes a single boolean or a prefix mask', async () => {
    await expectNoLeaks(() => {
      const g = { a: t([1]), b: { c: t([3]), d: t([4]) } };
      const [all] = freeze(true).update(g, freeze(true).init(g));
      const [none] = freeze(false).update(g, freeze(false).init(g));
      const [part] = freeze({ a: false, b: true }).update(g, { innerState: {} });
      expect(toArrays(all)).toEqual({ a: [0], b: { c: [0], d: [0] } });
      expect(toArrays(none)).toEqual({ a: [1], b: { c: [3], d: [4] } });
      expect(toArrays(part)).toEqual({ a: [1], b: { c: [0], d: [0] } });
      return [g, all, none, part];
    });
  });

  it('names the path of a mask mismatch and rejects a function', async () => {
    await expectNoLeaks(() => {
      const g = { layers: [t([1]), { bias: t([1]) }] };
      expect(() => freeze({ layers: [true, { w: true }] }).update(g, { innerState: {} })).toThrow(
        /`layers\[1\]\.w`: masked: present in the mask but missing in updates/,
      );
      expect(() => freeze((() => true) as never)).toThrow(/freeze: `mask` must be a boolean or a tree of booleans/);
      return g;
    });
  });
});

describe('selectiveTransform', () => {
  it('optimizes only the unfrozen leaves and keeps no state for the frozen ones', async () => {
    await expectNoLeaks(() => {
      const params = { a: t([1, 2]), b: t([3]) };
      const grads = [
        { a: t([0.5, -1]), b: t([2]) },
        { a: t([0.1, 0.3]), b: t([-1]) },
      ];
      const tx = selectiveTransform(chain(scaleByAdam(), scaleByLearningRate(0.1)), { freezeMask: { a: false, b: true } });
      const s = tx.init(params);
      expect(toArrays(s)).toEqual({
        innerStates: {
          train: { innerState: [{ count: 0, mu: { a: [0, 0], b: null }, nu: { a: [0, 0], b: null } }, {}] },
          freeze: { innerState: {} },
        },
      });
      const run = runSteps(tx, params, grads);
      const ref = runSteps(
        chain(scaleByAdam(), scaleByLearningRate(0.1)),
        { a: params.a },
        grads.map((g) => ({ a: g.a })),
      );
      run.updates.forEach((u, i) => {
        expect((u as { a: unknown }).a).toEqual((ref.updates[i] as { a: unknown }).a);
        expect((u as { b: unknown }).b).toEqual([0]);
      });
      return [params, grads, s];
    });
  });

  it('freezes everything or nothing with a boolean', async () => {
    await expectNoLeaks(() => {
      const g = { a: t([1]), b: t([2]) };
      const all = selectiveTransform(scale(5), { freezeMask: true });
      const none = selectiveTransform(scale(5), { freezeMask: false });
      const [u1, s1] = all.update(g, all.init(g));
      const [u2, s2] = none.update(g, none.init(g));
      expect(toArrays(u1)).toEqual({ a: [0], b: [0] });
      expect(toArrays(u2)).toEqual({ a: [5], b: [10] });
      for (const x of treeLeaves([u1, u2])) expect(isTensor(x) && x !== g.a && x !== g.b).toBe(true);
      return [g, u1, s1, u2, s2];
    });
  });

  it('requires freezeMask', () => {
    expect(() => selectiveTransform(scale(1), {} as never)).toThrow(/selectiveTransform: the options must give `freezeMask`/);
    expect(() => selectiveTransform(scale(1), { freezeMask: { a: 'x' } as never })).toThrow(
      /`a`: selectiveTransform: every leaf of the freezeMask must be a boolean/,
    );
  });
});
