import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { adamChain, AB_PARAMS as P, sgdMomentum, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, t, toArrays } from '../test-utils/index.js';
import { scaleByLearningRate } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { applyIfFinite } from './apply-if-finite.js';

const adam = () => adamChain(0.1);

const nan = Number.NaN;
const inf = Number.POSITIVE_INFINITY;
const G = [
  { a: [0.5, -1.0, 2.0], b: [0.1, -0.3] },
  { a: [nan, -0.3, 1.5], b: [-2.0, 0.7] },
  { a: [-2.0, 0.7, 0.2], b: [inf, 0.05] },
  { a: [0.3, 0.3, -0.6], b: [1.0, -1.0] },
  { a: [0.3, nan, -0.6], b: [1.0, -1.0] },
];

/** Runs 5 updates with the params fixed at P (as the optax reference did), returning updates, counters and the last state. */
function run(tx: GradientTransformation) {
  const params = tensors(P);
  let state = tx.init(params);
  const updates: unknown[] = [];
  const counters: unknown[] = [];
  for (const g of G) {
    const grads = tensors(g);
    const [u, s] = tx.update(grads, state, params);
    updates.push(toArrays(u));
    counters.push([s.notfiniteCount.dataSync()[0], s.lastFinite.dataSync()[0] === 1, s.totalNotfinite.dataSync()[0]]);
    disposeTree([grads, u, state]);
    state = s;
  }
  const last = toArrays(state);
  disposeTree([params, state]);
  return { updates, counters, last };
}

// optax 0.2.8: optax.apply_if_finite(inner, 1) for 5 updates of G (params fixed at P);
// counters (notfinite_count, last_finite, total_notfinite) after each update.
const WANT_COUNTERS = [
  [0, true, 0],
  [1, false, 1],
  [2, false, 2],
  [0, true, 2],
  [1, false, 3],
];

