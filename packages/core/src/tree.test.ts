import type * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it, describe as suite } from 'vitest';
import { expectNoLeaks, t } from './test-utils/index.js';
import {
  assertSameShapes,
  assertSameStructure,
  describe,
  formatPath,
  isNode,
  isPlainObject,
  isTensor,
  sameStructure,
  TreeMismatchError,
  treeFlatten,
  treeLeaves,
  treeLeavesWithPath,
  treeMap,
  treeMapWithPath,
  treeStructure,
  treeUnflatten,
} from './tree.js';

/** Object keys for generated trees: identifiers and a few awkward strings (no `__proto__`). */
const key = fc
  .oneof(fc.constantFrom('a', 'b', 'w', 'bias', 'layers', 'x-y', '0', 'with space'), fc.string({ minLength: 1, maxLength: 4 }))
  .filter((k) => k !== '__proto__');

/** Trees of numbers, booleans and nulls in nested arrays and plain objects. */
const treeArb = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.double({ noNaN: true }), fc.boolean(), fc.constant(null)),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 3 }),
  ),
})).tree;

suite('formatPath', () => {
  it('writes keys and indices the way users write them', () => {
    expect(formatPath([])).toBe('<root>');
    expect(formatPath(['layers', 2, 'bias'])).toBe('layers[2].bias');
    expect(formatPath([0, 'w'])).toBe('[0].w');
    expect(formatPath(['a b', 'c'])).toBe('["a b"].c');
  });
});

suite('treeMap', () => {
  it('maps leaves with sorted object keys and keeps null leaves', () => {
    const seen: string[] = [];
    const out = treeMapWithPath(
      (path, x: number) => {
        seen.push(formatPath(path));
        return x * 2;
      },
      { b: [1, null, 3], a: { z: 4, y: 5 } },
    );
    expect(out).toEqual({ a: { y: 10, z: 8 }, b: [2, null, 6] });
    expect(seen).toEqual(['a.y', 'a.z', 'b[0]', 'b[2]']);
  });

  it('passes the matching leaves of the other trees', () => {
    expect(treeMap((x: number, y: number) => x + y, { a: 1, b: [2, 3] }, [{ a: 10, b: [20, 30] }])).toEqual({ a: 11, b: [22, 33] });
  });

  it('names the first differing path: a missing key', () => {
    const a = {
      layers: [
        { w: 1, bias: 2 },
        { w: 1, bias: 2 },
        { w: 1, bias: 2 },
      ],
    };
    const b = { layers: [{ w: 1, bias: 2 }, { w: 1, bias: 2 }, { w: 1 }] };
    expect(() => treeMap((x: number) => x, a, [b], { names: ['params', 'grads'] })).toThrow(TreeMismatchError);
    expect(() => treeMap((x: number) => x, a, [b], { names: ['params', 'grads'] })).toThrow(
      /`layers\[2\]\.bias`: present in params but missing in grads/,
    );
  });

  it('names the first differing path: an extra key, a length and a kind', () => {
    expect(() => treeMap((x: number) => x, { a: 1 }, [{ a: 1, extra: 2 }])).toThrow(/`extra`: present in tree 1 but missing in tree 0/);
    expect(() => treeMap((x: number) => x, { l: [1, 2] }, [{ l: [1] }])).toThrow(
      /`l`: tree 0 has an array of length 2 but tree 1 has length 1/,
    );
    expect(() => treeMap((x: number) => x, { l: [1, 2] }, [{ l: { 0: 1, 1: 2 } }])).toThrow(
      /`l`: tree 0 has an array of length 2 but tree 1 has an object/,
    );
  });

  it('reports the error as a TreeMismatchError carrying the path', () => {
    try {
      treeMap((x: number) => x, { layers: [0, 0, { bias: 1 }] }, [{ layers: [0, 0, {}] }]);
      expect.fail('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(TreeMismatchError);
      expect((e as TreeMismatchError).path).toEqual(['layers', 2, 'bias']);
    }
  });

  it('treats isLeaf nodes as leaves', () => {
    const out = treeMap((x: unknown) => (Array.isArray(x) ? x.length : -1), { a: [1, 2, 3], b: { c: [4] } }, [], { isLeaf: Array.isArray });
    expect(out).toEqual({ a: 3, b: { c: 1 } });
  });
});

suite('treeFlatten / treeUnflatten', () => {
  it('round-trips any tree (property)', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const { leaves, treedef } = treeFlatten(tree);
        expect(treeUnflatten(treedef, leaves)).toEqual(tree);
        expect(leaves).toEqual(treeLeaves(tree));
        expect(treeStructure(treeUnflatten(treedef, leaves))).toEqual(treedef);
      }),
      { numRuns: 200 },
    );
  });

  it('gives equal structures exactly to trees that sameStructure accepts (property)', () => {
    fc.assert(
      fc.property(treeArb, treeArb, (a, b) => {
        expect(sameStructure(a, b)).toBe(deepEqual(treeStructure(a), treeStructure(b)));
        // the same tree with other leaves always has the same structure
        expect(
          sameStructure(
            a,
            treeMap(() => 0, a),
          ),
        ).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('maps leaves in the order treeFlatten lists them (property)', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const order: unknown[] = [];
        treeMap((x: unknown) => order.push(x), tree);
        expect(order).toEqual(treeFlatten(tree).leaves);
      }),
      { numRuns: 100 },
    );
  });

  it('visits object keys in sorted order whatever the insertion order', () => {
    expect(treeLeaves({ b: 2, a: 1, c: [3, 4] })).toEqual([1, 2, 3, 4]);
    expect(treeStructure({ b: 2, a: 1 })).toEqual(treeStructure({ a: 5, b: 6 }));
  });

  it('round-trips trees of tensors, keeping the same tensor objects', async () => {
    await expectNoLeaks(() => {
      const tree = { w: t([[1, 2]]), layers: [{ bias: t([3]) }, null] };
      const { leaves, treedef } = treeFlatten<tf.Tensor>(tree);
      expect(leaves.length).toBe(2);
      const back = treeUnflatten<typeof tree>(treedef, leaves);
      expect(back.w).toBe(tree.w);
      expect(back.layers[0]?.bias).toBe(tree.layers[0]?.bias);
      expect(back.layers[1]).toBeNull();
      return tree;
    });
  });

  it('rejects a wrong number of leaves', () => {
    const { treedef } = treeFlatten({ a: 1, b: [2, 3] });
    expect(() => treeUnflatten(treedef, [1, 2])).toThrow(/more leaves than the 2 given/);
    expect(() => treeUnflatten(treedef, [1, 2, 3, 4])).toThrow(/has 3 leaves but 4 were given/);
  });
});

