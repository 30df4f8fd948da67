// Zero-size leaves on the reference path: every fusible transform keeps a
// [0] (or [2, 0]) leaf empty, agrees with the fused path, and reductions
// over a tree with empty leaves add nothing.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as gx from './index.js';
import { reduceLeaf } from './lang/reference.js';
import { discoverFusible, expectTracesClose, randomArrays, rng, runFused, runReference } from './test-utils/fused.js';

const SHAPES = { a: [3], z: [0], m: [2, 0] };

describe('zero-size leaves', () => {
  it('rprop keeps a [0] leaf empty on the reference path', () => {
    const tx = gx.rprop(0.1);
    const p = { z: tf.zeros([0]), a: tf.tensor1d([1, 2]) };
    const s = tx.init(p);
    const [u, s2] = tx.update({ z: tf.zeros([0]), a: tf.tensor1d([0.5, -0.5]) }, s, p);
    expect((u as Record<string, tf.Tensor>).z?.shape).toEqual([0]);
    expect(gx.treeLeaves(s2).filter((t) => t instanceof tf.Tensor && t.size === 0).length).toBeGreaterThan(0);
    tf.dispose(
      [...gx.treeLeaves(u), ...gx.treeLeaves(s), ...gx.treeLeaves(s2), ...gx.treeLeaves(p)].filter(
        (t) => t instanceof tf.Tensor,
      ) as tf.Tensor[],
    );
  });

  it('a reduction over an empty leaf is 0 without reducing it', () => {
    for (const op of ['l2', 'sumSq', 'sum', 'maxAbs', 'meanSq'] as const) {
      const x = tf.zeros([0]);
      const r = reduceLeaf(op, x);
      expect(r.dataSync()[0]).toBe(0);
      tf.dispose([x, r]);
    }
  });

  for (const { name, tx } of discoverFusible()) {
    it(`${name}: reference and fused agree on a tree with empty leaves`, () => {
      const params = randomArrays(rng(3), SHAPES);
      const grads = [randomArrays(rng(4), SHAPES), randomArrays(rng(5), SHAPES)];
      const before = tf.memory().numTensors;
      const ref = runReference(tx, params, grads);
      expectTracesClose(runFused(tx, params, grads, 'optimizer'), ref, name);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
