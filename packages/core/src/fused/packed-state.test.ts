// Packed state on the fused path: every storage (bfloat16, float16, block-wise
// int8) and every storage option, on the cpu and wasm devices, gives the
// reference path's params and packed state bit for bit (NaN payloads aside),
// through a pure step, a donated step and the optimizer's replayed steps,
// with partial last words and blocks, a zero-size leaf, a scalar, NaN and
// Inf in a block, and no leaked tensor; fusedStats shows every step fused.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import * as gx from '../index.js';
import { type ArrayTree, rng, snapshot, toTensors } from '../test-utils/fused.js';
import { locateWasmFiles } from '../test-utils/wasm.js';
import type { ArrayLeaf } from '../testing.js';
import { isTensor, treeLeaves } from '../tree.js';
import { simulateCodegenBlocked } from './devices/codegen.js';
import { fusedStats } from './stats.js';
import { fusedUpdate } from './step.js';

// 300: a partial second block of 44 at 256 and of 44 at 64; 15 and 1: partial words; 0: an empty leaf
const SHAPES: Record<string, number[]> = { w: [300], m: [3, 5], s: [], z: [0], v: [130] };

function arrays(seed: number, scale = 1, shapes = SHAPES): ArrayTree {
  const r = rng(seed);
  const leaf = (shape: number[]): ArrayLeaf => ({
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 2 * scale),
  });
  return Object.fromEntries(Object.entries(shapes).map(([k, shape]) => [k, leaf(shape)]));
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
function run(tx: GradientTransformation, grads: ArrayTree[], mode: Mode, shapes = SHAPES): unknown[] {
  const out: unknown[] = [];
  if (mode === 'optimizer') {
    const opt = gx.createOptimizer(tx, toTensors(arrays(1, 1, shapes)));
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
  let p: unknown = toTensors(arrays(1, 1, shapes));
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
  ['multiSteps(adam, 2), accumulator int8', () => gx.multiSteps(gx.adam(1e-2), 2, { accumulatorDtype: 'int8' })],
  [
    'multiSteps(adam bfloat16/int8, 2), accumulator float16, sums',
    () => gx.multiSteps(gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' }), 2, { accumulatorDtype: 'float16', useGradMean: false }),
  ],
  [
    'multiSteps(sgd momentum, 2), accumulator bfloat16',
    () => gx.multiSteps(gx.sgd(1e-2, { momentum: 0.9 }), 2, { accumulatorDtype: 'bfloat16' }),
  ],
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
      if (backend === 'wasm') locateWasmFiles();
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

    it('packed stages before and after an opaque stage (two fused segments, updates passed between them): the same bits', () => {
      const tx = gx.chain(
        gx.scaleByAdam({ muDtype: 'int8', nuDtype: 'bfloat16' }),
        gx.centralize(),
        gx.trace({ decay: 0.9, accumulatorDtype: 'float16' }),
        gx.scale(-1e-2),
      );
      const grads = gradients(true);
      const reference = run(tx, grads, 'reference');
      for (const mode of ['pure', 'donate', 'optimizer'] as const) {
        const counts = { ...fusedStats };
        const diff = firstDifference(run(tx, grads, mode), reference);
        if (diff !== null) expect.fail(`${mode}: ${diff}`);
        expect(fusedStats.reference).toBe(counts.reference);
        expect(fusedStats.fused - counts.fused).toBe(grads.length);
      }
    });

    it('leaves larger than a staging region, many leaves, blocks of 100: the same bits', () => {
      const shapes: Record<string, number[]> = {
        big: [40_003],
        ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`l${i}`, [i * 7 + 1]])),
      };
      for (const tx of [
        gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'int8', int8BlockSize: 100 }),
        gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'float16' }),
      ]) {
        const grads = [5, 6, 7].map((seed) => arrays(seed, 1, shapes));
        const reference = run(tx, grads, 'reference', shapes);
        const counts = { ...fusedStats };
        const diff = firstDifference(run(tx, grads, 'optimizer', shapes), reference);
        if (diff !== null) expect.fail(diff);
        expect(fusedStats.reference).toBe(counts.reference);
      }
    });

    it('edge values (±0, subnormals, the largest finite, rounding boundaries, NaN, ±Inf, a huge value in a block) encode and decode as on the reference path', () => {
      // an EMA with decay 0 stores the incoming update itself: every edge value goes through the encoder, and is decoded at the next step
      const edges = [
        0,
        -0,
        1e-45,
        -1e-45,
        2 ** -25,
        2 ** -24,
        3 * 2 ** -25,
        2 ** -14,
        2 ** -14 * (1 - 2 ** -11),
        6.1e-5,
        65504,
        65519.99,
        65520,
        -65520,
        3.4028234e38,
        -3.4028234e38,
        1 + 2 ** -8,
        1 + 3 * 2 ** -8,
        1 + 2 ** -11,
        1 + 3 * 2 ** -11,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        1e30,
        1e-30,
        0.5,
        -0.25,
        1e-7,
        -1e-6,
        5e-7,
      ];
      const shapes: Record<string, number[]> = { e: [edges.length], f: [9], g: [64] };
      const leaf = (values: number[]): ArrayLeaf => ({ shape: [values.length], values: Float32Array.from(values) });
      const r = rng(9);
      const grads: ArrayTree[] = [
        { e: leaf(edges), f: leaf([1e30, 1, -1, 1e-3, 0, 0, 0, 0, 2]), g: leaf(Array.from({ length: 64 }, () => r() - 0.5)) },
        { e: leaf([...edges].reverse()), f: leaf([0, 0, 0, 0, 0, 0, 0, 0, 0]), g: leaf(Array.from({ length: 64 }, () => r() * 1e-6)) },
        { e: leaf(edges.map((x) => -x)), f: leaf([-1, 2, -3, 4, -5, 6, -7, 8, Number.NaN]), g: leaf(Array.from({ length: 64 }, () => 1)) },
      ];
      for (const dtype of ['bfloat16', 'float16', 'int8'] as const) {
        const tx = gx.chain(
          gx.ema(0, { debias: false, accumulatorDtype: dtype, ...(dtype === 'int8' ? { int8BlockSize: 8 } : {}) }),
          gx.scale(-1),
        );
        const reference = run(tx, grads, 'reference', shapes);
        const counts = { ...fusedStats };
        for (const mode of ['pure', 'optimizer'] as const) {
          const diff = firstDifference(run(tx, grads, mode, shapes), reference);
          if (diff !== null) expect.fail(`${dtype}, ${mode}: ${diff}`);
        }
        expect(fusedStats.reference).toBe(counts.reference);
      }
    });

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
