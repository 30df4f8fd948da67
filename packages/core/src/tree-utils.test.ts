import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { masked } from './combinators/masked.js';
import { chain } from './combine.js';
import { expectNoLeaks, expectTreeClose, t, toArrays } from './test-utils/index.js';
import { scaleByAdam } from './transforms/adam.js';
import { scale } from './transforms/scaling.js';
import { treeLeaves } from './tree.js';
import {
  treeAdd,
  treeAddScale,
  treeCast,
  treeCastLike,
  treeClip,
  treeDiv,
  treeFullLike,
  treeGet,
  treeGetAllWithPath,
  treeL1Norm,
  treeL2Norm,
  treeLinfNorm,
  treeMapParams,
  treeMax,
  treeMin,
  treeMul,
  treeNorm,
  treeOnesLike,
  treeScale,
  treeSet,
  treeSize,
  treeSub,
  treeSum,
  treeVdot,
  treeWhere,
  treeZerosLike,
} from './tree-utils.js';

const mk = () => ({
  x: { a: t([1, -2, 3]), b: [t([[0.5]])] },
  y: { a: t([4, 5, -6]), b: [t([[2]])] },
});

describe('tree arithmetic', () => {
  it('adds, subtracts, multiplies and divides leaf by leaf', async () => {
    await expectNoLeaks(() => {
      const { x, y } = mk();
      const out = [treeAdd(x, y), treeAdd(x, y, x), treeSub(x, y), treeMul(x, y), treeDiv(x, y)];
      expect(toArrays(out[0])).toEqual({ a: [5, 3, -3], b: [[[2.5]]] });
      expect(toArrays(out[1])).toEqual({ a: [6, 1, 0], b: [[[3]]] });
      expect(toArrays(out[2])).toEqual({ a: [-3, -7, 9], b: [[[-1.5]]] });
      expect(toArrays(out[3])).toEqual({ a: [4, -10, -18], b: [[[1]]] });
      expectTreeClose(out[4], { a: [0.25, -0.4, -0.5], b: [[[0.25]]] });
      expect(toArrays(x)).toEqual({ a: [1, -2, 3], b: [[[0.5]]] });
      return [x, y, out];
    });
  });

  it('scales by a number or a scalar tensor, and adds a scaled tree', async () => {
    await expectNoLeaks(() => {
      const { x, y } = mk();
      const s = tf.scalar(-1);
      const out = [treeScale(2, x), treeScale(s, x), treeAddScale(x, 0.5, y)];
      expect(toArrays(out[0])).toEqual({ a: [2, -4, 6], b: [[[1]]] });
      expect(toArrays(out[1])).toEqual({ a: [-1, 2, -3], b: [[[-0.5]]] });
      expect(toArrays(out[2])).toEqual({ a: [3, 0.5, 0], b: [[[1.5]]] });
      const v = t([1, 2]);
      expect(() => treeScale(v, x)).toThrow(/treeScale: `scalar` must be a number or a scalar tensor/);
      return [x, y, s, v, out];
    });
  });

  it('keeps null leaves of the first tree', async () => {
    await expectNoLeaks(() => {
      const x = { a: t([1]), b: null };
      const y = { a: t([2]), b: t([5]) };
      const out = treeAddScale<unknown>(x, 2, y);
      expect(toArrays(out)).toEqual({ a: [5], b: null });
      return [x, y, out];
    });
  });

  it('names the path of a mismatch', async () => {
    await expectNoLeaks(() => {
      const x = { layers: [t([1]), t([1]), { bias: t([1]) }] };
      const y = { layers: [t([1]), t([1]), { kernel: t([1]) }] };
      expect(() => treeAdd<unknown>(x, y)).toThrow(/`layers\[2\]\.bias`: present in treeX but missing in treeY/);
      expect(() => treeVdot(x, y)).toThrow(/layers\[2\]/);
      return [x, y];
    });
  });
});

