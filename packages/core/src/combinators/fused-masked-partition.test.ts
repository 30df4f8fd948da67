// masked and partition on the fused engine: each step is split by groups of
// leaves (masked: the masked-in leaves through the inner transformation, the
// others passed through; partition: one group per label), and each group
// takes a fused step of its own on its leaves, replayed by createOptimizer
// group by group (the whole counted as one step in fusedStats). Compared bit for bit with the reference path on cpu,
// within float32 rounding on wasm.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { chain } from '../combine.js';
import { fusedStats } from '../fused/stats.js';
import { adamw, sgd } from '../index.js';
import { createOptimizer } from '../optimizer.js';
import { FUSED_TOL } from '../test-utils/fused.js';
import { agree } from '../test-utils/fused-agree.js';
import { runBlockOn } from '../test-utils/wasm.js';
import { randomArrays, rng, runFused, toTensors } from '../testing.js';
import { scaleByAdam } from '../transforms/adam.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { addDecayedWeights } from '../transforms/decay.js';
import { scale } from '../transforms/scaling.js';
import { applyIfFinite } from './apply-if-finite.js';
import { injectHyperparams } from './inject-hyperparams.js';
import { masked } from './masked.js';
import { multiTransform, partition } from './partition.js';

const byRank = (p: unknown) => Object.fromEntries(Object.entries(p as Record<string, tf.Tensor>).map(([k, t]) => [k, t.rank > 1]));

function suite(tol?: typeof FUSED_TOL): void {
  it('masked(adamw) with a tree mask: both groups fused, each replayed from its second step', () => {
    agree(masked(adamw(0.05, { weightDecay: 0.1 }), { a: true, b: false, d: true, e: false }), 'masked(adamw, tree)', {
      fastSteps: 5,
      tol,
    });
  });

  it('masked with a callable mask (called with the updates), and masked(chain(clip, adamw)): the clip norm over the masked-in leaves', () => {
    agree(masked(adamw(0.05), byRank), 'masked(adamw, fn)', { fastSteps: 5, tol });
    agree(masked(chain(clipByGlobalNorm(0.5), adamw(0.05)), { a: true, b: true, d: false, e: true }), 'masked(chain(clip, adamw))', {
      tol,
    });
  });

  it('masks that take every leaf or none (the inner transformation on an empty tree keeps counting), a needsParams inner', () => {
    agree(masked(adamw(0.05), true), 'masked(adamw, true)', { tol });
    agree(masked(adamw(0.05), { a: false, b: false, d: false, e: false }), 'masked(adamw, all false)', { tol });
    agree(masked(addDecayedWeights(0.1), { a: false, b: true, d: true, e: false }), 'masked(addDecayedWeights)', { tol });
  });

  it('partition with two labels, with three (one of them injectHyperparams with a schedule), multiTransform with a label function', () => {
    const labels = { a: 'a', b: 'b', d: 'a', e: 'b' };
    agree(partition({ a: adamw(0.05), b: sgd(0.1) }, labels), 'partition({a: adamw, b: sgd})', { fastSteps: 5, tol });
    const three = partition(
      { a: adamw(0.05), b: sgd(0.1, { momentum: 0.9 }), c: injectHyperparams(adamw)((c: number) => 0.05 / (c + 1)) },
      { a: 'a', b: 'c', d: 'b', e: 'c' },
    );
    agree(three, 'partition(3 labels)', { fastSteps: 5, tol });
    agree(
      multiTransform({ big: adamw(0.05), small: sgd(0.1) }, (p) =>
        Object.fromEntries(Object.entries(byRank(p)).map(([k, big]) => [k, big ? 'big' : 'small'])),
      ),
      'multiTransform(fn)',
      { tol },
    );
  });

  it('inside a chain of leaf-wise stages: adamw with a mask tree, partition after scaleByAdam, a callable mask first in the chain', () => {
    const mask = { a: true, b: false, d: true, e: false };
    agree(adamw(0.05, { weightDecay: 0.1, mask }), 'adamw({ mask })', { fastSteps: 5, tol });
    const labels = { a: 'x', b: 'y', d: 'y', e: 'x' };
    agree(
      chain(scaleByAdam(), partition({ x: scale(-0.1), y: chain(clipByGlobalNorm(0.3), scale(-0.02)) }, labels)),
      'chain(adam, partition)',
      {
        fastSteps: 5,
        tol,
      },
    );
    agree(chain(masked(scaleByAdam(), byRank), scale(-0.05)), 'chain(masked(adam, fn), scale)', { fastSteps: 5, tol });
    // a callable mask after another stage would see that stage's output: that chain is not split (masked runs as its own update)
    agree(adamw(0.05, { weightDecay: 0.1, mask: byRank }), 'adamw({ mask: fn })', { tol });
  });

  it('a label that no leaf carries: its transformation steps on an empty tree (its count advances, as on the reference path)', () => {
    // the empty group takes a general fused step each time (nothing to replay), so no step counts as replayed
    agree(partition({ a: adamw(0.05), b: sgd(0.1), unused: adamw(0.01) }, { a: 'a', b: 'b', d: 'a', e: 'b' }), 'partition(unused label)', {
      fastSteps: 0,
      tol,
    });
  });

  it('zero-size leaves in a group, and applyIfFinite(partition(...)) with a non-finite step', () => {
    const shapes = { a: [7], z: [0], d: [4, 4], e: [0, 3] };
    agree(masked(adamw(0.05), { a: true, z: true, d: false, e: false }), 'masked with zero-size leaves', { shapes, tol });
    const r = rng(9);
    const grads = Array.from({ length: 5 }, () => randomArrays(r, { a: [7], b: [2, 3], d: [4, 4], e: [9] }));
    ((grads[2] as Record<string, { values: Float32Array }>).b as { values: Float32Array }).values[1] = Number.NaN;
    const tx = applyIfFinite(partition({ a: adamw(0.05), b: sgd(0.1) }, { a: 'a', b: 'b', d: 'a', e: 'b' }), 1);
    agree(tx, 'applyIfFinite(partition)', { grads: grads as never, tol });
  });
}

