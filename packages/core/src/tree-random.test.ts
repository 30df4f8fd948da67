import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeTree } from './test-utils/index.js';
import { treeRandomLike } from './tree-random.js';

describe('treeRandomLike', () => {
  it('draws each leaf with the target shapes, reproducibly from the seed, one seed per leaf', () => {
    const target = { a: tf.zeros([2, 3]), b: tf.zeros([4]) };
    const r1 = treeRandomLike(7, target);
    const r2 = treeRandomLike(7, target);
    const r3 = treeRandomLike(8, target);
    expect(r1.a.shape).toEqual([2, 3]);
    expect(Array.from(r1.b.dataSync())).toEqual(Array.from(r2.b.dataSync()));
    expect(Array.from(r1.a.dataSync())).not.toEqual(Array.from(r3.a.dataSync()));
    const u = treeRandomLike(1, target, (shape, s) => tf.randomUniform(shape, 0, 1, 'float32', s));
    for (const v of u.b.dataSync()) expect(v >= 0 && v < 1).toBe(true);
    expect(() => treeRandomLike(-1, target)).toThrow(/treeRandomLike: `seed` must be an integer >= 0/);
    disposeTree([target, r1, r2, r3, u]);
  });

  it('is reproducible from the seed 0 too (tfjs treats a seed of 0 as no seed), and seeds do not share leaves', () => {
    const target = { a: tf.zeros([64]), b: tf.zeros([64]) };
    const [r1, r2, r3] = [treeRandomLike(0, target), treeRandomLike(0, target), treeRandomLike(1, target)];
    expect(Array.from(r1.a.dataSync())).toEqual(Array.from(r2.a.dataSync()));
    expect(Array.from(r1.b.dataSync())).toEqual(Array.from(r2.b.dataSync()));
    // the second leaf of seed 0 is not the first leaf of seed 1
    expect(Array.from(r1.b.dataSync())).not.toEqual(Array.from(r3.a.dataSync()));
    expect(() => treeRandomLike(2 ** 32, target)).toThrow(/treeRandomLike: `seed` must be an integer in \[0, 4294967295\]/);
    disposeTree([target, r1, r2, r3]);
  });
});