describe('tree reductions', () => {
  it('vdot, sum, max, min and size', async () => {
    await expectNoLeaks(() => {
      const { x, y } = mk();
      const out = [treeVdot(x, y), treeSum(x), treeMax(x), treeMin(x)];
      // closed forms: 1·4 − 2·5 − 3·6 + 0.5·2 = −23; 1 − 2 + 3 + 0.5 = 2.5
      expect(out.map((s) => s.shape)).toEqual([[], [], [], []]);
      expect(out.map((s) => s.dataSync()[0])).toEqual([-23, 2.5, 3, -2]);
      expect(treeSize(x)).toBe(4);
      return [x, y, out];
    });
  });

  it('empty trees reduce to the identities of the reductions', async () => {
    await expectNoLeaks(() => {
      const out = [treeSum({}), treeVdot([], []), treeMax({ a: null }), treeMin([]), treeNorm({})];
      expect(out.map((s) => s.dataSync()[0])).toEqual([0, 0, -Infinity, Infinity, 0]);
      expect(treeSize({})).toBe(0);
      return out;
    });
  });

  it('norms of order 1, 2 and ∞, squared or not', async () => {
    await expectNoLeaks(() => {
      const { x, y } = mk();
      const out = [
        treeNorm(x),
        treeNorm(x, 2, true),
        treeNorm(x, 1),
        treeNorm(x, 1, true),
        treeNorm(x, Infinity),
        treeNorm(x, 'inf', true),
        treeL1Norm(x),
        treeL2Norm(x),
        treeLinfNorm(x),
      ];
      // closed forms: Σx² = 14.25, Σ|x| = 6.5, max|x| = 3
      expectTreeClose(
        out.map((s) => s.dataSync()[0] as number),
        [Math.sqrt(14.25), 14.25, 6.5, 42.25, 3, 9, 6.5, Math.sqrt(14.25), 3],
      );
      expect(() => treeNorm(x, 3)).toThrow(/treeNorm: `ord` must be 1, 2 or Infinity/);
      return [x, y, out];
    });
  });
});

describe('tree constructors and casts', () => {
  it('zeros, ones and full like, with the dtype kept or given', async () => {
    await expectNoLeaks(() => {
      const { x, y } = mk();
      const z = treeZerosLike(x);
      const o = treeOnesLike(x, 'int32');
      const f = treeFullLike(x, 7);
      expect(toArrays(z)).toEqual({ a: [0, 0, 0], b: [[[0]]] });
      expect(toArrays(o)).toEqual({ a: [1, 1, 1], b: [[[1]]] });
      expect((o.a as tf.Tensor).dtype).toBe('int32');
      expect(toArrays(f)).toEqual({ a: [7, 7, 7], b: [[[7]]] });
      expect((f.b[0] as tf.Tensor).shape).toEqual([1, 1]);
      return [x, y, z, o, f];
    });
  });

  it('clips, selects and casts', async () => {
    await expectNoLeaks(() => {
      const { x, y } = mk();
      const cond = tf.tensor([true, false, true], [3], 'bool');
      const out = [
        treeClip(x, -1, 2),
        treeClip(x, undefined, 0),
        treeClip(x),
        treeWhere(true, x, y),
        treeWhere(cond, { a: x.a }, { a: y.a }),
      ];
      expect(toArrays(out[0])).toEqual({ a: [1, -1, 2], b: [[[0.5]]] });
      expect(toArrays(out[1])).toEqual({ a: [0, -2, 0], b: [[[0]]] });
      expect(toArrays(out[2])).toEqual(toArrays(x));
      expect((out[2] as typeof x).a).not.toBe(x.a);
      expect(toArrays(out[3])).toEqual(toArrays(x));
      expect(toArrays(out[4])).toEqual({ a: [1, 5, 3] });
      const c = treeCast(x, 'int32');
      expect(toArrays(c)).toEqual({ a: [1, -2, 3], b: [[[0]]] });
      const same = treeCast(x, null);
      expect(same.a).not.toBe(x.a);
      const like = treeCastLike(y, c);
      expect((like.a as tf.Tensor).dtype).toBe('int32');
      return [x, y, cond, out, c, same, like];
    });
  });
});

