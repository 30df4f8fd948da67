import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type Accumulator, microbatch, reshapeBatchAxis } from './microbatching.js';

const rows = (n: number, d: number) =>
  tf.tensor2d(
    Array.from({ length: n * d }, (_, i) => i),
    [n, d],
  );

describe('microbatch', () => {
  it('sums the microbatches, the rows i, i + n, ... in microbatch i (optax order), and concatenates back in input order', () => {
    const x = rows(6, 2);
    const seen: number[][] = [];
    const f = microbatch(
      (b: tf.Tensor) => {
        seen.push(Array.from(b.dataSync()));
        return [tf.sum(b), tf.mul(b, 2)];
      },
      { argnums: 0, microbatchSize: 2, accumulator: ['sum', 'concat'] },
    );
    const before = tf.memory().numTensors;
    const [total, doubled] = f(x) as tf.Tensor[];
    // 3 microbatches of rows {0, 3}, {1, 4}, {2, 5}
    expect(seen).toEqual([
      [0, 1, 6, 7],
      [2, 3, 8, 9],
      [4, 5, 10, 11],
    ]);
    expect(total?.dataSync()[0]).toBe(66);
    expect(Array.from(doubled?.dataSync() ?? [])).toEqual(Array.from(x.dataSync(), (v) => 2 * v));
    tf.dispose([total as tf.Tensor, doubled as tf.Tensor]);
    expect(tf.memory().numTensors, 'tensors left over').toBe(before);
    x.dispose();
  });

  it('takes a custom accumulator, passes the other arguments as they are, and keeps a result that is an input', () => {
    const w = tf.scalar(10);
    const x = rows(4, 1);
    const max: Accumulator = {
      init: (like) => tf.fill(like.shape as number[], -Infinity),
      update: (c, v) => tf.maximum(c, v),
      finalize: (c) => c,
    };
    const before = tf.memory().numTensors;
    const out = microbatch((scale: tf.Tensor, b: tf.Tensor) => ({ peak: tf.max(tf.mul(scale, b)), scale }), {
      argnums: [1],
      microbatchSize: 1,
      accumulator: { peak: max, scale: 'mean' },
    })(w, x) as { peak: tf.Tensor; scale: tf.Tensor };
    expect(out.peak.dataSync()[0]).toBe(30);
    expect(out.scale.dataSync()[0]).toBe(10);
    expect(w.isDisposed).toBe(false);
    tf.dispose([out.peak, out.scale]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, x]);
  });

  it('returns the function itself without a microbatch size', () => {
    const f = (x: tf.Tensor) => x;
    expect(microbatch(f, { argnums: 0, microbatchSize: null })).toBe(f);
  });

  it('refuses bad batches and options, naming them', () => {
    const [a, b] = [rows(6, 1), rows(4, 1)];
    const sum = (x: tf.Tensor, y: tf.Tensor) => tf.add(tf.sum(x), tf.sum(y));
    expect(() => microbatch(sum, { argnums: [0, 1], microbatchSize: 2 })(a, b)).toThrow(
      /microbatch: the batch arguments must have equal-size batch axes, got \[6,4\]/,
    );
    expect(() => microbatch(sum, { argnums: [0, 1], microbatchSize: 4 })(a, a)).toThrow(
      /the batch size 6 must be divisible by microbatchSize 4/,
    );
    expect(() => microbatch(sum, { argnums: [0, 1], microbatchSize: 0 })).toThrow(/microbatch: `microbatchSize` must be an integer >= 1/);
    expect(() => microbatch(sum, { argnums: [0, 1], microbatchSize: 2, accumulator: 'max' as never })(a, a)).toThrow(
      /microbatch: unknown accumulator 'max' at result/,
    );
    const ints = tf.tensor1d([1, 2], 'int32');
    expect(() => microbatch((x: tf.Tensor) => x, { argnums: 0, microbatchSize: 1, accumulator: 'mean' })(ints)).toThrow(
      /the 'mean' accumulator needs floating-point results, got int32/,
    );
    expect(() => microbatch(sum, { argnums: [0, 1], microbatchSize: 2, numRealMicrobatches: 4 })(a, a)).toThrow(
      /`numRealMicrobatches` 4 exceeds the 3 microbatches/,
    );
    tf.dispose([a, b, ints]);
  });
});

describe('reshapeBatchAxis', () => {
  it('splits the batch axis column-major: element [i, j] is row i + j·n', () => {
    const x = tf.tensor1d([0, 1, 2, 3, 4, 5]);
    const r = reshapeBatchAxis(x, 2);
    expect(r.shape).toEqual([3, 2]);
    expect(Array.from(r.dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
    tf.dispose([x, r]);
  });
});
