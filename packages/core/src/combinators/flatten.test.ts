import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { stateless } from '../combine.js';
import { AB_GRADS, adamChain as adam, AB_PARAMS as P, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { floatTreeArb, mapValues, toTensors } from '../test-utils/trees.js';
import { isTensor, treeLeaves } from '../tree.js';
import { flatten } from './flatten.js';

const G = AB_GRADS.slice(0, 3);

describe('flatten', () => {
  it('runs the inner transformation on one flat vector (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(flatten(adam(0.1)), params, grads);
      // optax 0.2.8: optax.flatten(optax.adam(0.1)), 3 updates from P with G.
      const want = [
        { a: [-0.099999338388443, 0.099999338388443, -0.099999338388443], b: [-0.0999993309378624, 0.0999993309378624] },
        { a: [-0.08030328899621964, 0.0855688527226448, -0.09825651347637177], b: [0.07097577303647995, -0.042018111795186996] },
        { a: [0.046583302319049835, 0.01932479441165924, -0.08080914616584778], b: [0.041281815618276596, -0.03659787401556969] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-8 });
      });
      return [params, grads];
    });
  });

  it('shows the inner transformation one 1-D vector, leaves in tree order, params too', async () => {
    await expectNoLeaks(() => {
      const seen: unknown[] = [];
      const spy: GradientTransformation = {
        init: (p) => ({ shape: (p as tf.Tensor).shape }),
        update: (u, s, p) => {
          seen.push(toArrays([u, p]));
          return [tf.neg(u as tf.Tensor), s];
        },
      };
      const p = {
        w: t([
          [1, 2],
          [3, 4],
        ]),
        b: t([5]),
      };
      const tx = flatten(spy);
      const s = tx.init(p);
      expect(s).toEqual({ shape: [5] });
      const [u] = tx.update(p, s, p);
      // sorted keys: b then w
      expect(seen).toEqual([
        [
          [5, 1, 2, 3, 4],
          [5, 1, 2, 3, 4],
        ],
      ]);
      expect(toArrays(u)).toEqual({
        b: [-5],
        w: [
          [-1, -2],
          [-3, -4],
        ],
      });
      return [p, u];
    });
  });

  it('equals the inner transformation for element-wise inners (property)', async () => {
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(floatTreeArb, (tree) => {
          const params = toTensors(tree);
          const grads = [toTensors(mapValues(tree, (v) => v.map((x) => x / 3))), toTensors(mapValues(tree, (v) => v.map((x) => 1 - x)))];
          expect(runSteps(flatten(adam(0.01)), params, grads).updates).toEqual(runSteps(adam(0.01), params, grads).updates);
          disposeTree([params, grads]);
        }),
        { numRuns: 20 },
      );
    });
  });

  it('rejects an empty tree and an inner that does not return one vector', async () => {
    await expectNoLeaks(() => {
      expect(() => flatten(adam(0.1)).init({})).toThrow(/flatten: params has no tensor leaves to flatten/);
      const p = { a: t([1, 2]) };
      const bad = flatten(stateless((u) => ({ x: tf.clone(u as tf.Tensor) })));
      expect(() => bad.update(p, {})).toThrow(/flatten: the inner transformation must return one tensor of 2 elements/);
      expect(() => flatten({} as never)).toThrow(/flatten: `inner` is not a gradient transformation/);
      return p;
    });
  });

  it('returns fresh tensors and leaves its inputs alone', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      const tx = flatten(adam(0.1));
      const s0 = tx.init(p);
      const [u, s1] = tx.update(g, s0, p);
      const inputs = new Set([...treeLeaves(p), ...treeLeaves(g), ...treeLeaves(s0)]);
      for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
      expect(toArrays(g.a)).toEqual([0.5, -1, 2]);
      return [p, g, s0, u, s1];
    });
  });
});
