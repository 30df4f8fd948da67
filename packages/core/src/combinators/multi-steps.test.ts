import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adamChain as adam, AB_GRADS as G, AB_PARAMS as P, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale, scaleByLearningRate } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { hasUpdated, multiSteps, skipLargeUpdates, skipNotFinite } from './multi-steps.js';

const sgd = (lr: number) => scaleByLearningRate(lr);

describe('multiSteps', () => {
  it('averages k mini-steps and applies the inner transformation once per k (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(multiSteps(adam(0.1), 2), params, grads);
      // optax 0.2.8: optax.MultiSteps(optax.adam(0.1), 2).gradient_transformation(), 4 updates from P with G.
      const want = [
        { a: [0, -0, 0], b: [0, -0] },
        { a: [-0.0999993309378624, 0.0999993309378624, -0.0999993309378624], b: [0.0999993309378624, -0.0999993234872818] },
        { a: [-0, 0, 0], b: [-0, 0] },
        { a: [0.04788381978869438, 0.007715381681919098, -0.058117855340242386], b: [0.009777387604117393, 0.042595986276865005] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-8 });
      });
      // final state, from optax: mini_step 0, gradient_step 2, acc_grads 0 · acc (zeros)
      expect(run.state).toMatchObject({ miniStep: 0, gradientStep: 2, skipState: [] });
      expectTreeClose((run.state as { accGrads: unknown }).accGrads, { a: [0, 0, 0], b: [0, 0] }, { rtol: 0, atol: 0 });
      return [params, grads];
    });
  });

  it('sums with useGradMean false (optax reference)', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P);
      const grads = G.map(tensors);
      const run = runSteps(multiSteps(sgd(1), 3, { useGradMean: false }), params, grads);
      // optax 0.2.8: optax.MultiSteps(optax.sgd(1.0), 3, use_grad_mean=False), 4 updates.
      const want = [
        { a: [0, 0, 0], b: [0, 0] },
        { a: [0, 0, 0], b: [0, 0] },
        { a: [1.399999976158142, 0.5999999642372131, -3.700000047683716], b: [1.5, -0.44999998807907104] },
        { a: [0, 0, 0], b: [0, 0] },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 0 });
      });
      return [params, grads];
    });
  });

  it('propagates a non-finite gradient as optax does (0 · inf is NaN)', async () => {
    await expectNoLeaks(() => {
      const p = t([1, 2]);
      const grads = [t([Number.POSITIVE_INFINITY, 1]), t([1, 1]), t([1, 1])];
      const run = runSteps(multiSteps(sgd(1), 2), p, grads);
      // optax 0.2.8: optax.MultiSteps(optax.sgd(1.0), 2) on [inf, 1], [1, 1], [1, 1]:
      //   updates [nan, 0], [nan, -1], [nan, 0]; acc_grads [inf, 1], [nan, 0], [nan, 1]
      expectTreeClose(
        run.updates,
        [
          [Number.NaN, 0],
          [Number.NaN, -1],
          [Number.NaN, 0],
        ],
        { rtol: 0, atol: 0 },
      );
      expectTreeClose((run.state as { accGrads: unknown }).accGrads, [Number.NaN, 1], { rtol: 0, atol: 0 });
      return [p, grads];
    });
  });

  it('keeps optax state fields; hasUpdated tells the emitting steps', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const g = { w: t([1, 1]) };
      const tx = multiSteps(scaleByAdam(), 2);
      const s0 = tx.init(p);
      expect(Object.keys(s0).sort()).toEqual(['accGrads', 'gradientStep', 'innerOptState', 'miniStep', 'skipState']);
      expect(toArrays(s0)).toMatchObject({ miniStep: 0, gradientStep: 0, accGrads: { w: [0, 0] }, innerOptState: { count: 0 } });
      const [u1, s1] = tx.update(g, s0, p);
      const [u2, s2] = tx.update(g, s1, p);
      expect([hasUpdated(s0), hasUpdated(s1), hasUpdated(s2), tx.hasUpdated(s2)]).toEqual([false, false, true, true]);
      expect((s1.innerOptState as { count: number }).count).toBe(0);
      expect((s2.innerOptState as { count: number }).count).toBe(1);
      return [p, g, s0, u1, s1, u2, s2];
    });
  });

  it('takes k from a schedule of the gradient step', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([0]) };
      const grads = [1, 2, 3, 4, 5, 6].map((x) => ({ w: t([x]) }));
      // k = 1 for the first gradient step, then 2: emits after mini-steps 1, 3, 5
      const run = runSteps(
        multiSteps(scale(1), (step) => (step === 0 ? 1 : 2), { useGradMean: false }),
        p,
        grads,
      );
      expect(run.updates.map((u) => (u as { w: number[] }).w[0])).toEqual([1, 0, 5, 0, 9, 0]);
      const bad = multiSteps(scale(1), () => 0);
      const s = bad.init(p);
      expect(() => bad.update(p, s)).toThrow(/multiSteps: `everyKSchedule` must give an integer >= 1, got 0 at gradient step 0/);
      return [p, grads, s];
    });
  });

  it('drops the mini-steps that shouldSkipUpdateFn rejects (skipNotFinite)', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([0, 0]) };
      const grads = [{ w: t([1, 2]) }, { w: t([Number.NaN, 1]) }, { w: t([3, 4]) }];
      const tx = multiSteps(scale(1), 2, { shouldSkipUpdateFn: skipNotFinite });
      const s0 = tx.init(p);
      expect(toArrays(s0.skipState)).toEqual({ shouldSkip: 0, numNotFinite: 0 });
      const [u1, s1] = tx.update(grads[0] as never, s0, p);
      const [u2, s2] = tx.update(grads[1] as never, s1, p);
      const [u3, s3] = tx.update(grads[2] as never, s2, p);
      expect([toArrays(u1), toArrays(u2), toArrays(u3)]).toEqual([{ w: [0, 0] }, { w: [0, 0] }, { w: [2, 3] }]);
      expect(toArrays(s2)).toMatchObject({
        miniStep: 1,
        gradientStep: 0,
        accGrads: { w: [1, 2] },
        skipState: { shouldSkip: 1, numNotFinite: 1 },
      });
      expect(s3.gradientStep).toBe(1);
      return [p, grads, s0, u1, s1, u2, s2, u3, s3];
    });
  });

  it('skipLargeUpdates skips a mini-step whose squared norm is not below the bound', async () => {
    await expectNoLeaks(() => {
      const small = { w: t([1, 2]) };
      const large = { w: t([3, 4]) };
      const [a, sa] = skipLargeUpdates(small, 0, undefined, 25);
      const [b, sb] = skipLargeUpdates(large, 0, undefined, 25);
      expect([a.dataSync()[0], b.dataSync()[0], sa.normSquared.dataSync()[0], sb.normSquared.dataSync()[0]]).toEqual([0, 1, 5, 25]);
      const tx = multiSteps(scale(1), 1, { shouldSkipUpdateFn: (u, s, p) => skipLargeUpdates(u, s, p, 10) });
      const s0 = tx.init(small);
      const [u1, s1] = tx.update(large, s0);
      const [u2, s2] = tx.update(small, s1);
      expect([toArrays(u1), toArrays(u2)]).toEqual([{ w: [0, 0] }, { w: [1, 2] }]);
      return [small, large, a, sa, b, sb, s0, u1, s1, u2, s2];
    });
  });

  it('checks its arguments and the decision of shouldSkipUpdateFn', async () => {
    expect(() => multiSteps(scale(1), 0)).toThrow(/multiSteps: `everyKSchedule` must give an integer >= 1, got 0/);
    expect(() => multiSteps(scale(1), 2, { useGradMean: 'yes' as never })).toThrow(/useGradMean/);
    expect(() => multiSteps({} as never, 2)).toThrow(/multiSteps: `inner` is not a gradient transformation/);
    await expectNoLeaks(() => {
      const p = t([1]);
      const tx = multiSteps(scale(1), 2, { shouldSkipUpdateFn: () => [tf.scalar(1), []] });
      const s = tx.init(p);
      expect(() => tx.update(p, s)).toThrow(
        /shouldSkipUpdateFn` must return a boolean or a scalar bool tensor as its decision, got a float32 tensor of shape \[\]/,
      );
      return [p, s];
    });
  });

  it('returns fresh tensors and leaves its inputs alone', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      const tx = multiSteps(adam(0.1), 2);
      let s = tx.init(p);
      for (let i = 0; i < 3; i++) {
        const [u, s1] = tx.update(g, s, p);
        const inputs = new Set([...treeLeaves(p), ...treeLeaves(g), ...treeLeaves(s)]);
        for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
        disposeTree([u, s]);
        s = s1;
      }
      expect(toArrays(g.a)).toEqual([0.5, -1, 2]);
      return [p, g, s];
    });
  });
});
