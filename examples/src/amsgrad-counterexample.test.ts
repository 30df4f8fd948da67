import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { counterexampleChart, counterexampleGradient, runCounterexample } from './amsgrad-counterexample.js';
import { parseXml } from './test-utils/xml.js';

describe('amsgrad-counterexample example', () => {
  it('uses C on every third step (t mod 3 = 1) and -1 otherwise', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((t) => counterexampleGradient(t, 3))).toEqual([3, -1, -1, 3, -1, -1, 3]);
  });

  it('Adam drifts to +1 while AMSGrad (and SGD) go to the optimum -1', () => {
    const before = tf.memory().numTensors;
    const runs = runCounterexample({ C: 3, alpha: 0.5, steps: 300 });
    expect(tf.memory().numTensors).toBe(before);
    const final = Object.fromEntries(runs.map((r) => [r.name, r.x.at(-1) as number]));
    expect(final.Adam).toBeGreaterThan(0.99);
    expect(final.AMSGrad).toBeLessThan(-0.95);
    expect(final.SGD).toBeLessThan(-0.9);
    const regret = Object.fromEntries(runs.map((r) => [r.name, r.averageRegret]));
    // Adam's average regret stays near its limit (about 2/3 here); AMSGrad's shrinks.
    expect(regret.Adam).toBeGreaterThan(0.5);
    expect(regret.AMSGrad).toBeLessThan(0.1);
    // Every iterate stays in the feasible set [-1, 1].
    for (const r of runs) for (const x of r.x) expect(Math.abs(x)).toBeLessThanOrEqual(1);
    parseXml(counterexampleChart(runs, 3, 0.5));
  });

  it('rejects C ≤ 2, where -1 is no longer the unique optimum of the average loss', () => {
    expect(() => runCounterexample({ C: 2, steps: 3 })).toThrow(/C.*> 2/);
  });
});
