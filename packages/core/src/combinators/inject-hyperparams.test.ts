import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ExtraArgs, GradientTransformation } from '../base.js';
import { AB_GRADS, adamChain as adam, AB_PARAMS as P, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, t, toArrays } from '../test-utils/index.js';
import { scale, scaleByLearningRate } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { type InjectHyperparamsState, injectHyperparams, injectStatefulHyperparams, type StatefulSchedule } from './inject-hyperparams.js';
import { type Mask, masked } from './masked.js';

const G = AB_GRADS.slice(0, 3);

describe('injectHyperparams', () => {
  it('matches optax with a scheduled learning rate and a hyperparameter changed in the state', async () => {
    await expectNoLeaks(() => {
      const tx = injectHyperparams(adam, { defaults: { b2: 0.999, eps: 1e-8, epsRoot: 0 } })((c) => 0.1 / (c + 1), { b1: 0.9 });
      let params: unknown = tensors(P);
      let state = tx.init(params as never);
      const out: unknown[] = [];
      G.forEach((g, i) => {
        if (i === 2) state.hyperparams.b2 = 0.95;
        const grads = tensors(g);
        const [u, s] = tx.update(grads, state, params as never);
        out.push(toArrays(u));
        const next = tf.tidy(() => ({
          a: tf.add((params as { a: tf.Tensor }).a, (u as { a: tf.Tensor }).a),
          b: tf.add((params as { b: tf.Tensor }).b, (u as { b: tf.Tensor }).b),
        }));
        disposeTree([params, grads, u, state]);
        params = next;
        state = s;
      });
      // optax 0.2.8:
      //   tx = optax.inject_hyperparams(optax.adam)(learning_rate=lambda c: 0.1 / (c + 1), b1=0.9)
      //   3 updates from P with G (params updated with apply_updates), with
      //   state.hyperparams['b2'] = 0.95 set before the third.
      const want = [
        { a: [-0.10000000149011612, 0.10000000149011612, -0.10000000149011612], b: [-0.09999999403953552, 0.10000000149011612] },
        { a: [-0.04015191271901131, 0.04278471693396568, -0.04912858456373215], b: [0.03548812493681908, -0.02100919932126999] },
        { a: [0.015622878447175026, 0.011046554893255234, -0.16532202064990997], b: [0.05638159438967705, -0.07808095961809158] },
      ];
      out.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 2e-6, atol: 1e-8 });
      });
      // optax's final state.hyperparams (float32): b1 0.8999999761581421, b2 0.949999988079071,
      // eps 9.99999993922529e-09, eps_root 0.0, learning_rate 0.03333333507180214
      expect(state.hyperparams).toEqual({
        b1: 0.8999999761581421,
        b2: 0.949999988079071,
        eps: 9.99999993922529e-9,
        epsRoot: 0,
        learningRate: 0.03333333507180214,
      });
      expect(state.count).toBe(3);
      expect(state.hyperparamsStates).toEqual({ learningRate: { count: 3 } });
      return [params, state];
    });
  });

  it('stores numeric hyperparameters, and a new state object with a new value is used by the next update', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const g = { w: t([1, -1]) };
      const tx = injectHyperparams(scaleByLearningRate)(0.5, { flipSign: false });
      const s0 = tx.init(p);
      expect(s0).toMatchObject({ count: 0, hyperparams: { learningRate: 0.5 }, hyperparamsStates: {} });
      const [u1, s1] = tx.update(g, s0, p);
      expect(toArrays(u1)).toEqual({ w: [0.5, -0.5] });
      const [u2, s2] = tx.update(g, { ...s1, hyperparams: { learningRate: 2 } }, p);
      expect(toArrays(u2)).toEqual({ w: [2, -2] });
      expect(s2.hyperparams).toEqual({ learningRate: 2 });
      s2.hyperparams.learningRate = 3;
      const [u3, s3] = tx.update(g, s2, p);
      expect(toArrays(u3)).toEqual({ w: [3, -3] });
      return [p, g, s0, u1, s1, u2, s2, u3, s3];
    });
  });

  it('wraps an options-only factory, and a scheduled value set in the state is overridden', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1]) };
      const g = { w: t([2]) };
      // a factory that takes an options object only
      const viaOptions = injectHyperparams((o: { factor: number }) => scale(o.factor))({ factor: (c: number) => 10 * (c + 1) });
      const s0 = viaOptions.init(p);
      expect(s0.hyperparams).toEqual({ factor: 10 });
      s0.hyperparams.factor = 999;
      const [u1, s1] = viaOptions.update(g, s0, p);
      const [u2, s2] = viaOptions.update(g, s1, p);
      expect([toArrays(u1), toArrays(u2)]).toEqual([{ w: [20] }, { w: [40] }]);
      return [p, g, u1, s1, u2, s2];
    });
  });

  it('rounds non-integer values to float32 (as optax) and passes integers, booleans and static args through', async () => {
    await expectNoLeaks(() => {
      const seen: unknown[] = [];
      const factory = (lr: number, o: { every?: number; flag?: boolean; mask?: Mask } = {}) => {
        seen.push({ lr, ...o, mask: typeof o.mask });
        return masked(scale(lr), o.mask ?? true);
      };
      const p = { a: t([1]), b: t([1]) };
      const tx = injectHyperparams(factory, { staticArgs: 'mask' })(0.1, {
        every: 3,
        flag: true,
        mask: (x) => ({ a: true, b: isTensor((x as { b: unknown }).b) && false }),
      });
      const s = tx.init(p);
      expect(s.hyperparams).toEqual({ learningRate: Math.fround(0.1), every: 3 });
      expect(seen[0]).toEqual({ lr: Math.fround(0.1), every: 3, flag: true, mask: 'function' });
      const [u, s1] = tx.update(p, s, p);
      expect(toArrays(u)).toEqual({ a: [Math.fround(Math.fround(0.1) * 1)], b: [1] });
      return [p, s, u, s1];
    });
  });

  it('names the positional argument with positionalName', async () => {
    await expectNoLeaks(() => {
      const p = t([1]);
      const tx = injectHyperparams(scale, { positionalName: 'stepSize' })((c: number) => c + 2);
      const s = tx.init(p);
      expect(s.hyperparams).toEqual({ stepSize: 2 });
      const [u, s1] = tx.update(p, s);
      expect(toArrays(u)).toEqual([2]);
      return [p, u, s1];
    });
  });

  it('accepts stateful schedules (function with init and update) and forwards extra args', async () => {
    await expectNoLeaks(() => {
      const calls: unknown[] = [];
      const byLoss = Object.assign(
        (state: { best: number }, extra?: ExtraArgs) => {
          calls.push(extra);
          return state.best;
        },
        {
          init: () => ({ best: 1 }),
          update: (state: { best: number }, extra?: ExtraArgs) => ({ best: Math.min(state.best, (extra?.loss as number) ?? state.best) }),
        },
      ) satisfies StatefulSchedule<{ best: number }>;
      const p = t([1]);
      const tx = injectStatefulHyperparams(scale, { positionalName: 'stepSize' })(byLoss);
      const s0 = tx.init(p);
      const [u1, s1] = tx.update(p, s0, undefined, { loss: 0.25 });
      const [u2, s2] = tx.update(p, s1, undefined, { loss: 0.5 });
      expect([toArrays(u1), toArrays(u2)]).toEqual([[1], [0.25]]);
      expect(s2.hyperparamsStates).toEqual({ stepSize: { best: 0.25 } });
      expect(calls).toEqual([undefined, { loss: 0.25 }, { loss: 0.5 }]);
      return [p, u1, s1, u2, s2];
    });
  });

  it('rejects bad arguments with clear messages', () => {
    expect(() => injectHyperparams(3 as never)).toThrow(/injectHyperparams: `factory` must be a function/);
    expect(() => injectHyperparams(scaleByLearningRate)(0.1, { learningRate: 0.2 } as never)).toThrow(
      /`learningRate` is given both as the leading argument and in the options/,
    );
    expect(() => injectHyperparams((() => 5) as unknown as (lr: number) => GradientTransformation)(0.1).init(null)).toThrow(
      /the factory did not return a gradient transformation/,
    );
    expect(() => injectHyperparams(scale)(() => Number.NaN).init(null)).toThrow(/the schedule for `learningRate` returned NaN at count 0/);
    expect(() => injectHyperparams(scale)(1).update(null, {} as InjectHyperparamsState)).toThrow(
      /injectHyperparams: the state lacks `count`/,
    );
  });

  it('returns fresh tensors and leaves its inputs alone', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const g = { w: t([0.5, -0.5]) };
      const tx = injectHyperparams(adam)(0.1);
      const s0 = tx.init(p);
      const [u, s1] = tx.update(g, s0, p);
      const inputs = new Set([...treeLeaves(p), ...treeLeaves(g), ...treeLeaves(s0)]);
      for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
      expect(toArrays(g)).toEqual({ w: [0.5, -0.5] });
      return [p, g, s0, u, s1];
    });
  });
});
