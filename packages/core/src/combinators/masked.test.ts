import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExtraArgs, GradientTransformation } from '../base.js';
import { chain, identity } from '../combine.js';
import { AB_GRADS, AB_PARAMS as P, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { floatTreeArb, mapValues, toTensors, values } from '../test-utils/trees.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale } from '../transforms/scaling.js';
import { isTensor, treeLeaves, treeMap } from '../tree.js';
import { masked, maskedTx } from './masked.js';

const G = AB_GRADS.slice(0, 3);

/** A transformation that records the updates, params and extra args it sees (as arrays), and returns copies. */
function spy(seen: unknown[]): GradientTransformation {
  return {
    init: (p) => ({ seenInit: treeMap((x: tf.Tensor) => x.shape, p) }),
    update: (u, s, p, extra?: ExtraArgs) => {
      seen.push({ u: toArrays(u), p: toArrays(p), extra: extra === undefined ? undefined : toArrays(extra) });
      return [treeMap((x: tf.Tensor) => tf.clone(x), u), s];
    },
  };
}

describe('masked', () => {
  it('applies the inner transformation to the masked-in leaves only (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(masked(scaleByAdam(), { a: true, b: false }), params, grads);
      // optax 0.2.8: optax.masked(optax.scale_by_adam(), {'a': True, 'b': False}),
      // 3 updates of P with G (see the top of this file), updates printed as float64.
      const want = [
        { a: [0.9999933838844299, -0.9999933838844299, 0.9999933838844299], b: [0.10000000149011612, -0.30000001192092896] },
        { a: [0.8030328750610352, -0.8556885123252869, 0.9825651049613953], b: [-2.0, 0.699999988079071] },
        { a: [-0.46583300828933716, -0.1932479441165924, 0.8080914616584778], b: [0.4000000059604645, 0.05000000074505806] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-7 });
      });
      return [params, grads];
    });
  });

  it('keeps inner state for the masked-in leaves only; the inner sees null elsewhere', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      const s = masked(scaleByAdam(), { a: true, b: false }).init(params);
      expect(toArrays(s)).toEqual({ innerState: { count: 0, mu: { a: [0, 0, 0], b: null }, nu: { a: [0, 0, 0], b: null } } });
      const seen: unknown[] = [];
      const tx = masked(spy(seen), { a: false, b: true });
      const s1 = tx.init(params);
      expect(s1.innerState).toEqual({ seenInit: { a: null, b: [2] } });
      const [u] = tx.update(g, s1, params);
      expect(seen).toEqual([{ u: { a: null, b: [0.1, -0.3].map(Math.fround) }, p: { a: null, b: [0.5, 0.25] }, extra: undefined }]);
      return [params, g, s, u];
    });
  });

  it('accepts a mask function (called with params at init, updates at update) and prefix masks', async () => {
    await expectNoLeaks(() => {
      const params = { layers: [{ w: t([[1, 2]]), bias: t([1]) }], head: t([3]) };
      const g = { layers: [{ w: t([[1, 1]]), bias: t([1]) }], head: t([1]) };
      const calls: unknown[] = [];
      const byRank = masked(scale(10), (p) => {
        calls.push(treeLeaves(p).length);
        return treeMap((x: tf.Tensor) => x.rank > 1, p);
      });
      const [u1, s1] = byRank.update(g, byRank.init(params), params);
      expect(toArrays(u1)).toEqual({ layers: [{ w: [[10, 10]], bias: [1] }], head: [1] });
      expect(calls).toEqual([3, 3]);
      // a boolean at a node stands for every leaf below it
      const prefix = masked(scale(10), { layers: false, head: true });
      const [u2, s2] = prefix.update(g, prefix.init(params), params);
      expect(toArrays(u2)).toEqual({ layers: [{ w: [[1, 1]], bias: [1] }], head: [10] });
      const all = masked(scale(10), true);
      const [u3, s3] = all.update(g, all.init(params));
      expect(toArrays(u3)).toEqual({ layers: [{ w: [[10, 10]], bias: [10] }], head: [10] });
      return [params, g, u1, s1, u2, s2, u3, s3];
    });
  });

  it('names the path where the mask does not match the tree', async () => {
    await expectNoLeaks(() => {
      const params = { layers: [t([1]), t([1]), { bias: t([1]), w: t([1]) }] };
      const tx = masked(identity(), { layers: [true, true, { bias: true }] });
      expect(() => tx.init(params)).toThrow(/`layers\[2\]\.w`: masked: present in params but missing in the mask/);
      expect(() => tx.update(params, { innerState: {} })).toThrow(/`layers\[2\]\.w`: masked: present in updates but missing in the mask/);
      const short = masked(identity(), { layers: [true, true] });
      expect(() => short.init(params)).toThrow(/`layers`: masked: the mask has an array of length 2 but params has an array of length 3/);
      expect(() => masked(identity(), { a: 1 } as never)).toThrow(/`a`: masked: every leaf of the mask must be a boolean, got number 1/);
      return params;
    });
  });

  it('masks extra args with the updates structure when asked to', async () => {
    await expectNoLeaks(() => {
      const g = { a: t([1]), b: t([2]) };
      const tags = { a: t([5]), b: t([6]) };
      const seenPlain: unknown[] = [];
      const seenMasked: unknown[] = [];
      const plain = masked(spy(seenPlain), { a: true, b: false });
      const withMask = masked(spy(seenMasked), { a: true, b: false }, { maskCompatibleExtraArgs: true });
      const [u1] = plain.update(g, plain.init(g), undefined, { tags, loss: 3 });
      const [u2] = withMask.update(g, withMask.init(g), undefined, { tags, loss: 3 });
      expect((seenPlain[0] as { extra: unknown }).extra).toEqual({ tags: { a: [5], b: [6] }, loss: 3 });
      expect((seenMasked[0] as { extra: unknown }).extra).toEqual({ tags: { a: [5], b: null }, loss: 3 });
      expect(() => masked(identity(), true, { maskCompatibleExtraArgs: 1 as never })).toThrow(/maskCompatibleExtraArgs/);
      return [g, tags, u1, u2];
    });
  });

  it('returns fresh tensors and leaves its inputs alone', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      const tx = masked(chain(scaleByAdam(), scale(-0.1)), { a: false, b: true });
      const s0 = tx.init(params);
      const [u, s1] = tx.update(g, s0, params);
      const inputs = new Set([...treeLeaves(params), ...treeLeaves(g), ...treeLeaves(s0)]);
      for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
      expect(values(g)).toEqual({ a: [0.5, -1, 2], b: [0.1, -0.3].map(Math.fround) });
      expect(values(params)).toEqual({ a: [1, -2, 3], b: [0.5, 0.25] });
      // the old state can be disposed without harming the new one
      disposeTree(s0);
      expect(toArrays(s1)).toMatchObject({ innerState: [{ count: 1, mu: { a: null } }, {}] });
      return [params, g, u, s1];
    });
  });

  it('with an all-true mask equals the inner transformation; with all-false the identity (property)', async () => {
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(floatTreeArb, (tree) => {
          const params = toTensors(tree);
          const grads = [toTensors(mapValues(tree, (v) => v.map((x) => x / 7))), toTensors(mapValues(tree, (v) => v.map((x) => 2 - x)))];
          const allTrue = treeMap(() => true, tree, [], { isLeaf: (x) => x instanceof Float32Array });
          const allFalse = treeMap(() => false, tree, [], { isLeaf: (x) => x instanceof Float32Array });
          const inner = runSteps(scaleByAdam(), params, grads).updates;
          expect(runSteps(masked(scaleByAdam(), allTrue), params, grads).updates).toEqual(inner);
          expect(
            runSteps(
              maskedTx(scaleByAdam(), () => true),
              params,
              grads,
            ).updates,
          ).toEqual(inner);
          expect(runSteps(masked(scaleByAdam(), allFalse), params, grads).updates).toEqual(grads.map((g) => toArrays(g)));
          disposeTree([params, grads]);
        }),
        { numRuns: 25 },
      );
    });
  });
});
