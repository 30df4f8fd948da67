// Packed state on the fused path: every storage (bfloat16, float16, block-wise
// int8) and every storage option, on the cpu and wasm devices, gives the
// reference path's params and packed state bit for bit (NaN payloads aside),
// through a pure step, a donated step and the optimizer's replayed steps,
// with partial last words and blocks, a zero-size leaf, a scalar, NaN and
// Inf in a block, and no leaked tensor; fusedStats shows every step fused.
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import * as gx from '../index.js';
import { type ArrayTree, rng, snapshot, toTensors } from '../test-utils/fused.js';
import type { ArrayLeaf } from '../testing.js';
import { isTensor, treeLeaves } from '../tree.js';
import { simulateCodegenBlocked } from './devices/codegen.js';
import { fusedStats } from './stats.js';
import { fusedUpdate } from './step.js';

// 300: a partial second block of 44 at 256 and of 44 at 64; 15 and 1: partial words; 0: an empty leaf
const SHAPES: Record<string, number[]> = { w: [300], m: [3, 5], s: [], z: [0], v: [130] };

function arrays(seed: number, scale = 1): ArrayTree {
  const r = rng(seed);
  const leaf = (shape: number[]): ArrayLeaf => ({
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 2 * scale),
  });
  return Object.fromEntries(Object.entries(SHAPES).map(([k, shape]) => [k, leaf(shape)]));
}

/** Gradients of four steps: ordinary ones, tiny ones, and (with `nonFinite`) a NaN in one block and an Inf in another leaf. */
function gradients(nonFinite: boolean): ArrayTree[] {
  const [a, b, c, d] = [arrays(2), arrays(3, 1e-3), arrays(4, 10), arrays(5)];
  if (nonFinite) {
    (b.w as ArrayLeaf).values[270] = Number.NaN;
    (c.v as ArrayLeaf).values[3] = Number.POSITIVE_INFINITY;
  }
  return [a, b, c, d];
}

type Mode = 'reference' | 'pure' | 'donate' | 'optimizer';

/** Params and state after each step (plain arrays), run in `mode`. */
function run(tx: GradientTransformation, grads: ArrayTree[], mode: Mode): unknown[] {
  const out: unknown[] = [];
  if (mode === 'optimizer') {
    const opt = gx.createOptimizer(tx, toTensors(arrays(1)));
    for (const g of grads) {
      const gt = toTensors(g);
      opt.step(gt);
      tf.dispose(Object.values(gt));
      out.push(snapshot([opt.params, opt.state]));
    }
    const last = opt.params;
    opt.dispose();
    tf.dispose(treeLeaves(last).filter(isTensor) as tf.Tensor[]);
    return out;
  }
  let p: unknown = toTensors(arrays(1));
  let s = tx.init(p as never);
  for (const g of grads) {
    const gt = toTensors(g);
    const [p2, s2] = fusedUpdate(tx, gt, s, p as never, { donate: mode === 'donate', fused: mode !== 'reference' });
    if (mode !== 'donate') tf.dispose(treeLeaves([s, p]).filter(isTensor) as tf.Tensor[]);
    tf.dispose(Object.values(gt));
    p = p2;
    s = s2;
    out.push(snapshot([p, s]));
  }
  tf.dispose(treeLeaves([p, s]).filter(isTensor) as tf.Tensor[]);
  return out;
}