suite('structure checks', () => {
  it('assertSameStructure names the path and treats null as an empty slot', () => {
    expect(() => assertSameStructure({ a: [1, null] }, { a: [1, 2] }, ['params', 'updates'])).toThrow(
      /`a\[1\]`: params has null but updates has number 2/,
    );
    expect(() => assertSameStructure({ a: [1, null] }, { a: [5, null] })).not.toThrow();
  });

  it('assertSameShapes names the path of the first shape mismatch', async () => {
    await expectNoLeaks(() => {
      const a = { layers: [t([1]), t([1]), { bias: t([1, 2]) }] };
      const b = { layers: [t([1]), t([1]), { bias: t([1, 2, 3]) }] };
      expect(() => assertSameShapes(a, b, ['params', 'grads'])).toThrow(
        /`layers\[2\]\.bias`: params has shape \[2\] but grads has shape \[3\]/,
      );
      return [a, b];
    });
  });

  it('tells leaves from nodes and describes values', async () => {
    await expectNoLeaks(() => {
      const x = t([[1, 2, 3]]);
      expect(isTensor(x)).toBe(true);
      expect(isNode(x)).toBe(false);
      expect(isPlainObject({})).toBe(true);
      expect(isPlainObject(Object.create(null))).toBe(true);
      expect(isPlainObject([])).toBe(false);
      expect(describe(x)).toBe('a float32 tensor of shape [1, 3]');
      expect(describe({ b: 1, a: 2 })).toBe('an object with keys {a, b}');
      expect(describe([1, 2])).toBe('an array of length 2');
      expect(treeLeavesWithPath({ a: [x] }).map(([p]) => formatPath(p))).toEqual(['a[0]']);
      return x;
    });
  });
});

function deepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}
