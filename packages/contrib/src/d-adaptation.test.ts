// Prodigy and D-Adapt AdamW on the fused path against their reference path: the same params and state,
// bit for bit, after every step of 30, through fusedUpdate (pure and donated) and createOptimizer, on cpu
// and wasm; every step fused; no leaked tensors. Also the checks on their scalar state.
import { chain, clipByGlobalNorm, fusedUpdate, type GradientTransformation, scale } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dadaptAdamw, prodigy } from './index.js';
import { describeFusedParity } from './testing/fused-parity.js';

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

describeFusedParity('prodigy and dadaptAdamw', 11, CASES, (name, expected) => {
  // the estimate really grows from d0 (a no-op estimate cannot pass)
  const last = expected.states.at(-1) as { estimLr?: number[] } | { estimLr: number[] }[];
  const d = (Array.isArray(last) ? (last.find((st) => st.estimLr) as { estimLr: number[] }) : last).estimLr?.[0] as number;
  expect(d).toBeGreaterThan(2 * (name.includes('options') || name.includes('safeguard') ? 1e-3 : 1e-6));
});

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