describe('treeGet / treeSet', () => {
  // The search rules follow optax 0.2.8's tree_get / tree_set; the expected
  // results below are what optax gives on the same nested dicts (paths and
  // their order included), e.g.
  //   tree_set({'count':0,'inner':[{'count':1}],'d':{'count':2,'x':{'count':3}}}, count=9)
  //   == {'count': 9, 'inner': [{'count': 1}], 'd': {'count': 9, 'x': {'count': 9}}}
  const tree = { count: 0, inner: [{ count: 1 }], d: { count: 2, x: { count: 3 } } };

  it('finds every value under a key, with its path', () => {
    expect(treeGetAllWithPath(tree, 'count')).toEqual([
      [['count'], 0],
      [['inner', 0, 'count'], 1],
      [['d', 'count'], 2],
      [['d', 'x', 'count'], 3],
    ]);
    expect(treeGetAllWithPath(tree, 'count', (path) => path.length === 3)).toEqual([
      [['inner', 0, 'count'], 1],
      [['d', 'x', 'count'], 3],
    ]);
  });

  it('treeGet returns the one value, the default, or throws when there are several', () => {
    expect(treeGet({ a: [{ lr: 0.1 }] }, 'lr')).toBe(0.1);
    expect(treeGet({ a: 1 }, 'lr', 'none')).toBe('none');
    expect(() => treeGet(tree, 'count')).toThrow(/treeGet: found 4 values for `count`/);
    expect(treeGet(tree, 'count', undefined, (p) => p[0] === 'inner')).toBe(1);
  });

  it('treeSet replaces values as optax does and leaves the input alone', () => {
    expect(treeSet(tree, { count: 9 })).toEqual({ count: 9, inner: [{ count: 1 }], d: { count: 9, x: { count: 9 } } });
    expect(treeSet({ a: [{ count: 1 }, { count: 2 }] }, { count: 9 })).toEqual({ a: [{ count: 9 }, { count: 9 }] });
    expect(treeSet(tree, { count: 5 }, (p) => p.length === 1)).toEqual({ ...tree, count: 5 });
    expect(tree.count).toBe(0);
    expect(() => treeSet(tree, { lr: 1 })).toThrow(/treeSet: found no value for `lr`/);
  });
});

describe('treeMapParams', () => {
  it('maps the params-shaped parts of a chain state and keeps or transforms the rest', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]), b: t([3]) };
      const tx = chain(scaleByAdam(), scale(-0.1));
      const state = tx.init(params);
      const specs = { w: 'row', b: 'col' };
      const mapped = treeMapParams(tx, (x: tf.Tensor, spec: string) => `${spec}:${x.shape.join('x')}`, state, [specs]);
      expect(mapped).toEqual([{ count: 0, mu: { b: 'col:1', w: 'row:2' }, nu: { b: 'col:1', w: 'row:2' } }, {}]);
      const dropped = treeMapParams(tx, () => 1, state, [], { transformNonParams: () => null });
      expect(dropped).toEqual([{ count: null, mu: { b: 1, w: 1 }, nu: { b: 1, w: 1 } }, {}]);
      return [params, state];
    });
  });

  it('works through masked states (masked-out slots stay null)', async () => {
    await expectNoLeaks(() => {
      const params = { w: t([1, 2]), b: t([3]) };
      const tx = masked(scaleByAdam(), { w: true, b: false });
      const state = tx.init(params);
      const shapes = treeMapParams(tx, (x: tf.Tensor) => x.shape, state);
      expect(shapes).toEqual({ innerState: { count: 0, mu: { b: null, w: [2] }, nu: { b: null, w: [2] } } });
      expect(treeLeaves(state).filter((x) => x instanceof tf.Tensor).length).toBe(2);
      return [params, state];
    });
  });
});
