import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { newOptimizersChart, runNewOptimizers } from './new-optimizers.js';
import { parseXml } from './test-utils/xml.js';

describe('new-optimizers example', () => {
  it('AdamW, Muon, schedule-free AdamW and Prodigy each train the digits MLP far below its starting loss, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const runs = runNewOptimizers({ epochs: 6, batch: 128, seed: 0 });
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    expect(runs.map((r) => r.name)).toEqual(['AdamW', 'Muon', 'Schedule-free AdamW', 'Prodigy']);
    const start = runs[0]?.trainLoss[0] as number;
    // The same init for every run: a 10-class softmax near chance, loss about ln 10.
    expect(start).toBeGreaterThan(1.5);
    for (const r of runs) {
      expect(r.trainLoss[0], r.name).toBeCloseTo(start, 5);
      expect(r.trainLoss, r.name).toHaveLength(7);
      expect(r.trainLoss.at(-1) as number, r.name).toBeLessThan(start / 5);
      expect(r.testAccuracy, r.name).toBeGreaterThan(0.85);
    }
    parseXml(newOptimizersChart(runs));
  });
});
