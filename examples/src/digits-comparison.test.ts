import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { digitsChart, digitsTensors, LOGREG, MLP, OPTIMIZERS, runDigitsComparison, train } from './digits-comparison.js';
import { parseXml } from './test-utils/xml.js';

describe('digits-comparison example', () => {
  it('logistic regression starts at loss ln 10 and every optimizer lowers it within 2 epochs', () => {
    const before = tf.memory().numTensors;
    const runs = runDigitsComparison(LOGREG, { epochs: 2 });
    expect(runs.map((r) => r.name)).toEqual(['Adam', 'AdamW', 'SGD Nesterov', 'AdaGrad', 'RMSProp']);
    for (const r of runs) {
      expect(r.trainLoss).toHaveLength(3);
      expect(r.trainLoss[0]).toBeCloseTo(Math.log(10), 5);
      expect(r.trainLoss[2]).toBeLessThan(0.8);
      expect(r.testAccuracy).toBeGreaterThan(0.8);
    }
    expect(tf.memory().numTensors).toBe(before);
    const els = parseXml(digitsChart(LOGREG, runs));
    expect(els.filter((e) => e.attrs.class === 'series')).toHaveLength(5);
  });

  it('the MLP trains with Adam, from the same seeded init every time', () => {
    const data = digitsTensors();
    const adam = OPTIMIZERS.find((o) => o.name === 'Adam')!;
    const a = train(MLP, 'Adam', adam.lr.mlp, adam.make(adam.lr.mlp), data, { epochs: 1 });
    const b = train(MLP, 'Adam', adam.lr.mlp, adam.make(adam.lr.mlp), data, { epochs: 1 });
    data.dispose();
    expect(a.trainLoss).toEqual(b.trainLoss);
    expect(a.trainLoss[1]).toBeLessThan(0.6 * (a.trainLoss[0] as number));
    expect(a.testAccuracy).toBeGreaterThan(0.7);
  });
});
