// DoG and DoWG on the fused path against their reference path (bit for bit, every step fused, on cpu and
// wasm, in chains), and their scalar state.
import { addDecayedWeights, chain, clipByGlobalNorm, scale } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dog, dowg, scaleByDog, scaleByDowg } from './index.js';
import { describeFusedParity } from './testing/fused-parity.js';

const CASES = [
  ['scaleByDog()', () => scaleByDog()],
  ['scaleByDog({ initStep: distance })', () => scaleByDog({ initStep: ['distance', 0.1], eps: 1e-6 })],
  ['scaleByDog({ initStep: learning_rate })', () => scaleByDog({ initStep: ['learning_rate', 0.01] })],
  ['dog(0.5, { weightDecay })', () => dog(0.5, { weightDecay: 0.01 })],
  ['dog()', () => dog()],
  ['scaleByDowg()', () => scaleByDowg()],
  ['dowg(0.5, { initEstimSqDist, eps })', () => dowg(0.5, { initEstimSqDist: 0.01, eps: 1e-6 })],
  // in chains: after a stage with its own reduction (a second run), and before an element-wise stage (one run)
  ['chain(clipByGlobalNorm(1), dowg())', () => chain(clipByGlobalNorm(1), dowg())],
  ['chain(addDecayedWeights(0.1), scaleByDog(), scale(-0.5))', () => chain(addDecayedWeights(0.1), scaleByDog(), scale(-0.5))],
] as const;

describeFusedParity('DoG and DoWG', 13, CASES, (name, expected) => {
  // the params really move (a no-op update cannot pass)
  expect(expected.params.at(-1), name).not.toEqual(expected.params[0]);
});

describe('the scalar state of DoG and DoWG', () => {
  it('scaleByDog keeps count, initParams, maxDist and sumSqNormGrads; the heuristic r0 enters at the first update', () => {
    const p = { w: tf.tensor1d([3, 4]) };
    const tx = scaleByDog({ initStep: ['heuristic', 0.5] });
    const s = tx.init(p);
    expect(Object.keys(s).sort()).toEqual(['count', 'initParams', 'maxDist', 'sumSqNormGrads']);
    expect(s.maxDist.dataSync()[0]).toBe(0);
    const g = { w: tf.tensor1d([1, 0]) };
    const [u, s1] = tx.update(g, s, p);
    // r0 = 0.5 (1 + |x0|) = 3 at x = x0; G = 1; u = r0 / sqrt(1 + 1e-8) g
    expect(s1.maxDist.dataSync()[0]).toBe(3);
    expect(s1.sumSqNormGrads.dataSync()[0]).toBe(1);
    expect(Array.from((u as { w: tf.Tensor }).w.dataSync())).toEqual([Math.fround(3 / Math.fround(Math.sqrt(Math.fround(1 + 1e-8)))), 0]);
    expect(s1.count).toBe(1);
    tf.dispose([p, g, s, u, s1] as never);
  });
  it('scaleByDowg keeps initParams, weightedSqNormGrads and estimSqDist (initEstimSqDist at init)', () => {
    const p = { w: tf.tensor1d([1, 2]) };
    const s = scaleByDowg({ initEstimSqDist: 0.25 }).init(p);
    expect(Object.keys(s).sort()).toEqual(['estimSqDist', 'initParams', 'weightedSqNormGrads']);
    expect(s.estimSqDist.dataSync()[0]).toBe(0.25);
    tf.dispose([p, s] as never);
  });
});
