// The cpu device's resident arrays: a replayed launch adopts the arrays it
// writes into an arena (the tensors' backend values become views of it) and
// runs its SIMD kernel on them in place. Every step must stay bit for bit what
// the reference path computes, tfjs must keep reading the tensors, arrays read
// with dataSync() must stay valid, and nothing may leak.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation, Params } from '../../base.js';
import { multiSteps } from '../../combinators/multi-steps.js';
import { chain } from '../../combine.js';
import { adamw } from '../../index.js';
import { createOptimizer } from '../../optimizer.js';
import { type ArrayTree, randomArrays, rng, snapshot, toTensors } from '../../test-utils/fused.js';
import { scaleByAdam } from '../../transforms/adam.js';
import { clipByGlobalNorm } from '../../transforms/clipping.js';
import { addDecayedWeights } from '../../transforms/decay.js';
import { scale } from '../../transforms/scaling.js';
import { isTensor, treeLeaves } from '../../tree.js';
import { applyUpdates } from '../../update.js';
import { fusedStats } from '../stats.js';
import { isResident } from './cpu-arena.js';

/** Leaves of 7, 6, 16 and 40,000 elements (the last spans several blocks). */
const SHAPES = { a: [7], b: [2, 3], d: [4, 4], big: [200, 200] };

/** The backend array of a cpu tensor. */
function backendValues(t: tf.Tensor): Float32Array {
  return (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
}

function resident(t: tf.Tensor): boolean {
  return isResident(t.dataId, backendValues(t));
}

function disposeAll(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
}

/** The params after every step of the reference path. */
function reference(tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[]): unknown[] {
  let p = toTensors(params) as Params;
  let s = tx.init(p);
  const out: unknown[] = [];
  for (const g of grads) {
    const gt = toTensors(g);
    const [u, s2] = tx.update(gt, s, p);
    const p2: Params = applyUpdates(p, u);
    disposeAll(u, s, p, gt);
    p = p2;
    s = s2;
    out.push(snapshot(p));
  }
  disposeAll(p, s);
  return out;
}

const bits = (x: unknown) => JSON.stringify(x, (_k, v) => (Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v));

describe('cpu: resident arrays of replayed steps', () => {
  for (const [label, make, steps] of [
    ['adamw (one run)', () => adamw(0.05, { weightDecay: 0.1 }), 6],
    // the first run reads the params, the second writes them (its arena holds them): the first must read the new values
    [
      'chain(addDecayedWeights, clip, scale) (two runs, the params read by the first)',
      () => chain(addDecayedWeights(0.1), clipByGlobalNorm(0.1), scale(-0.05)),
      6,
    ],
    ['chain(scaleByAdam, clip, scale) (two runs)', () => chain(scaleByAdam(), clipByGlobalNorm(0.1), scale(-0.05)), 6],
    // captured shapes writing different arrays (the frozen inner chain writes none of its slots) and two-run ones: their arenas merge into one
    ['multiSteps(adamw, 3)', () => multiSteps(adamw(0.05), 3), 10],
    ['multiSteps(chain(clip, adamw), 2)', () => multiSteps(chain(clipByGlobalNorm(0.5), adamw(0.05)), 2), 10],
  ] as const) {
    it(`${label}: bit for bit, params and slots resident, tfjs reads them, no leaks`, () => {
      const r = rng(21);
      const params = randomArrays(r, SHAPES);
      const grads = Array.from({ length: steps }, () => randomArrays(r, SHAPES));
      const tx = make() as GradientTransformation;
      const want = reference(tx, params, grads);
      const before = tf.memory().numTensors;
      const stats = { ...fusedStats };
      const opt = createOptimizer(tx, toTensors(params));
      let early: Float32Array | null = null;
      grads.forEach((g, i) => {
        const gt = toTensors(g);
        opt.step(gt);
        disposeAll(gt);
        expect(bits(snapshot(opt.params)), `${label}: params after step ${i}`).toBe(bits(want[i]));
        if (i === 3) early = (opt.params as Record<string, tf.Tensor>).big?.dataSync() as Float32Array;
      });
      expect(fusedStats.fast - stats.fast, `${label}: replayed steps`).toBeGreaterThan(steps / 2);
      const p = opt.params as Record<string, tf.Tensor>;
      for (const t of Object.values(p)) expect(resident(t), `${label}: a param is not resident`).toBe(true);
      // every launch of the step ends on one arena: the params and every slot leaf lie in the same memory
      const written = [...Object.values(p), ...treeLeaves(opt.state).filter((t): t is tf.Tensor => isTensor(t) && t.size === 40_000)];
      expect(new Set(written.map((t) => backendValues(t).buffer)).size, `${label}: arenas`).toBe(1);
      // an array read with dataSync() stays valid (the arena never grows, so its views are never detached)
      expect((early as unknown as Float32Array).length).toBe(40_000);
      // tfjs kernels read the resident arrays
      const big = p.big as tf.Tensor;
      const plusOne = tf.add(big, 1);
      expect(Array.from(plusOne.dataSync())).toEqual(Array.from(big.dataSync(), (x) => Math.fround(x + 1)));
      plusOne.dispose();
      opt.dispose();
      disposeAll(p);
      expect(tf.memory().numTensors, `${label}: tensors leaked`).toBe(before);
    });
  }

  it('two optimizers on the same params one after the other: the second adopts them again, bit for bit', () => {
    const r = rng(4);
    const params = randomArrays(r, SHAPES);
    const grads = Array.from({ length: 8 }, () => randomArrays(r, SHAPES));
    const tx = adamw(0.05);
    const want = reference(tx, params, grads);
    const p = toTensors(params);
    const first = createOptimizer(tx, p);
    for (const g of grads.slice(0, 4)) {
      const gt = toTensors(g);
      first.step(gt);
      disposeAll(gt);
    }
    // a new optimizer from the first one's params and state
    const second = createOptimizer(tx, first.params as Record<string, tf.Tensor>, { state: first.state });
    for (const g of grads.slice(4)) {
      const gt = toTensors(g);
      second.step(gt);
      disposeAll(gt);
    }
    expect(bits(snapshot(second.params))).toBe(bits(want[7]));
    expect(resident((second.params as Record<string, tf.Tensor>).big as tf.Tensor)).toBe(true);
    const last = second.params;
    second.dispose();
    disposeAll(last);
  });
});
