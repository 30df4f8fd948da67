import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from './base.js';
import { chain, statelessWithTreeMap } from './combine.js';
import { fusedStats } from './fused/stats.js';
import * as gx from './index.js';
import { createOptimizer } from './optimizer.js';
import { expectTracesClose, randomArrays, rng, runReference, snapshot, type Trace, toTensors } from './test-utils/fused.js';
import { isTensor, treeLeaves } from './tree.js';

const EXACT = { rtol: 0, atol: 0 };

function disposeAll(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
}

/** `steps` steps of createOptimizer, recorded like runReference. */
function runOptimizer(tx: GradientTransformation, steps: number, options: Parameters<typeof createOptimizer>[2] = {}, variables = false) {
  const params = randomArrays(rng(1));
  const grads = Array.from({ length: steps }, (_, i) => randomArrays(rng(10 + i)));
  const p0 = toTensors(params);
  const init = variables ? gx.treeMap((t: tf.Tensor) => tf.variable(t), p0) : p0;
  if (variables) disposeAll(p0);
  const opt = createOptimizer(tx, init, options);
  const out: Trace = { params: [], states: [] };
  const counts: number[] = [];
  for (const g of grads) {
    const gt = toTensors(g);
    opt.step(gt);
    counts.push(tf.memory().numTensors);
    expect(snapshot(gt), 'grads are left as they are').toEqual(snapshot(toArraysOf(g)));
    disposeAll(gt);
    out.params.push(snapshot(opt.params));
    out.states.push(snapshot(opt.state));
  }
  return { opt, out, counts, init, ref: () => runReference(tx, params, grads) };
}

function toArraysOf(a: ReturnType<typeof randomArrays>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, Array.from(v.values)]));
}

describe('createOptimizer', () => {
  const txs: [string, () => GradientTransformation][] = [
    ['adam (fused, in place)', () => gx.adam(0.01)],
    [
      'clip + adamw + schedule',
      () =>
        chain(
          gx.clipByGlobalNorm(1),
          gx.adamw((c: number) => 0.01 * Math.min(1, (c + 1) / 5), { weightDecay: 0.1 }),
        ),
    ],
    [
      'a chain with a non-fusible stage',
      () =>
        chain(
          gx.scaleByAdam(),
          statelessWithTreeMap((u) => tf.clipByValue(u, -0.5, 0.5)),
          gx.scale(-0.1),
        ),
    ],
    ['a non-fusible transformation', () => gx.scaleByNovograd()],
  ];
  for (const [label, make] of txs) {
    for (const [mode, options] of [
      ['fused', {}],
      ['fused, not in place', { inPlace: false }],
      ['reference path', { fused: false }],
    ] as const) {
      for (const variables of [false, true]) {
        it(`${label}, ${mode}, ${variables ? 'Variables' : 'tensors'}: matches the reference loop, flat tf.memory() over 20 steps`, () => {
          const n0 = tf.memory().numTensors;
          const { opt, out, counts, init, ref } = runOptimizer(make(), 20, options, variables);
          expect(new Set(counts.slice(1)).size, `numTensors per step: ${counts.join(', ')}`).toBe(1);
          expectTracesClose(out, ref(), `${label} ${mode}`, EXACT);
          if (variables) {
            // the same Variable objects, holding the new values
            const leaves = treeLeaves(opt.params);
            treeLeaves(init).forEach((v, i) => {
              expect(leaves[i]).toBe(v);
            });
            expect(leaves.every((v) => v instanceof tf.Variable)).toBe(true);
          }
          const p = opt.params;
          opt.dispose();
          disposeAll(p);
          expect(tf.memory().numTensors).toBe(n0);
        });
      }
    }
  }

  it('runs in place: the same tensors step after step, on the fast path', () => {
    const opt = createOptimizer(gx.adam(0.1), toTensors(randomArrays(rng(1))));
    const g = toTensors(randomArrays(rng(2)));
    opt.step(g);
    const tensors = () => [...treeLeaves(opt.params), ...treeLeaves(opt.state)].filter(isTensor);
    const before = tensors();
    const fast = fusedStats.fast;
    for (let i = 0; i < 5; i++) opt.step(g);
    expect(fusedStats.fast - fast).toBe(5);
    const after = tensors();
    expect(after.length).toBe(before.length);
    after.forEach((t, i) => {
      expect(t).toBe(before[i]);
    });
    const p = opt.params;
    opt.dispose();
    disposeAll(p, g);
  });

  it('never overwrites a buffer someone else shares (a clone of a param, a variable made from a live tensor)', () => {
    const t = tf.tensor([1, 2, 3]);
    const v = tf.variable(t); // shares t's buffer
    const opt = createOptimizer(gx.sgd(0.5), { v, w: tf.tensor([4, 5]) });
    const g = { v: tf.ones([3]), w: tf.ones([2]) };
    opt.step(g);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([0.5, 1.5, 2.5]);
    opt.step(g);
    const kept = tf.clone((opt.params as { w: tf.Tensor }).w); // now shares w's buffer
    opt.step(g);
    expect(Array.from(kept.dataSync())).toEqual([3, 4]);
    expect(Array.from((opt.params as { w: tf.Tensor }).w.dataSync())).toEqual([2.5, 3.5]);
    opt.step(g);
    expect(Array.from(v.dataSync())).toEqual([-1, 0, 1]);
    const p = opt.params;
    opt.dispose();
    disposeAll(p, g, t, kept);
  });

  it('takes a Variable reassigned between steps into account', () => {
    const v = tf.variable(tf.tensor([1, 2]));
    const opt = createOptimizer(gx.sgd(1), { v });
    const g = { v: tf.ones([2]) };
    opt.step(g);
    opt.step(g);
    v.assign(tf.tensor([10, 20]));
    opt.step(g);
    expect(Array.from(v.dataSync())).toEqual([9, 19]);
    opt.dispose();
    disposeAll(v, g);
  });

  it('raises the usual errors for bad gradients, and after dispose', () => {
    const opt = createOptimizer(gx.adam(0.1), { a: tf.zeros([3]) });
    const g = { a: tf.ones([3]) };
    opt.step(g);
    expect(() => opt.step({ a: tf.ones([4]) })).toThrow(/shape/);
    expect(() => opt.step({ b: g.a })).toThrow(/tree mismatch|missing/);
    opt.step(g);
    expect(opt.state).toMatchObject([{ count: 2 }, {}]);
    const p = opt.params;
    opt.dispose();
    expect(() => opt.step(g)).toThrow(/after dispose/);
    expect(() => opt.state).toThrow(/after dispose/);
    expect(Array.from((p as { a: tf.Tensor }).a.dataSync()).length).toBe(3);
    disposeAll(p, g);
  });

  it('rejects a non-transformation', () => {
    expect(() => createOptimizer({} as never, {})).toThrow(/createOptimizer.*gradient transformation/);
  });

  it('passes extraArgs to the transformation', () => {
    const seen: unknown[] = [];
    const tx: GradientTransformation = {
      init: () => ({}),
      update: (u, s, _p, extra) => {
        seen.push(extra);
        return [gx.treeMap((x: tf.Tensor) => tf.neg(x), u), s];
      },
    };
    const opt = createOptimizer(tx, { a: tf.zeros([2]) });
    const g = { a: tf.ones([2]) };
    opt.step(g, { loss: 3 });
    expect(seen).toEqual([{ loss: 3 }]);
    expect(Array.from((opt.params as { a: tf.Tensor }).a.dataSync())).toEqual([-1, -1]);
    const p = opt.params;
    opt.dispose();
    disposeAll(p, g);
  });
});