describe('applyIfFinite', () => {
  afterEach(() => vi.restoreAllMocks());

  it('drops non-finite updates until more than maxConsecutiveErrors come in a row (optax reference, sgd with momentum)', async () => {
    await expectNoLeaks(() => {
      const got = run(applyIfFinite(sgdMomentum(), 1));
      // inner = optax.sgd(0.1, momentum=0.9)
      const want = [
        { a: [-0.05000000074505806, 0.10000000149011612, -0.20000000298023224], b: [-0.010000000707805157, 0.030000001192092896] },
        { a: [0, 0, 0], b: [0, 0] },
        { a: [0.1550000011920929, 0.019999999552965164, -0.20000000298023224], b: [-inf, 0.02199999988079071] },
        { a: [0.109499990940094, -0.012000002898275852, -0.11999999731779099], b: [-inf, 0.11979999393224716] },
        { a: [0, 0, 0], b: [0, 0] },
      ];
      got.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 1e-6, atol: 1e-8 });
      });
      expect(got.counters).toEqual(WANT_COUNTERS);
      // optax inner state: TraceState(trace={'a': [-1.09499990940094, 0.12000002712011337, 1.1999999284744263], 'b': [inf, -1.1979999542236328]})
      expectTreeClose(
        (got.last as { innerState: [{ trace: unknown }] }).innerState[0].trace,
        { a: [-1.09499990940094, 0.12000002712011337, 1.1999999284744263], b: [inf, -1.1979999542236328] },
        { rtol: 1e-6, atol: 0 },
      );
    });
  });

  it('keeps the inner count in step with optax when the inner state has one (adam)', async () => {
    await expectNoLeaks(() => {
      const got = run(applyIfFinite(adam(), 1));
      // inner = optax.adam(0.1)
      const want = [
        { a: [-0.099999338388443, 0.099999338388443, -0.099999338388443], b: [-0.0999993309378624, 0.0999993309378624] },
        { a: [0, 0, 0], b: [0, 0] },
        { a: [0.05594978481531143, 0.012196381576359272, -0.07408031076192856], b: [nan, 0.05385321006178856] },
        { a: [0.03359441086649895, -0.0061033437959849834, -0.03657837212085724], b: [nan, 0.0732242539525032] },
        { a: [0, 0, 0], b: [0, 0] },
      ];
      got.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 2e-6, atol: 1e-8 });
      });
      expect(got.counters).toEqual(WANT_COUNTERS);
      // optax: ScaleByAdamState(count=3, mu={'a': [-0.109499990940094, 0.012000005692243576, 0.1199999749660492], 'b': [inf, -0.11980000138282776]}, ...)
      const inner = (got.last as { innerState: [{ count: number; mu: unknown }] }).innerState[0];
      expect(inner.count).toBe(3);
      expectTreeClose(
        inner.mu,
        { a: [-0.109499990940094, 0.012000005692243576, 0.1199999749660492], b: [inf, -0.11980000138282776] },
        { rtol: 1e-6, atol: 0 },
      );
    });
  });

  it('reads nothing back when the inner state holds only tensors, one boolean when it holds a count', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const g = tensors(G[1] as Record<string, number[]>);
      const spy = vi.spyOn(tf.Tensor.prototype, 'dataSync');
      const a = applyIfFinite(sgdMomentum(), 1);
      const sa = a.init(p);
      const [ua, sa1] = a.update(g, sa, p);
      expect(spy).toHaveBeenCalledTimes(0);
      const b = applyIfFinite(adam(), 1);
      const sb = b.init(p);
      const [ub, sb1] = b.update(g, sb, p);
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockRestore();
      expect((sb1.innerState as unknown as [{ count: number }])[0].count).toBe(0);
      return [p, g, sa, ua, sa1, sb, ub, sb1];
    });
  });

  it('keeps the counters as scalar tensors with optax dtypes', async () => {
    await expectNoLeaks(() => {
      const p = t([1]);
      const s = applyIfFinite(scaleByLearningRate(1), 0).init(p);
      expect([s.notfiniteCount.dtype, s.lastFinite.dtype, s.totalNotfinite.dtype]).toEqual(['int32', 'bool', 'int32']);
      expect([s.notfiniteCount.shape, s.lastFinite.shape]).toEqual([[], []]);
      return [p, s];
    });
  });

  it('with maxConsecutiveErrors 0 accepts everything but still counts', async () => {
    await expectNoLeaks(() => {
      const p = t([1, 2]);
      const g = t([nan, 1]);
      const tx = applyIfFinite(scaleByLearningRate(1), 0);
      const s0 = tx.init(p);
      const [u, s1] = tx.update(g, s0, p);
      expectTreeClose(u, [nan, -1], { rtol: 0, atol: 0 });
      expect([s1.notfiniteCount.dataSync()[0], s1.totalNotfinite.dataSync()[0]]).toEqual([1, 1]);
      return [p, g, s0, u, s1];
    });
  });

  it('checks its arguments and returns fresh tensors', async () => {
    expect(() => applyIfFinite(scaleByLearningRate(1), -1)).toThrow(
      /applyIfFinite: `maxConsecutiveErrors` must be an integer >= 0, got -1/,
    );
    expect(() => applyIfFinite({} as never, 1)).toThrow(/applyIfFinite: `inner` is not a gradient transformation/);
    await expectNoLeaks(() => {
      const p = tensors(P);
      const g = tensors(G[0] as Record<string, number[]>);
      for (const tx of [applyIfFinite(sgdMomentum(), 1), applyIfFinite(adam(), 1)] as GradientTransformation[]) {
        const s0 = tx.init(p);
        for (const grads of [g, tensors(G[1] as Record<string, number[]>)]) {
          const [u, s1] = tx.update(grads, s0, p);
          const inputs = new Set([...treeLeaves(p), ...treeLeaves(grads), ...treeLeaves(s0)]);
          for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
          disposeTree([u, s1]);
          if (grads !== g) disposeTree(grads);
        }
        disposeTree(s0);
      }
      expect(toArrays(g.a)).toEqual([0.5, -1, 2]);
      return [p, g];
    });
  });
});

describe('applyIfFinite with zero-size leaves', () => {
  it('a zero-size leaf is finite (jnp.all of nothing is true): the update is applied', () => {
    const tx = applyIfFinite(scaleByLearningRate(1), 0);
    const p = { a: tf.tensor([1, 2]), z: tf.zeros([0]) };
    const s = tx.init(p);
    const g = { a: tf.tensor([1, 1]), z: tf.zeros([0]) };
    const [u, s2] = tx.update(g, s, p);
    expect([s2.lastFinite.dataSync()[0], s2.notfiniteCount.dataSync()[0]]).toEqual([1, 0]);
    expect(Array.from((u as { a: tf.Tensor }).a.dataSync())).toEqual([-1, -1]);
    disposeTree([p, s, g, u, s2]);
  });
});
