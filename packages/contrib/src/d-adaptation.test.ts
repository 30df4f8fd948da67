// Prodigy and D-Adapt AdamW on the fused path against their reference path: the same params and state,
// bit for bit, after every step of 30, through fusedUpdate (pure and donated) and createOptimizer, on cpu
// and wasm; every step fused; no leaked tensors. Also the checks on their scalar state.
import { createRequire } from 'node:module';
import { applyUpdates, createOptimizer, fusedStats, fusedUpdate, type GradientTransformation, type Params } from '@gradtx/core';
import { compareTraces, rng, type Trace } from '@gradtx/core/testing';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dadaptAdamw, prodigy } from './index.js';

const SHAPES: Record<string, number[]> = { a: [7], b: [2, 3], c: [], d: [33] };
const STEPS = 30;

type Arrays = Record<string, { shape: number[]; data: number[] }>;

function randomArrays(r: () => number, scale: number): Arrays {
  return Object.fromEntries(
    Object.entries(SHAPES).map(([k, shape]) => [
      k,
      { shape, data: Array.from({ length: tf.util.sizeFromShape(shape) }, () => scale * (2 * r() - 1)) },
    ]),
  );
}

const tensors = (a: Arrays): Record<string, tf.Tensor> =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));

/** The params and state as plain arrays. */
function snapshot(tree: unknown): unknown {
  if (tree instanceof tf.Tensor) return Array.from(tree.dataSync());
  if (Array.isArray(tree)) return tree.map(snapshot);
  if (tree !== null && typeof tree === 'object') return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, snapshot(v)]));
  return tree;
}

const leaves = (tree: unknown): tf.Tensor[] =>
  tree instanceof tf.Tensor ? [tree] : tree !== null && typeof tree === 'object' ? Object.values(tree).flatMap(leaves) : [];

type Mode = 'reference' | 'pure' | 'donate' | 'optimizer';

/** The gradient at step `i`: of `Σ ½ (x - target)²`, plus noise (params that really move towards the target). */
function gradient(p: Params, target: Arrays, noise: Arrays[], i: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const [t, n] = [tensors(target), tensors(noise[i] as Arrays)];
    return Object.fromEntries(
      Object.entries(p as Record<string, tf.Tensor>).map(([k, x]) => [k, tf.add(tf.sub(x, t[k] as tf.Tensor), n[k] as tf.Tensor)]),
    );
  });
}

/** Runs the steps in `mode`; disposes what it made. */
function run(tx: GradientTransformation, params: Arrays, grads: (p: Params, i: number) => Record<string, tf.Tensor>, mode: Mode): Trace {
  const out: Trace = { params: [], states: [] };
  if (mode === 'optimizer') {
    const opt = createOptimizer(tx, tensors(params));
    for (let i = 0; i < STEPS; i++) {
      const gt = grads(opt.params, i);
      opt.step(gt);
      tf.dispose(Object.values(gt));
      out.params.push(snapshot(opt.params));
      out.states.push(snapshot(opt.state));
    }
    const last = opt.params;
    opt.dispose();
    tf.dispose(leaves(last));
    return out;
  }
  let p: Params = tensors(params);
  let s = tx.init(p);
  for (let i = 0; i < STEPS; i++) {
    const gt = grads(p, i);
    let next: [Params, unknown];
    if (mode === 'reference') {
      const [u, s2] = tx.update(gt, s, p);
      next = [applyUpdates(p, u), s2];
      tf.dispose(leaves(u));
    } else next = fusedUpdate(tx, gt, s, p, { donate: mode === 'donate' });
    if (mode !== 'donate') tf.dispose([...leaves(s), ...leaves(p)]);
    tf.dispose(Object.values(gt));
    [p, s] = next as [Params, never];
    out.params.push(snapshot(p));
    out.states.push(snapshot(s));
  }
  tf.dispose([...leaves(p), ...leaves(s)]);
  return out;
}

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
        const params = randomArrays(r, 1);
        const target = randomArrays(r, 3);
        const noise = Array.from({ length: STEPS }, () => randomArrays(r, 0.1));
        const grads = (p: Params, i: number) => gradient(p, target, noise, i);
        const tx = make();
        const before = tf.memory().numTensors;
        const expected = run(tx, params, grads, 'reference');
        // the estimate really grows from d0 (a no-op estimate cannot pass)
        const d = (expected.states.at(-1) as { estimLr: number[] }).estimLr[0] as number;
        expect(d).toBeGreaterThan(2 * (name.includes('options') || name.includes('safeguard') ? 1e-3 : 1e-6));
        for (const mode of ['pure', 'donate', 'optimizer'] as const) {
          const fused = fusedStats.fused + fusedStats.fast;
          const got = run(tx, params, grads, mode);
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
