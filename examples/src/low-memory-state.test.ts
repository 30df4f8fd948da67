import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MLP } from './digits-comparison.js';
import {
  adamStoring,
  runStorageComparison,
  STORAGES,
  type StorageRun,
  stateBytesPerParam,
  storageChart,
  summarize,
  summaryTable,
} from './low-memory-state.js';
import { parseXml } from './test-utils/xml.js';

const storage = (label: string) => STORAGES.find((s) => s.label === label) as (typeof STORAGES)[number];

describe('low-memory-state example', () => {
  // the wasm backend, where the narrow moments run in the fused kernels (and the training in a tenth of cpu's time)
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('Adam with bfloat16 and int8 moments trains the digits MLP about as well as float32, in half and a quarter of the state', () => {
    const before = tf.memory().numTensors;
    const runs = runStorageComparison({ lr: 3e-3, epochs: 12, storages: ['float32', 'bfloat16', 'int8'].map(storage) });
    expect(tf.memory().numTensors).toBe(before);
    const [f32, bf16, int8] = runs as [StorageRun, StorageRun, StorageRun];
    expect(f32.stateBytesPerParam).toBe(8);
    expect(bf16.stateBytesPerParam).toBe(4);
    expect(int8.stateBytesPerParam).toBeGreaterThan(2);
    expect(int8.stateBytesPerParam).toBeLessThan(2.1);
    const final = (r: StorageRun) => r.epochLoss.at(-1) as number;
    expect(final(f32)).toBeLessThan(0.05 * (f32.trainLoss[0] as number)); // it really trains
    const [s] = summarize(runs);
    expect(s?.lossVsBaseline).toEqual({ mean: 0, min: 0, max: 0 });
    for (const r of [bf16, int8]) {
      // generous but real: a broken storage (moments flushed to 0, or a diverging step) misses these by far
      expect(Math.abs(final(r) - final(f32)) / final(f32), r.storage.label).toBeLessThan(0.1);
      expect(Math.abs(r.testAccuracy - f32.testAccuracy), r.storage.label).toBeLessThan(0.015);
    }
    const els = parseXml(storageChart(runs));
    expect(els.filter((e) => e.attrs.class === 'series')).toHaveLength(3);
  });

  it('keeps the moments of leaves under 4096 elements in float32 when asked, as bitsandbytes does', () => {
    const params = MLP.init(0);
    // the digits MLP's leaves of 100, 100, 1000 and 10 elements keep float32 moments: 1210 of 17,610 parameters
    // int8, per moment: a byte per element in int32 words, and a float32 scale per block of 256
    const int8Bytes = (n: number) => 2 * (4 * Math.ceil(n / 4) + 4 * Math.ceil(n / 256));
    const expected = (1210 * 8 + int8Bytes(6400) + int8Bytes(10_000)) / 17_610;
    expect(stateBytesPerParam(adamStoring(storage('int8, leaves < 4096 float32')), params)).toBeCloseTo(expected, 12);
    tf.dispose(params as never);
  });

  it('summarises each storage against the float32 run of the same seed, and float32 by its spread over the seeds', () => {
    const [f32, int8] = [storage('float32'), storage('int8')];
    const run = (s: typeof f32, seed: number, loss: number, acc: number): StorageRun => ({
      name: s.label,
      lr: 1e-3,
      trainLoss: [2.3, loss],
      epochLoss: [loss],
      testAccuracy: acc,
      seconds: 0,
      storage: s,
      seed,
      stateBytesPerParam: s === f32 ? 8 : 2,
    });
    const runs = [run(f32, 0, 0.01, 0.97), run(int8, 0, 0.009, 0.975), run(f32, 1, 0.02, 0.96), run(int8, 1, 0.022, 0.96)];
    const [a, b] = summarize(runs) as [ReturnType<typeof summarize>[number], ReturnType<typeof summarize>[number]];
    expect(a.loss.mean).toBeCloseTo(0.015, 12);
    expect(b.lossVsBaseline.min).toBeCloseTo(-0.1, 12);
    expect(b.lossVsBaseline.max).toBeCloseTo(0.1, 12);
    expect(b.lossVsBaseline.mean).toBeCloseTo(0, 12);
    expect(b.accuracyVsBaseline.max).toBeCloseTo(0.005, 12);
    const table = summaryTable([a, b]).split('\n');
    expect(table[2]).toBe('| float32 | 8.000 | 1.500e-2 | seeds: -33.3 % … +33.3 % | 96.50 % | seeds: 96.00 … 97.00 % |');
    expect(table[3]).toBe('| int8 | 2.000 | 1.550e-2 | +0.0 % (-10.0 % … +10.0 %) | 96.75 % | +0.25 (+0.00 … +0.50) |');
  });
});