/** The first element (path, index) where two snapshots differ by more than a NaN payload, or null. */
function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a).sort();
    if (JSON.stringify(keys) !== JSON.stringify(Object.keys(b).sort())) return `${path}: keys ${keys} vs ${Object.keys(b)}`;
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${String(a)} vs ${String(b)}`;
}

const CASES: [string, () => GradientTransformation][] = [
  ['adam bfloat16/bfloat16', () => gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'bfloat16' })],
  ['adam float16/float16', () => gx.adam(1e-2, { muDtype: 'float16', nuDtype: 'float16' })],
  ['adam int8/int8', () => gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'int8' })],
  ['adam int8 (blocks of 64)/float32', () => gx.adam(1e-2, { muDtype: 'int8', int8BlockSize: 64 })],
  ['adam bfloat16/int8', () => gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' })],
  ['adamw float16/int8 (params read)', () => gx.adamw(1e-2, { muDtype: 'float16', nuDtype: 'int8' })],
  ['amsgrad int8/bfloat16', () => gx.amsgrad(1e-2, { muDtype: 'int8', nuDtype: 'bfloat16' })],
  ['adamax bfloat16/int8', () => gx.adamax(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' })],
  ['radam float16/bfloat16', () => gx.radam(1e-2, { muDtype: 'float16', nuDtype: 'bfloat16' })],
  ['adabelief int8/int8', () => gx.adabelief(1e-2, { muDtype: 'int8', nuDtype: 'int8' })],
  ['lion int8', () => gx.lion(1e-3, { muDtype: 'int8' })],
  ['nadam int8', () => gx.nadam(1e-2, { muDtype: 'int8' })],
  ['sgd momentum bfloat16 (trace)', () => gx.sgd(1e-2, { momentum: 0.9, accumulatorDtype: 'bfloat16' })],
  ['trace int8 (blocks of 64), nesterov', () => gx.trace({ decay: 0.9, nesterov: true, accumulatorDtype: 'int8', int8BlockSize: 64 })],
  ['signum int8 (ema)', () => gx.signum(1e-2, { accumulatorDtype: 'int8' })],
  ['ema float16', () => gx.ema(0.9, { accumulatorDtype: 'float16' })],
  [
    'clip + adam int8 (64) + trace int8 (256): two block sizes in one kernel',
    () =>
      gx.chain(
        gx.clipByGlobalNorm(1),
        gx.scaleByAdam({ muDtype: 'int8', nuDtype: 'int8', int8BlockSize: 64 }),
        gx.trace({ decay: 0.5, accumulatorDtype: 'int8' }),
        gx.scale(-1e-2),
      ),
  ],
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`packed state on the fused path (${backend})`, () => {
    beforeAll(async () => {
      if (backend === 'wasm') {
        setWasmPaths(
          createRequire(import.meta.url)
            .resolve('@tensorflow/tfjs-backend-wasm')
            .replace(/[^/\\]*$/, ''),
        );
      }
      await tf.setBackend(backend);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    for (const [name, make] of CASES) {
      for (const nonFinite of [false, true]) {
        it(`${name}${nonFinite ? ', NaN and Inf in the gradients' : ''}: bit for bit the reference path, fused, no leak`, () => {
          const tx = make();
          const grads = gradients(nonFinite);
          const before = tf.memory().numTensors;
          const reference = run(tx, grads, 'reference');
          for (const mode of ['pure', 'donate', 'optimizer'] as const) {
            const counts = { ...fusedStats };
            const got = run(tx, grads, mode);
            const diff = firstDifference(got, reference);
            if (diff !== null) expect.fail(`${mode}: ${diff}`);
            expect(fusedStats.reference, `${mode}: no step on the reference path (${fusedStats.lastFallBack})`).toBe(counts.reference);
            // the optimizer replays every step after the first
            if (mode === 'optimizer') expect(fusedStats.fast - counts.fast).toBe(grads.length - 1);
            else expect(fusedStats.fused - counts.fused).toBe(grads.length);
          }
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }

    it('the JS kernels (WebAssembly blocked) give the same bits', () => {
      const tx = gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'bfloat16' });
      const grads = gradients(true);
      const reference = run(tx, grads, 'reference');
      simulateCodegenBlocked({ wasm: true });
      try {
        const counts = { ...fusedStats };
        const diff = firstDifference(run(tx, grads, 'optimizer'), reference);
        if (diff !== null) expect.fail(diff);
        expect(fusedStats.reference).toBe(counts.reference);
      } finally {
        simulateCodegenBlocked({});
      }
    });
  });
}
