import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExtraArgs, GradientTransformation } from './base.js';
import { chain, identity, namedChain, setToZero, stateless, statelessWithTreeMap } from './combine.js';
import { disposeTree, expectNoLeaks, expectTreeClose, t, toArrays } from './test-utils/index.js';
import { floatTreeArb, mapValues, toTensors, values } from './test-utils/trees.js';
import { scaleByAdam } from './transforms/adam.js';
import { scale, scaleByLearningRate } from './transforms/scaling.js';
import { treeLeaves } from './tree.js';

const addOne = () => statelessWithTreeMap((u) => tf.add(u, 1));

/** Runs `steps` updates of `tx` on `grads` (a list of trees), returning each step's updates as arrays; disposes everything. */
function runUpdates(tx: GradientTransformation, params: unknown, grads: unknown[]): unknown[] {
  let state = tx.init(params as never);
  const out: unknown[] = [];
  for (const g of grads) {
    const [u, s] = tx.update(g as never, state, params as never);
    out.push(values(u));
    disposeTree(u);
    disposeTree(state);
    state = s;
  }
  disposeTree(state);
  return out;
}

describe('chain', () => {
  it('applies the transformations in order', async () => {
    await expectNoLeaks(() => {
      const g = { w: t([1, -2]) };
      const [u1, s1] = chain(scale(2), addOne()).update(g, [{}, {}]);
      const [u2, s2] = chain(addOne(), scale(2)).update(g, [{}, {}]);
      expectTreeClose(u1, { w: [3, -3] });
      expectTreeClose(u2, { w: [4, -2] });
      return [g, u1, s1, u2, s2];
    });
  });

  it('keeps one state per transformation, in an array', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const s = chain(scaleByAdam(), scale(-0.1)).init(p);
      expect(Array.isArray(s)).toBe(true);
      expect(s.length).toBe(2);
      expect(Object.keys(s[0] as object).sort()).toEqual(['count', 'mu', 'nu']);
      return [p, s];
    });
  });

  it('with no transformations is the identity and returns fresh tensors', async () => {
    await expectNoLeaks(() => {
      const g = { w: t([1, 2]), b: [t([3])] };
      const tx = chain();
      const s = tx.init(g);
      expect(s).toEqual([]);
      const [u, s1] = tx.update(g, s);
      expect(toArrays(u)).toEqual({ w: [1, 2], b: [[3]] });
      expect((u as { w: tf.Tensor }).w).not.toBe(g.w);
      return [g, u, s1];
    });
  });

  it('forwards extra args to every stage', async () => {
    await expectNoLeaks(() => {
      const seen: unknown[] = [];
      const spy: GradientTransformation = {
        init: () => ({}),
        update: (u, s, _p, extra?: ExtraArgs) => {
          seen.push(extra);
          return [tf.tidy(() => toTensorsClone(u)), s];
        },
      };
      const g = t([1]);
      const [u, s] = chain(spy, spy).update(g, [{}, {}], undefined, { loss: 3 });
      expect(seen).toEqual([{ loss: 3 }, { loss: 3 }]);
      return [g, u, s];
    });
  });

  it('rejects what is not a transformation and a foreign state', () => {
    expect(() => chain(scale(1), {} as GradientTransformation)).toThrow(/chain: argument 1 is not a gradient transformation/);
    expect(() => chain(scale(1)).update(t([1]), {} as never)).toThrow(/chain: expected a state array of length 1/);
  });

  it('does not mutate or dispose its inputs', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const g = { w: t([0.5, -0.5]) };
      const tx = chain(scaleByAdam(), scaleByLearningRate(0.1));
      const s0 = tx.init(p);
      const [u, s1] = tx.update(g, s0, p);
      expect(Array.from(g.w.dataSync())).toEqual([0.5, -0.5]);
      expect(Array.from(p.w.dataSync())).toEqual([1, 2]);
      const inputs = new Set([...treeLeaves(g), ...treeLeaves(s0), ...treeLeaves(p)]);
      for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) expect(inputs.has(x)).toBe(false);
      return [p, g, s0, u, s1];
    });
  });

  it('of identities equals the identity (property)', async () => {
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(floatTreeArb, fc.integer({ min: 0, max: 4 }), (tree, n) => {
          const g = toTensors(tree);
          const [u, s] = chain(...Array.from({ length: n }, () => identity())).update(
            g as never,
            Array.from({ length: n }, () => ({})),
          );
          expect(values(u)).toEqual(values(g));
          disposeTree([g, u, s]);
        }),
        { numRuns: 40 },
      );
    });
  });

  it('is associative: chain(a, chain(b, c)) and chain(chain(a, b), c) give the same updates (property)', async () => {
    const pool: (() => GradientTransformation)[] = [
      () => scaleByAdam(),
      () => scale(-0.5),
      () => identity(),
      addOne,
      () => scaleByAdam({ b1: 0.5, nesterov: true }),
    ];
    await expectNoLeaks(() => {
      fc.assert(
        fc.property(floatTreeArb, fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 3, maxLength: 3 }), (tree, picks) => {
          const [a, b, c] = picks.map((i) => pool[i] as () => GradientTransformation) as [
            () => GradientTransformation,
            () => GradientTransformation,
            () => GradientTransformation,
          ];
          const params = toTensors(tree);
          const grads = [toTensors(mapValues(tree, (v) => v.map((x) => x / 10))), toTensors(mapValues(tree, (v) => v.map((x) => 1 - x)))];
          const left = runUpdates(chain(a(), chain(b(), c())), params, grads);
          const right = runUpdates(chain(chain(a(), b()), c()), params, grads);
          const flat = runUpdates(chain(a(), b(), c()), params, grads);
          expect(left).toEqual(right);
          expect(left).toEqual(flat);
          disposeTree([params, grads]);
        }),
        { numRuns: 25 },
      );
    });
  });
});

