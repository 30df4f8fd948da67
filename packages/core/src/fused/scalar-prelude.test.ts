// The language's scalar state and expression reductions (ElementwiseSpec.scalarState, expressionReductions,
// updateScalars) on their own: two toy specs, alone and inside chains, run fused on cpu and wasm bit for bit
// with their reference path; the plan starts a run at a stage with expression reductions; a device that cannot
// read scalars back runs them on the reference path and says why.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { chain } from '../combine.js';
import { elementwise } from '../elementwise.js';
import { runBlockOn } from '../test-utils/wasm.js';
import { compareTraces, randomArrays, rng, runFused, runReference } from '../testing.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale } from '../transforms/scaling.js';
import { planOf } from './plan.js';
import { fusedStats } from './stats.js';

/** Momentum divided by a decaying peak of the tree-wide distance |u - m|, kept as scalar state. */
function peakNormalized(): GradientTransformation {
  return elementwise({
    name: 'peakNormalized',
    key: 'peakNormalized',
    slots: [{ name: 'm', init: 0 }],
    counted: false,
    needsParams: false,
    scalarState: [{ name: 'peak', init: 1, next: 'peakNext' }],
    expressionReductions: [{ name: 'dist', op: 'sum', value: (m, x) => m.square(m.sub(x.u, x.m as never)) }],
    scalars: () => ({ decay: 0.9 }),
    updateScalars: (m, k) => ({ peakNext: m.max(m.mul(k.peak as never, k.decay as never), m.sqrt(k.dist as never)) }),
    body(m, x, k) {
      const m1 = m.add(m.mul(m.c(0.5), x.m as never), x.u);
      return { u: m.div(m1, k.peakNext as never), m: m1 };
    },
  });
}

/** A step counter kept as float32 scalar state that scales the updates (scalar state without reductions). */
function countedScale(): GradientTransformation {
  return elementwise({
    name: 'countedScale',
    key: 'countedScale',
    slots: [],
    counted: false,
    needsParams: false,
    scalarState: [{ name: 'steps', init: 0, next: 'stepsNext' }],
    scalars: () => ({}),
    updateScalars: (m, k) => ({ stepsNext: m.add(k.steps as never, m.c(1)) }),
    body: (m, x, k) => ({ u: m.div(x.u, k.stepsNext as never) }),
  });
}

const SHAPES = { a: [7], b: [2, 3], c: [], d: [17] };
const CASES: [string, () => GradientTransformation, number][] = [
  ['peakNormalized', peakNormalized, 1],
  ['chain(scale(2), peakNormalized)', () => chain(scale(2), peakNormalized()), 2],
  ['chain(scaleByAdam(), countedScale)', () => chain(scaleByAdam(), countedScale()), 1],
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`scalar state and expression reductions on ${backend}`, () => {
    runBlockOn(backend);
    for (const [name, make, runs] of CASES) {
      it(`${name}: ${runs} fused run(s), bit for bit with the reference path`, () => {
        const tx = make();
        expect(planOf(tx).segments.filter((s) => s.kind === 'fused').length).toBe(runs);
        const r = rng(3);
        const params = randomArrays(r, SHAPES);
        const grads = Array.from({ length: 6 }, () => randomArrays(r, SHAPES));
        const before = tf.memory().numTensors;
        const expected = runReference(tx, params, grads);
        for (const mode of ['pure', 'donate', 'optimizer'] as const) {
          const fused = fusedStats.fused + fusedStats.fast;
          const got = runFused(tx, params, grads, mode);
          expect(fusedStats.fused + fusedStats.fast - fused, `${name} [${mode}]: fused steps`).toBe(grads.length);
          expect(compareTraces(got, expected, `${name} [${mode}]`, { rtol: 0, atol: 0 })).toBeNull();
        }
        expect(tf.memory().numTensors, 'tensors left over').toBe(before);
      });
    }
  });
}
