import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, expectTreeClose, t, toArrays } from './test-utils/index.js';
import { applyUpdates, incrementalUpdate, periodicUpdate } from './update.js';

describe('applyUpdates', () => {
  it('adds updates to params leaf by leaf, as fresh tensors', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]), layers: [{ bias: t([0.5]) }] };
      const u = { w: t([0.25, -1]), layers: [{ bias: t([-0.5]) }] };
      const out = applyUpdates(p, u) as typeof p;
      expect(toArrays(out)).toEqual({ w: [1.25, 1], layers: [{ bias: [0] }] });
      expect(out.w).not.toBe(p.w);
      expect(toArrays(p)).toEqual({ w: [1, 2], layers: [{ bias: [0.5] }] });
      return [p, u, out];
    });
  });

  it('reads tf.Variable params without assigning them', async () => {
    await expectNoLeaks(() => {
      const init = t([1, 2]);
      const v = tf.variable(init);
      const u = t([1, 1]);
      const out = applyUpdates({ v }, { v: u }) as { v: tf.Tensor };
      expect(toArrays(out)).toEqual({ v: [2, 3] });
      expect(Array.from(v.dataSync())).toEqual([1, 2]);
      return [init, v, u, out];
    });
  });

  it('keeps a param whose update is null, and a null param', async () => {
    await expectNoLeaks(() => {
      const p = { a: t([1]), b: t([2]), c: null };
      const u = { a: t([1]), b: null, c: null };
      const out = applyUpdates(p, u) as { a: tf.Tensor; b: tf.Tensor; c: null };
      expect(toArrays(out)).toEqual({ a: [2], b: [2], c: null });
      expect(out.b).not.toBe(p.b);
      return [p, u, out];
    });
  });

  it('names the path of a structure or shape mismatch, and makes no tensor then', async () => {
    await expectNoLeaks(() => {
      const p = { layers: [t([1]), t([1]), { bias: t([1, 2]) }] };
      const bad = { layers: [t([1]), t([1]), { bias: t([1, 2, 3]) }] };
      const missing = { layers: [t([1]), t([1]), {}] };
      const before = tf.memory().numTensors;
      expect(() => applyUpdates(p, bad)).toThrow(/`layers\[2\]\.bias`: applyUpdates: params has shape \[2\] but updates has shape \[3\]/);
      expect(() => applyUpdates(p, missing)).toThrow(/`layers\[2\]\.bias`: present in params but missing in updates/);
      expect(tf.memory().numTensors).toBe(before);
      return [p, bad, missing];
    });
  });

  it('rejects non-float and disposed leaves', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1]) };
      const i = { w: tf.tensor([1], undefined, 'int32') };
      expect(() => applyUpdates(p, i)).toThrow(/`w` of updates has dtype int32/);
      const d = t([1]);
      d.dispose();
      expect(() => applyUpdates(p, { w: d })).toThrow(/disposed/);
      return [p, i];
    });
  });
});

describe('incrementalUpdate', () => {
  it('is stepSize · new + (1 − stepSize) · old', async () => {
    await expectNoLeaks(() => {
      const n = { w: t([1, 2]) };
      const o = { w: t([3, 6]) };
      const out = incrementalUpdate(n, o, 0.25);
      // closed form in float32: 0.25·1 + 0.75·3 = 2.5, 0.25·2 + 0.75·6 = 5
      expectTreeClose(out, { w: [2.5, 5] });
      expect(toArrays(o)).toEqual({ w: [3, 6] });
      return [n, o, out];
    });
  });

  it('rejects a step size outside [0, 1] and mismatched trees', async () => {
    await expectNoLeaks(() => {
      const a = { w: t([1]) };
      const b = { v: t([1]) };
      expect(() => incrementalUpdate(a, a, 1.5)).toThrow(/incrementalUpdate: `stepSize` must be in \[0, 1\], got 1.5/);
      expect(() => incrementalUpdate(a, b, 0.5)).toThrow(
        /`v`: present in oldTensors but missing in newTensors|`w`: present in newTensors but missing in oldTensors/,
      );
      return [a, b];
    });
  });
});

describe('periodicUpdate', () => {
  it('returns copies of the new tensors every updatePeriod steps, else of the old ones', async () => {
    await expectNoLeaks(() => {
      const n = { w: t([1]) };
      const o = { w: t([2]) };
      const picks = [0, 1, 2, 3, 4].map((s) => periodicUpdate(n, o, s, 2));
      expect(picks.map((x) => toArrays(x))).toEqual([{ w: [1] }, { w: [2] }, { w: [1] }, { w: [2] }, { w: [1] }]);
      for (const x of picks) expect((x as { w: tf.Tensor }).w).not.toBe(n.w);
      return [n, o, picks];
    });
  });

  it('rejects a non-positive period and a negative step', async () => {
    await expectNoLeaks(() => {
      const a = { w: t([1]) };
      expect(() => periodicUpdate(a, a, 0, 0)).toThrow(/periodicUpdate: `updatePeriod` must be an integer >= 1, got 0/);
      expect(() => periodicUpdate(a, a, -1, 2)).toThrow(/`steps` must be an integer >= 0/);
      return a;
    });
  });
});
