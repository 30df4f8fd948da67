// applyIfFinite on the fused engine: each step is decided on the host (one
// reduction pass over the incoming updates, and the consecutive-error count)
// and runs as the inner chain's fused step (accepted) or as a zero update
// (dropped), replayed in place by createOptimizer; compared bit for bit with
// the reference path on cpu, within float32 rounding on wasm.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import type { Device } from '../fused/device.js';
import { currentDevice } from '../fused/registry.js';
import { fusedStats } from '../fused/stats.js';
import { adamw } from '../index.js';
import { createOptimizer } from '../optimizer.js';
import { FUSED_TOL } from '../test-utils/fused.js';
import { agree, COMBINATOR_SHAPES } from '../test-utils/fused-agree.js';
import { runBlockOn } from '../test-utils/wasm.js';
import { type ArrayTree, randomArrays, rng } from '../testing.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { applyIfFinite } from './apply-if-finite.js';
import { injectHyperparams } from './inject-hyperparams.js';

/** Random gradients for `steps` steps, with a NaN, +Inf or -Inf planted at the steps of `bad` (by step: the value). */
function gradsWith(steps: number, bad: Record<number, number>, shapes: Record<string, number[]> = COMBINATOR_SHAPES): ArrayTree[] {
  const r = rng(3);
  return Array.from({ length: steps }, (_, i) => {
    const g = randomArrays(r, shapes) as Record<string, { values: Float32Array }>;
    const v = bad[i];
    if (v !== undefined) (g.d as { values: Float32Array }).values[5] = v;
    return g as unknown as ArrayTree;
  });
}

/** Steps 1-4 not finite (past 2 consecutive errors at step 3 and 4: applied anyway), then finite again. */
const BAD = { 1: Number.NaN, 2: Number.POSITIVE_INFINITY, 3: Number.NaN, 4: Number.NEGATIVE_INFINITY, 7: Number.NaN };

function suite(tol?: typeof FUSED_TOL): void {
  it("the device's finiteness check: every size (SIMD body and tail, several blocks), NaN and ±Inf anywhere, huge finite values", () => {
    const device = currentDevice() as Device;
    expect(device.allFinite).toBeDefined();
    const check = (a: Float32Array) => {
      const t = tf.tensor1d(a);
      const got = (device.allFinite as (t: tf.Tensor) => boolean)(t);
      t.dispose();
      return got;
    };
    for (const n of [0, 1, 3, 4, 5, 17, 70_001]) {
      const a = new Float32Array(n).fill(3e38);
      expect(check(a), `n ${n}`).toBe(true);
      for (const at of n === 0 ? [] : [0, n >> 1, n - 1]) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          const b = Float32Array.from(a);
          b[at] = bad;
          expect(check(b), `n ${n}, ${bad} at ${at}`).toBe(false);
        }
      }
    }
  });

  it('applyIfFinite(adamw, 2): dropped, accepted and forced steps fused, replayed (two shapes: accepted, dropped)', () => {
    const tx = applyIfFinite(adamw(0.05, { weightDecay: 0.1 }), 2);
    // step 0 captures the accepted shape and step 1 the dropped one; the other 7 replay
    agree(tx, 'applyIfFinite(adamw, 2)', { grads: gradsWith(9, BAD), fastSteps: 7, tol });
  });

  it('maxConsecutiveErrors 0: every non-finite step is applied; the counters still count', () => {
    agree(applyIfFinite(adamw(0.05), 0), 'applyIfFinite(adamw, 0)', {
      grads: gradsWith(5, { 1: Number.NaN, 2: Number.NaN }),
      fastSteps: 4,
      tol,
    });
  });

  it('applyIfFinite(chain(clip, adamw)): two fused runs behind the decision', () => {
    const tx = applyIfFinite(chain(clipByGlobalNorm(0.5), adamw(0.05)), 1);
    agree(tx, 'applyIfFinite(chain(clip, adamw), 1)', { grads: gradsWith(8, BAD), tol });
  });

  it('applyIfFinite(injectHyperparams(adamw)): the inner combinator lowers too, its count kept on a dropped step', () => {
    const tx = applyIfFinite(
      injectHyperparams(adamw)((c: number) => 0.05 / (c + 1), { weightDecay: 0.1 }),
      1,
    );
    const edit = (s: { innerState: { hyperparams: Record<string, number> } }, i: number) => {
      if (i === 5) s.innerState.hyperparams.weightDecay = 0.3;
    };
    agree(tx, 'applyIfFinite(injectHyperparams(adamw))', { grads: gradsWith(8, BAD), edit, tol });
  });

  it('zero-size leaves and a tree of zero-size leaves only', () => {
    const shapes = { a: [7], z: [0], d: [4, 4] };
    agree(applyIfFinite(adamw(0.05), 1), 'applyIfFinite with a zero-size leaf', { grads: gradsWith(6, BAD, shapes), shapes, tol });
  });
}

describe('applyIfFinite fused on cpu (bit for bit)', () => {
  suite();

  it('the decision is real: a non-finite step changes nothing but the counters, a forced one writes NaN', () => {
    const before = tf.memory().numTensors;
    const stats = { ...fusedStats };
    const opt = createOptimizer(applyIfFinite(adamw(0.05), 1), { a: tf.tensor([1, 2, 3]), z: tf.zeros([0]) });
    const nan = { a: tf.tensor([0.5, Number.NaN, 1]), z: tf.zeros([0]) };
    opt.step(nan);
    expect(Array.from((opt.params as { a: tf.Tensor }).a.dataSync())).toEqual([1, 2, 3]);
    opt.step(nan);
    expect(Number.isNaN((opt.params as { a: tf.Tensor }).a.dataSync()[1] as number)).toBe(true);
    const s = opt.state as unknown as Record<string, tf.Tensor>;
    const counters = ['notfiniteCount', 'totalNotfinite', 'lastFinite'].map((k) => (s[k] as tf.Tensor).dataSync()[0]);
    expect(counters).toEqual([2, 2, 0]);
    expect(fusedStats.reference - stats.reference).toBe(0);
    expect(fusedStats.fused + fusedStats.fast - stats.fused - stats.fast).toBe(2);
    const last = opt.params;
    opt.dispose();
    tf.dispose([...Object.values(last as Record<string, tf.Tensor>), nan.a, nan.z]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('applyIfFinite fused on wasm (within float32 rounding)', () => {
  runBlockOn('wasm');
  suite(FUSED_TOL);
});
