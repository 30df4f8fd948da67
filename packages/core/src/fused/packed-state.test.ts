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
import { type ArrayTree, snapshot, toTensors } from '../test-utils/fused.js';
import { locateWasmFiles } from '../test-utils/wasm.js';
import { packedState } from '../testing.js';
import { isTensor, treeLeaves } from '../tree.js';
import { simulateCodegenBlocked } from './devices/codegen.js';
import { fusedStats } from './stats.js';
import { fusedUpdate } from './step.js';

const SHAPES = packedState.SHAPES;
const arrays = packedState.arrays;
const gradients = packedState.gradients;

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

const CASES = packedState.CASES;

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
            // the optimizer replays every step after the first of each shape (multiSteps: accumulating and emitting mini-steps are two)
            const shapes = name.startsWith('multiSteps') ? 2 : 1;
            if (mode === 'optimizer') expect(fusedStats.fast - counts.fast).toBe(grads.length - shapes);
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
      const { shapes, grads } = packedState.edgeGradients(packedState.EDGE_VALUES);
      for (const dtype of ['bfloat16', 'float16', 'int8'] as const) {
        const tx = packedState.storeEachUpdate(dtype);
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
