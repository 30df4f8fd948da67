// A step given a consumed (donated) input fails with the consumed message and
// leaves nothing behind: no update is computed before the inputs are read.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from './base.js';
import { fusedUpdate } from './fused/step.js';
import * as gx from './index.js';
import { isTensor, treeLeaves } from './tree.js';

const txs: [string, () => GradientTransformation][] = [
  ['adam', () => gx.adam(0.1)],
  ['clip + adam', () => gx.chain(gx.clipByGlobalNorm(1), gx.adam(0.1))],
  ['adafactor', () => gx.adafactor(0.1)],
];

describe('a step on a consumed param', () => {
  for (const [name, make] of txs) {
    for (const fused of [true, false]) {
      it(`${name} (${fused ? 'fused' : 'reference'}): a clear error and no leaked tensor`, () => {
        const tx = make();
        const p = { w: tf.tensor1d([1, 2]) };
        const g = { w: tf.tensor1d([0.1, 0.2]) };
        const [p2, s2] = fusedUpdate(tx, g, tx.init(p), p, { donate: true, fused });
        const before = tf.memory().numTensors;
        expect(() => fusedUpdate(tx, g, s2, p, { donate: true, fused })).toThrow(/has been consumed/);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([g.w, ...treeLeaves([p2, s2]).filter(isTensor)] as tf.Tensor[]);
      });
    }
  }
});
