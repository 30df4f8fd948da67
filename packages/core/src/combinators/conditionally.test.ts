import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ExtraArgs } from '../base.js';
import { adamChain as adam, AB_GRADS as G, AB_PARAMS as P, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { scale } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { conditionallyMask, conditionallyTransform } from './conditionally.js';

describe('conditionallyTransform', () => {
  it('runs the inner transformation on the chosen steps and passes the updates through otherwise (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(
        conditionallyTransform(adam(0.1), (step) => step % 2 === 0),
        params,
        grads,
      );
      // optax 0.2.8: optax.conditionally_transform(optax.adam(0.1), lambda step: step % 2 == 0), 4 updates from P with G.
      const want = [
        { a: [-0.099999338388443, 0.099999338388443, -0.099999338388443], b: [-0.0999993309378624, 0.0999993309378624] },
        { a: [0.10000000149011612, -0.30000001192092896, 1.5], b: [-2.0, 0.699999988079071] },
        { a: [0.05594978481531143, 0.012196381576359272, -0.07408031076192856], b: [-0.08843676000833511, 0.05385321006178856] },
        { a: [0.30000001192092896, 0.30000001192092896, -0.6000000238418579], b: [1.0, -1.0] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-8 });
      });
      expect(run.state).toMatchObject({ step: 4, innerState: [{ count: 2 }, {}] });
      expect(Object.keys(run.state as object)).toEqual(['innerState', 'step']);
      return [params, grads];
    });
  });

  it('forwards extra args to the condition when asked to', async () => {
    await expectNoLeaks(() => {
      const p = t([1]);
      const calls: unknown[] = [];
      const cond = (step: number, extra?: ExtraArgs) => {
        calls.push([step, extra]);
        return (extra?.go as boolean | undefined) ?? false;
      };
      const plain = conditionallyTransform(scale(2), cond);
      const fwd = conditionallyTransform(scale(2), cond, { forwardExtraArgs: true });
      const [u1, s1] = plain.update(p, plain.init(p), undefined, { go: true });
      const [u2, s2] = fwd.update(p, fwd.init(p), undefined, { go: true });
      expect(calls).toEqual([
        [0, undefined],
        [0, { go: true }],
      ]);
      expect([toArrays(u1), toArrays(u2)]).toEqual([[1], [2]]);
      return [p, u1, s1, u2, s2];
    });
  });

  it('accepts a scalar bool tensor as the decision and rejects other values', async () => {
    await expectNoLeaks(() => {
      const p = t([1]);
      const tx = conditionallyTransform(scale(3), (step) => tf.scalar(step === 0, 'bool'));
      const [u, s] = tx.update(p, tx.init(p));
      expect(toArrays(u)).toEqual([3]);
      const bad = conditionallyTransform(scale(3), () => 1 as never);
      expect(() => bad.update(p, bad.init(p))).toThrow(
        /conditionallyTransform: `shouldTransformFn` must return a boolean \(or a scalar bool tensor\), got 1 at step 0/,
      );
      expect(() => conditionallyTransform(scale(1), 3 as never)).toThrow(/`shouldTransformFn` must be a function/);
      return [p, u, s];
    });
  });
});

describe('conditionallyMask', () => {
  it('runs the inner transformation on the chosen steps and returns zeros otherwise (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(
        conditionallyMask(adam(0.1), (step) => step % 2 === 1),
        params,
        grads,
      );
      // optax 0.2.8: optax.conditionally_mask(optax.adam(0.1), lambda step: step % 2 == 1), 4 updates from P with G.
      const want = [
        { a: [0, 0, 0], b: [0, 0] },
        { a: [-0.0999993309378624, 0.0999993309378624, -0.0999993309378624], b: [0.099999338388443, -0.0999993309378624] },
        { a: [0, 0, 0], b: [0, 0] },
        { a: [-0.09177718311548233, -0.005263106431812048, -0.03456023707985878], b: [0.026633432134985924, 0.022559447214007378] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-8 });
      });
      expect(Object.keys(run.state as object)).toEqual(['step', 'innerState']);
      expect(run.state).toMatchObject({ step: 4, innerState: [{ count: 2 }, {}] });
      return [params, grads];
    });
  });

  it('returns fresh tensors on both branches and leaves its inputs alone', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      for (const tx of [conditionallyMask(adam(0.1), (s) => s === 0), conditionallyTransform(adam(0.1), (s) => s === 0)]) {
        const s0 = tx.init(p);
        const [u1, s1] = tx.update(g, s0, p);
        const [u2, s2] = tx.update(g, s1, p);
        const inputs = new Set([...treeLeaves(p), ...treeLeaves(g), ...treeLeaves(s0), ...treeLeaves(s1)]);
        for (const x of [...treeLeaves(u2), ...treeLeaves(s2)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
        tf.dispose([...treeLeaves(s0), ...treeLeaves(u1), ...treeLeaves(s1), ...treeLeaves(u2), ...treeLeaves(s2)].filter(isTensor));
      }
      expect(toArrays(g.a)).toEqual([0.5, -1, 2]);
      return [p, g];
    });
  });
});