describe('namedChain', () => {
  it('keys the state by name and applies in order (pairs or one object)', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const g = { w: t([1, -2]) };
      const a = namedChain(['scale', scale(2)], ['plus', addOne()]);
      const b = namedChain({ scale: scale(2), plus: addOne() });
      const sa = a.init(p);
      expect(Object.keys(sa)).toEqual(['scale', 'plus']);
      const [ua, sa1] = a.update(g, sa, p);
      const [ub, sb1] = b.update(g, b.init(p), p);
      expectTreeClose(ua, { w: [3, -3] });
      expectTreeClose(ub, { w: [3, -3] });
      return [p, g, sa, ua, sa1, ub, sb1];
    });
  });

  it('rejects duplicate names and states without an entry', () => {
    expect(() => namedChain(['a', scale(1)], ['a', scale(2)])).toThrow(/namedChain: the name `a` is used twice/);
    expect(() => namedChain(['a', scale(1)]).update(t([1]), { b: {} })).toThrow(/namedChain: the state has no entry `a`/);
  });
});

describe('identity and setToZero', () => {
  it('identity returns copies of the updates; setToZero returns zeros', async () => {
    await expectNoLeaks(() => {
      const g = { w: t([1, -2]), n: null };
      const [u, s] = identity().update(g, {});
      expect(toArrays(u)).toEqual({ w: [1, -2], n: null });
      expect((u as { w: tf.Tensor }).w).not.toBe(g.w);
      expect(s).toEqual({});
      const [z, sz] = setToZero().update(g, setToZero().init(g));
      expect(toArrays(z)).toEqual({ w: [0, 0], n: null });
      return [g, u, z, sz];
    });
  });

  it('reject non-float updates, naming the path', async () => {
    await expectNoLeaks(() => {
      const g = { layers: [{ w: tf.tensor([1], undefined, 'int32') }] };
      expect(() => identity().update(g, {})).toThrow(/`layers\[0\]\.w`.*int32/);
      expect(() => setToZero().update(g, {})).toThrow(/setToZero/);
      return g;
    });
  });
});

describe('stateless', () => {
  it('calls the function with updates and params', async () => {
    await expectNoLeaks(() => {
      const g = { w: t([1, 2]) };
      const p = { w: t([10, 20]) };
      const tx = stateless((u, params) => ({ w: tf.mul((u as { w: tf.Tensor }).w, (params as { w: tf.Tensor }).w) }));
      expect(tx.init(p)).toEqual({});
      const [u, s] = tx.update(g, {}, p);
      expect(toArrays(u)).toEqual({ w: [10, 40] });
      expect(s).toEqual({});
      return [g, p, u];
    });
  });

  it('returns fresh tensors even when the function returns an input as it is', async () => {
    await expectNoLeaks(() => {
      const g = { w: t([1, 2]) };
      const [u] = stateless((x) => x).update(g, {});
      expect((u as { w: tf.Tensor }).w).not.toBe(g.w);
      expect(toArrays(u)).toEqual({ w: [1, 2] });
      return [g, u];
    });
  });

  it('statelessWithTreeMap maps the leaves, with or without params', async () => {
    await expectNoLeaks(() => {
      const g = { a: t([1, -2]), b: [t([3])] };
      const p = { a: t([1, 1]), b: [t([2])] };
      const tx = statelessWithTreeMap((u, param) => (param === undefined ? tf.neg(u) : tf.mul(u, param)));
      const [u1] = tx.update(g, {});
      const [u2] = tx.update(g, {}, p);
      expect(toArrays(u1)).toEqual({ a: [-1, 2], b: [[-3]] });
      expect(toArrays(u2)).toEqual({ a: [1, -2], b: [[6]] });
      return [g, p, u1, u2];
    });
  });

  it('rejects a non-function', () => {
    expect(() => stateless(3 as never)).toThrow(/stateless: `fn` must be a function/);
    expect(() => statelessWithTreeMap(null as never)).toThrow(/statelessWithTreeMap/);
  });
});

function toTensorsClone(u: unknown): never {
  return (Array.isArray(u) ? u.map(toTensorsClone) : u instanceof tf.Tensor ? tf.clone(u) : u) as never;
}
