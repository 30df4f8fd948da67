import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  adamwDistanceChart,
  adamwTrajectoryChart,
  boxConstrainedSolution,
  distance,
  leastSquaresSolution,
  makeRidgeProblem,
  ridgeObjective,
  ridgeSolution,
  runAdamwVsL2,
} from './adamw-vs-l2.js';
import { parseXml } from './test-utils/xml.js';

describe('adamw-vs-l2 example', () => {
  const p = makeRidgeProblem({ n: 200, lambda: 0.5, seed: 1 });

  it('builds features of scale 1 and 1000', () => {
    expect(p.gram[0]).toBeGreaterThan(0.7);
    expect(p.gram[0]).toBeLessThan(1.3);
    expect(p.gram[3]).toBeGreaterThan(0.7e6);
    expect(p.gram[3]).toBeLessThan(1.3e6);
  });

  it('the closed-form ridge solution zeroes the gradient of L and beats nearby points', () => {
    const w = ridgeSolution(p);
    const g0 = p.gram[0] * w[0] + p.gram[1] * w[1] - p.xty[0] + p.lambda * w[0];
    const g1 = p.gram[2] * w[0] + p.gram[3] * w[1] - p.xty[1] + p.lambda * w[1];
    expect(Math.abs(g0)).toBeLessThan(1e-9);
    expect(Math.abs(g1)).toBeLessThan(1e-6);
    const best = ridgeObjective(p, w);
    for (const d of [
      [1e-3, 0],
      [-1e-3, 0],
      [0, 1e-6],
      [0, -1e-6],
    ]) {
      expect(ridgeObjective(p, [w[0] + (d[0] as number), w[1] + (d[1] as number)])).toBeGreaterThan(best);
    }
  });

  it('the box-constrained point is least squares when that lies in the box, and clamps otherwise', () => {
    expect(distance(boxConstrainedSolution(p), leastSquaresSolution(p))).toBeLessThan(1e-12);
    const tight = makeRidgeProblem({ n: 200, lambda: 1.2, seed: 1 });
    const box = boxConstrainedSolution(tight);
    expect(box[0]).toBeCloseTo(1 / 1.2, 12);
    expect(Math.abs(box[1])).toBeLessThan(1 / 1.2);
  });

  it('Adam + L2 converges to the ridge solution, AdamW to its own limit point, SGD barely moves', () => {
    const before = tf.memory().numTensors;
    const r = runAdamwVsL2({ steps: 1000 });
    expect(tf.memory().numTensors).toBe(before);
    const final = Object.fromEntries(r.runs.map((run) => [run.name, run.w.at(-1) as [number, number]]));
    const toRidge = (name: string) => distance(final[name] as [number, number], r.ridge);
    const toBox = (name: string) => distance(final[name] as [number, number], r.box);
    expect(toRidge('Adam + L2')).toBeLessThan(1e-5);
    expect(toBox('AdamW')).toBeLessThan(0.15);
    expect(toRidge('AdamW')).toBeGreaterThan(0.35);
    expect(toRidge('SGD + L2')).toBeGreaterThan(0.8);
    expect(toRidge('Adam + L2')).toBeLessThan(toRidge('AdamW'));
    expect(toRidge('AdamW')).toBeLessThan(toRidge('SGD + L2'));
    parseXml(adamwDistanceChart(r));
    parseXml(adamwTrajectoryChart(r));
  });
});
