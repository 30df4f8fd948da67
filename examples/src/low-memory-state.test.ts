import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runStorageComparison, STORAGES, storageChart } from './low-memory-state.js';
import { parseXml } from './test-utils/xml.js';

describe('low-memory-state example', () => {
  it('Adam with bfloat16 and int8 moments trains the digits MLP about as well as float32, in half and a quarter of the state', () => {
    const before = tf.memory().numTensors;
    const runs = runStorageComparison({
      epochs: 3,
      storages: [STORAGES[0], STORAGES[1], STORAGES[3]].map((s) => s as (typeof STORAGES)[0]),
    });
    expect(tf.memory().numTensors).toBe(before);
    const [f32, bf16, int8] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    expect(f32.stateBytesPerParam).toBe(8);
    expect(bf16.stateBytesPerParam).toBe(4);
    expect(int8.stateBytesPerParam).toBeGreaterThan(2);
    expect(int8.stateBytesPerParam).toBeLessThan(2.1);
    const final = (r: (typeof runs)[0]) => r.trainLoss.at(-1) as number;
    expect(final(f32)).toBeLessThan(0.3 * (f32.trainLoss[0] as number)); // it really trains
    for (const r of [bf16, int8]) {
      // generous but real: a broken storage (moments flushed to 0, or a diverging step) misses these by far
      expect(Math.abs(final(r) - final(f32)) / final(f32), r.storage.label).toBeLessThan(0.25);
      expect(Math.abs(r.testAccuracy - f32.testAccuracy), r.storage.label).toBeLessThan(0.03);
    }
    const els = parseXml(storageChart(runs));
    expect(els.filter((e) => e.attrs.class === 'series')).toHaveLength(3);
  });
});
