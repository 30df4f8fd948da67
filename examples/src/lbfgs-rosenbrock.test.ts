import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { rosenbrock, rosenbrockChart, solveRosenbrock } from './lbfgs-rosenbrock.js';
import { parseXml } from './test-utils/xml.js';

describe('lbfgs-rosenbrock example', () => {
  it('the objective is 0 at (1, 1) and 24.2 at (-1.2, 1)', () => {
    const at = (p: number[]) => tf.tidy(() => rosenbrock(tf.tensor1d(p)).dataSync()[0] as number);
    expect(at([1, 1])).toBe(0);
    expect(at([-1.2, 1])).toBeCloseTo(24.2, 4);
  });

  it('L-BFGS reaches the minimum (1, 1) to 1e-6 from both starts in well under 100 iterations, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const runs = [solveRosenbrock([-1.2, 1]), solveRosenbrock([0, 0])];
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    for (const r of runs) {
      expect(r.error).toBeLessThan(1e-6);
      expect(r.iterations).toBeGreaterThan(5);
      expect(r.iterations).toBeLessThan(100);
      expect(r.losses).toHaveLength(r.iterations + 1);
      expect(r.losses.at(-1) as number).toBeLessThan(1e-10);
    }
    parseXml(rosenbrockChart(runs));
  });
});
