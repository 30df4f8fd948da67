import type * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { chain, setToZero } from '../combine.js';
import { AB_GRADS, adamChain as adam, AB_PARAMS as P, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { floatTreeArb, mapValues, toTensors } from '../test-utils/trees.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale } from '../transforms/scaling.js';
import { isTensor, treeLeaves, treeMap } from '../tree.js';
import { masked } from './masked.js';
import { multiTransform, partition } from './partition.js';

const G = AB_GRADS.slice(0, 3);

describe('partition', () => {
  it('applies each label its own transformation (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(partition({ x: scale(-0.1), y: adam(0.1) }, { a: 'x', b: 'y' }), params, grads);
      // optax 0.2.8: optax.partition({'x': optax.scale(-0.1), 'y': optax.adam(0.1)}, {'a': 'x', 'b': 'y'}),
      // 3 updates from P with G.
      const want = [
        { a: [-0.05000000074505806, 0.10000000149011612, -0.20000000298023224], b: [-0.0999993309378624, 0.0999993309378624] },
        { a: [-0.010000000707805157, 0.030000001192092896, -0.15000000596046448], b: [0.07097577303647995, -0.042018111795186996] },
        { a: [0.20000000298023224, -0.07000000029802322, -0.020000001415610313], b: [0.041281815618276596, -0.03659787401556969] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-7 });
      });
      return [params, grads];
    });
  });

  it('keeps one masked state per label, in optax layout', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const s = partition({ x: scale(-0.1), y: scaleByAdam() }, { a: 'x', b: 'y' }).init(params);
      expect(toArrays(s)).toEqual({
        innerStates: { x: { innerState: {} }, y: { innerState: { count: 0, mu: { a: null, b: [0, 0] }, nu: { a: null, b: [0, 0] } } } },
      });
      return [params, s];
    });
  });

  it('takes a label function and prefix labels', async () => {
    await expectNoLeaks(() => {
      const params = { enc: [{ w: t([1]), bias: t([2]) }], head: { w: t([3]), bias: t([4]) } };
      const byKey = partition({ w: scale(10), bias: setToZero() }, (p) => treeMap((_x: tf.Tensor) => 'w', p) as never);
      const [u1, s1] = byKey.update(params, byKey.init(params));
      expect(toArrays(u1)).toEqual({ enc: [{ w: [10], bias: [20] }], head: { w: [30], bias: [40] } });
      const prefix = partition({ frozen: setToZero(), train: scale(2) }, { enc: 'frozen', head: 'train' });
      const [u2, s2] = prefix.update(params, prefix.init(params));
      expect(toArrays(u2)).toEqual({ enc: [{ w: [0], bias: [0] }], head: { w: [6], bias: [8] } });
      return [params, u1, s1, u2, s2];
    });
  });

  it('rejects a label without a transformation, naming the label and path', async () => {
    await expectNoLeaks(() => {
      const params = { layers: [t([1]), t([1]), { bias: t([1]) }] };
      const tx = partition({ a: scale(1) }, { layers: ['a', 'a', { bias: 'b' }] });
      expect(() => tx.init(params)).toThrow(
        /partition: the label `b` at `layers\[2\]\.bias` has no transformation; the transformations are for \[a\]/,
      );
      expect(() => partition({ a: scale(1) }, { layers: ['a', 'a', { bias: 1 }] } as never).init(params)).toThrow(
        /`layers\[2\]\.bias`: partition: every leaf of the labels must be a string, got number 1/,
      );
      expect(() => partition({ a: scale(1) }, { layers: ['a', 'a'] }).init(params)).toThrow(
        /`layers`: partition: the labels has an array of length 2/,
      );
      expect(() => partition({ a: {} as GradientTransformation }, 'a')).toThrow(
        /partition: the transformation for label `a` is not a gradient transformation/,
      );
      expect(() => partition({ a: scale(1), b: scale(1) }, 'a').update(params, { innerStates: { a: { innerState: {} } } })).toThrow(
        /partition: the state has no inner state for the label `b`/,
      );
      return params;
    });
  });

  it('returns fresh tensors and leaves its inputs alone', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      const tx = partition({ x: scale(-0.1), y: adam(0.1), unused: scaleByAdam() }, { a: 'x', b: 'y' });
      const s0 = tx.init(params);
      const [u, s1] = tx.update(g, s0, params);
      const inputs = new Set([...treeLeaves(params), ...treeLeaves(g), ...treeLeaves(s0)]);
      for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
      expect(toArrays(g.a)).toEqual([0.5, -1, 2]);
      return [params, g, u, s0, s1];
    });
  });

  it('multiTransform is the same function', () => {
    expect(multiTransform).toBe(partition);
  });

  it('with a single label equals the inner transformation (property)', async () => {
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(floatTreeArb, fc.boolean(), (tree, prefix) => {
          const params = toTensors(tree);
          const grads = [toTensors(mapValues(tree, (v) => v.map((x) => x / 3))), toTensors(mapValues(tree, (v) => v.map((x) => 1 - x)))];
          const labels = prefix ? 'only' : treeMap(() => 'only', tree, [], { isLeaf: (x) => x instanceof Float32Array });
          const want = runSteps(adam(0.1), params, grads).updates;
          expect(runSteps(partition({ only: adam(0.1) }, labels), params, grads).updates).toEqual(want);
          disposeTree([params, grads]);
        }),
        { numRuns: 20 },
      );
    });
  });

  it('with labels from a mask equals masked(inner, m) then masked(other, not m), and each part alone (property)', async () => {
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(
          floatTreeArb.chain((tree) =>
            fc.tuple(
              fc.constant(tree),
              fc.array(fc.boolean(), { minLength: treeLeaves(tree, { isLeaf: (x) => x instanceof Float32Array }).length, maxLength: 64 }),
            ),
          ),
          ([tree, bits]) => {
            let i = 0;
            const mask = treeMap(() => bits[i++] as boolean, tree, [], { isLeaf: (x) => x instanceof Float32Array });
            const notMask = treeMap((m: boolean) => !m, mask);
            const labels = treeMap((m: boolean) => (m ? 'in' : 'out'), mask);
            const params = toTensors(tree);
            const grads = [toTensors(mapValues(tree, (v) => v.map((x) => x / 5))), toTensors(mapValues(tree, (v) => v.map((x) => x - 1)))];
            const inner = () => scaleByAdam({ b1: 0.8 });
            const other = () => chain(scale(-0.5), scaleByAdam({ b2: 0.9 }));
            const viaPartition = runSteps(partition({ in: inner(), out: other() }, labels), params, grads).updates;
            const viaMasks = runSteps(chain(masked(inner(), mask), masked(other(), notMask)), params, grads).updates;
            expect(viaPartition).toEqual(viaMasks);
            // leaf by leaf, each part equals its transformation on the whole tree
            const allIn = runSteps(inner(), params, grads).updates;
            const allOut = runSteps(other(), params, grads).updates;
            viaPartition.forEach((u, step) => {
              const pick = treeMap((m: boolean, a: unknown, b: unknown) => (m ? a : b), mask, [allIn[step], allOut[step]], {
                isLeaf: (x) => Array.isArray(x) && typeof x[0] === 'number',
              });
              expect(u).toEqual(pick);
            });
            disposeTree([params, grads]);
          },
        ),
        { numRuns: 20 },
      );
    });
  });
});
