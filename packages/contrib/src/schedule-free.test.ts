// scheduleFreeSgd and scheduleFreeAdamw on the fused path against their reference path: the same params and
// state, bit for bit, after every step of 30, through fusedUpdate (pure and donated) and createOptimizer, on
// cpu and wasm; every step fused; no leaked tensors. And, on the reference path, the same params as the general
// scheduleFree wrapper around the same base optimizer.
import {
  addDecayedWeights,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  scale,
  scaleByLearningRate,
  scaleByRms,
  sgd,
} from '@gradtx/core';
import { compareTraces, runReference } from '@gradtx/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { scheduleFree, scheduleFreeAdamw, scheduleFreeEvalParams, scheduleFreeSgd } from './index.js';
import { describeFusedParity, problem } from './testing/fused-parity.js';

const warmup = (lr: number, steps: number) => (c: number) => Math.min(lr, (lr * c) / steps);

/** [name, the fused alias, the general wrapper around the same base (reference path), when there is one] */
const CASES: [string, () => GradientTransformation, (() => GradientTransformation)?][] = [
  ['scheduleFreeSgd(0.1)', () => scheduleFreeSgd(0.1), () => scheduleFree(sgd(0.1), 0.1)],
  [
    'scheduleFreeSgd(0.1, { warmupSteps, weightDecay, b1 })',
    () => scheduleFreeSgd(0.1, { warmupSteps: 5, weightDecay: 0.01, b1: 0.8 }),
    () => scheduleFree(chain(addDecayedWeights(0.01), sgd(warmup(0.1, 5))), warmup(0.1, 5), { b1: 0.8 }),
  ],
  [
    'scheduleFreeSgd(0.1, { weightLrPower: 1.5, warmupSteps })',
    () => scheduleFreeSgd(0.1, { weightLrPower: 1.5, warmupSteps: 4 }),
    () => scheduleFree(sgd(warmup(0.1, 4)), warmup(0.1, 4), { weightLrPower: 1.5 }),
  ],
  [
    'scheduleFreeAdamw(0.01)',
    () => scheduleFreeAdamw(0.01),
    () =>
      scheduleFree(
        chain(
          scaleByRms({ decay: 0.999, eps: 1e-8, epsInSqrt: false, biasCorrection: true }),
          addDecayedWeights(0),
          scaleByLearningRate(0.01),
        ),
        0.01,
      ),
  ],
  [
    'scheduleFreeAdamw(0.01, options)',
    () => scheduleFreeAdamw(0.01, { b1: 0.95, b2: 0.99, eps: 1e-6, weightDecay: 0.05, warmupSteps: 3, weightLrPower: 1 }),
    () =>
      scheduleFree(
        chain(
          scaleByRms({ decay: 0.99, eps: 1e-6, epsInSqrt: false, biasCorrection: true }),
          addDecayedWeights(0.05),
          scaleByLearningRate(warmup(0.01, 3)),
        ),
        warmup(0.01, 3),
        { b1: 0.95, weightLrPower: 1 },
      ),
  ],
  // in chains: after a stage with its own reduction (a second run), and before an element-wise stage (one run)
  ['chain(clipByGlobalNorm(1), scheduleFreeAdamw(0.01))', () => chain(clipByGlobalNorm(1), scheduleFreeAdamw(0.01))],
  ['chain(scheduleFreeSgd(0.1), scale(0.5))', () => chain(scheduleFreeSgd(0.1), scale(0.5))],
];

describe('scheduleFreeSgd and scheduleFreeAdamw against the general scheduleFree wrapper', () => {
  for (const [name, make, wrapper] of CASES) {
    if (wrapper === undefined) continue;
    it(`${name}: the same params after every step`, () => {
      const { params, grads } = problem(5);
      const before = tf.memory().numTensors;
      const got = runReference(make(), params, grads);
      const expected = runReference(wrapper(), params, grads);
      expect(
        compareTraces({ params: got.params, states: [] }, { params: expected.params, states: [] }, name, { rtol: 0, atol: 0 }),
      ).toBeNull();
      // the params really move (a no-op update cannot pass)
      expect(got.params.at(-1)).not.toEqual(got.params[0]);
      expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
    });
  }
});

describeFusedParity(
  'scheduleFreeSgd and scheduleFreeAdamw',
  5,
  CASES.map(([name, make]) => [name, make] as const),
  (name, expected) => {
    // the params really move (a no-op update cannot pass)
    expect(expected.params.at(-1), name).not.toEqual(expected.params[0]);
  },
);

describe('the state of scheduleFreeSgd and scheduleFreeAdamw', () => {
  it('keeps z, count and b1, weightSum, maxLr as float32 scalars; scheduleFreeEvalParams reads it', () => {
    const p = { w: tf.tensor1d([1, 2, 3]) };
    const tx = scheduleFreeAdamw(0.01, { b1: 0.8 });
    const s = tx.init(p);
    expect(Object.keys(s).sort()).toEqual(['b1', 'count', 'maxLr', 'nu', 'weightSum', 'z']);
    expect(s.b1.shape).toEqual([]);
    expect(s.b1.dataSync()[0]).toBe(Math.fround(0.8));
    const [u, s1] = tx.update({ w: tf.ones([3]) }, s, p);
    expect(s1.maxLr.dataSync()[0]).toBe(Math.fround(0.01));
    expect(s1.weightSum.dataSync()[0]).toBe(Math.fround(Math.fround(0.01) ** 2));
    const y = { w: tf.add(p.w, (u as { w: tf.Tensor }).w) };
    // x = (y - (1 - b1) z) / b1, with z the base's new iterate
    const x = scheduleFreeEvalParams(s1, y) as { w: tf.Tensor };
    const z = (s1.z as { w: tf.Tensor }).w;
    const expected = tf.tidy(() => tf.div(tf.sub(y.w, tf.mul(Math.fround(1 - 0.8), z)), Math.fround(0.8)));
    expect(Array.from(x.w.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([p, s, u, s1, y, x, expected] as never);
  });
});
