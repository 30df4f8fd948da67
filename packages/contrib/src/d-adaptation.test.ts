// Prodigy and D-Adapt AdamW on the fused path against their reference path: the same params and state,
// bit for bit, after every step of 30, through fusedUpdate (pure and donated) and createOptimizer, on cpu
// and wasm; every step fused; no leaked tensors. Also the checks on their scalar state.
import { createRequire } from 'node:module';
import { chain, clipByGlobalNorm, fusedStats, fusedUpdate, type GradientTransformation, scale } from '@gradtx/core';
import {
  type ArrayTree,
  compareTraces,
  type RunGradients,
  randomArrays,
  rng,
  runFused,
  runReference,
  toTensors,
} from '@gradtx/core/testing';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dadaptAdamw, prodigy } from './index.js';

const SHAPES: Record<string, number[]> = { a: [7], b: [2, 3], c: [], d: [33] };
const STEPS = 30;

/** The gradient at step `i`: of `Σ ½ (x - target)²`, plus noise (params that really move towards the target). */
function gradients(target: ArrayTree, noise: ArrayTree[]): RunGradients {
  return {
    steps: STEPS,
    at: (p, i) =>
      tf.tidy(() => {
        const [t, n] = [toTensors(target), toTensors(noise[i] as ArrayTree)] as Record<string, tf.Tensor>[];
        return Object.fromEntries(
          Object.entries(p as Record<string, tf.Tensor>).map(([k, x]) => [k, tf.add(tf.sub(x, t?.[k] as tf.Tensor), n?.[k] as tf.Tensor)]),
        );
      }),
  };
}

const leaves = (tree: unknown): tf.Tensor[] =>
  tree instanceof tf.Tensor ? [tree] : tree !== null && typeof tree === 'object' ? Object.values(tree).flatMap(leaves) : [];

const CASES: [string, () => GradientTransformation][] = [
  ['prodigy()', () => prodigy()],
  [
    'prodigy(0.5, options)',
    () => prodigy(0.5, { betas: [0.8, 0.99], beta3: 0.95, eps: 1e-6, estimLr0: 1e-3, estimLrCoef: 0.5, weightDecay: 0.01 }),
  ],
  [
    'prodigy(schedule, { safeguardWarmup })',
    () => prodigy((c: number) => Math.min(1, 0.1 + 0.2 * c), { safeguardWarmup: true, estimLr0: 1e-3 }),
  ],
  ['dadaptAdamw()', () => dadaptAdamw()],
  // in chains: after a stage with its own reduction (a second run), and before an element-wise stage (one run)
  ['chain(clipByGlobalNorm(1), prodigy())', () => chain(clipByGlobalNorm(1), prodigy())],
  ['chain(dadaptAdamw(), scale(0.5))', () => chain(dadaptAdamw(), scale(0.5))],
  ['dadaptAdamw(0.5, options)', () => dadaptAdamw(0.5, { betas: [0.8, 0.99], eps: 1e-6, estimLr0: 1e-3, weightDecay: 0.01 })],
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`prodigy and dadaptAdamw fused on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'wasm')
        setWasmPaths(
          createRequire(import.meta.url)
            .resolve('@tensorflow/tfjs-backend-wasm')
            .replace(/[^/\\]*$/, ''),
        );
      expect(await tf.setBackend(backend)).toBe(true);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    for (const [name, make] of CASES) {
      it(`${name}: bit for bit with the reference path, every step fused`, () => {
        const r = rng(11);
        const params = randomArrays(r, SHAPES);
        const grads = gradients(
          randomArrays(r, SHAPES, 3),
          Array.from({ length: STEPS }, () => randomArrays(r, SHAPES, 0.1)),
        );
        const tx = make();
        const before = tf.memory().numTensors;
        const expected = runReference(tx, params, grads);
        // the estimate really grows from d0 (a no-op estimate cannot pass)
        const last = expected.states.at(-1) as { estimLr?: number[] } | { estimLr: number[] }[];
        const d = (Array.isArray(last) ? (last.find((st) => st.estimLr) as { estimLr: number[] }) : last).estimLr?.[0] as number;
        expect(d).toBeGreaterThan(2 * (name.includes('options') || name.includes('safeguard') ? 1e-3 : 1e-6));
        for (const mode of ['pure', 'donate', 'optimizer'] as const) {
          const fused = fusedStats.fused + fusedStats.fast;
          const got = runFused(tx, params, grads, mode);
          expect(fusedStats.fused + fusedStats.fast - fused, `${name} [${mode}]: steps on the fused path`).toBe(STEPS);
          const diff = compareTraces(got, expected, `${name} [${mode}]`, { rtol: 0, atol: 0 });
          expect(diff).toBeNull();
        }
        expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
      });
    }
  });
}

describe('the scalar state of prodigy', () => {
  it('is a float32 scalar tensor in the state, d0 at init', () => {
    const p = { w: tf.zeros([3]) };
    const s = prodigy(1, { estimLr0: 1e-3 }).init(p) as unknown as Record<string, tf.Tensor>;
    expect(Object.keys(s).sort()).toEqual(['count', 'estimLr', 'expAvg', 'expAvgSq', 'gradSum', 'numeratorWeighted', 'params0']);
    expect(s.estimLr?.shape).toEqual([]);
    expect(s.estimLr?.dataSync()[0]).toBeCloseTo(1e-3, 10);
    tf.dispose([...leaves(s), p.w]);
  });
  it('rejects a state whose estimate is not a float32 scalar, naming it', () => {
    const tx = prodigy();
    const p = { w: tf.zeros([3]) };
    const s = tx.init(p) as unknown as Record<string, unknown>;
    const bad = { ...s, estimLr: tf.zeros([2]) };
    expect(() => tx.update({ w: tf.ones([3]) }, bad as never, p)).toThrow(/prodigy: state\.estimLr must be a float32 scalar tensor/);
    expect(() => fusedUpdate(tx, { w: tf.ones([3]) }, bad as never, p)).toThrow(/prodigy: state\.estimLr must be a float32 scalar tensor/);
  });
});