describe('masked and partition fused on cpu (bit for bit)', () => {
  suite();

  it('inside tf.tidy: applyIfFinite(partition) and adamw({ mask }) through createOptimizer keep tf.memory() flat', () => {
    const r = rng(4);
    const shapes = { a: [7], b: [2, 3], d: [4, 4], e: [9] };
    for (const tx of [
      applyIfFinite(partition({ a: adamw(0.05), b: sgd(0.1) }, { a: 'a', b: 'b', d: 'a', e: 'b' }), 1),
      adamw(0.05, { mask: { a: true, b: false, d: true, e: false } }),
    ] as GradientTransformation[]) {
      const before = tf.memory().numTensors;
      const opt = createOptimizer(tx, toTensors(randomArrays(r, shapes) as never) as never);
      const grads = toTensors(randomArrays(r, shapes) as never);
      const nan = toTensors(randomArrays(r, shapes) as never) as Record<string, tf.Tensor>;
      const bad = { ...nan, a: tf.fill([7], Number.NaN) };
      const stats = { ...fusedStats };
      tf.tidy(() => opt.step(grads));
      const during = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) tf.tidy(() => opt.step(i === 2 ? bad : grads));
      expect(tf.memory().numTensors).toBe(during);
      expect(fusedStats.reference - stats.reference).toBe(0);
      // (the first step captures; so does the dropped non-finite step of applyIfFinite)
      expect(fusedStats.fast - stats.fast).toBeGreaterThanOrEqual(3);
      expect(fusedStats.fast + fusedStats.fused - stats.fast - stats.fused).toBe(5);
      const p = opt.params;
      opt.dispose();
      tf.dispose([
        ...Object.values(p as Record<string, tf.Tensor>),
        ...Object.values(grads as Record<string, tf.Tensor>),
        ...Object.values(bad),
      ]);
      (nan.a as tf.Tensor).dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('a step whose updates do not fit the mask raises the reference error, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const tx = masked(adamw(0.05), { a: true, b: false });
    const params = { a: { shape: [2], values: new Float32Array([1, 2]) }, c: { shape: [1], values: new Float32Array([3]) } };
    const stats = { ...fusedStats };
    expect(() => runFused(tx, params, [params], 'optimizer')).toThrow(/masked/);
    expect(fusedStats.reference - stats.reference).toBeGreaterThanOrEqual(0);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 4);
  });
});

describe('masked and partition fused on wasm (within float32 rounding)', () => {
  runBlockOn('wasm');
  suite(FUSED_TOL);
});
