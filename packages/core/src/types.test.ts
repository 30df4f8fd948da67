// Compile-time tests: the types users see (checked by `tsc` in typecheck; vitest runs the assertions too).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expectTypeOf, it } from 'vitest';
import { adagrad, adam, adamw, amsgrad, lion } from './aliases.js';
import type { Params } from './base.js';
import { chain } from './combine.js';
import { createOptimizer } from './optimizer.js';
import { scaleByAdam } from './transforms/adam.js';
import { clipByGlobalNorm } from './transforms/clipping.js';
import { ema, trace } from './transforms/momentum.js';
import { scaleByRms } from './transforms/rms.js';
import { applyUpdates } from './update.js';

describe('types', () => {
  it('createOptimizer keeps the params type and types the state of adam, adamw and chains', () => {
    const params = { w: tf.variable(tf.zeros([2])), layers: [{ b: tf.variable(tf.zeros([1])) }] };
    const opt = createOptimizer(adam(0.1), params);
    expectTypeOf(opt.params).toEqualTypeOf<typeof params>();
    expectTypeOf(opt.state[0].count).toEqualTypeOf<number>();
    expectTypeOf(opt.state[0].mu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    expectTypeOf(opt.state[0].nu.layers[0].b).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const w = createOptimizer(adamw(0.1), params);
    expectTypeOf(w.state[0].mu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    // @ts-expect-error an adamw state is a tuple of its stages' states: there is no `mu` on it
    w.state.mu;
    const c = createOptimizer(chain(clipByGlobalNorm(1), scaleByAdam()), params);
    expectTypeOf(c.state[1].mu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const l = createOptimizer(lion(1e-4), params);
    expectTypeOf(l.state[0].mu.layers[0].b).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const a = createOptimizer(amsgrad(1e-3), params);
    expectTypeOf(a.state[0].nuMax.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const g = createOptimizer(adagrad(0.1), params);
    expectTypeOf(g.state[0].sumOfSquares.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const m = createOptimizer(chain(trace({ decay: 0.9 }), scaleByRms(), ema(0.9)), params);
    expectTypeOf(m.state[0].trace.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    expectTypeOf(m.state[1].nu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    expectTypeOf(m.state[2].count).toEqualTypeOf<number>();
    // @ts-expect-error a trace state has no `mu`
    m.state[0].mu;
    for (const o of [opt, w, c, l, a, g, m]) o.dispose();
    tf.dispose([params.w, params.layers[0].b]);
  });

  it('applyUpdates keeps the params tree type and reads variables as tensors, also in reassigning loops', () => {
    const params = { w: tf.variable(tf.zeros([2])), layers: [{ b: tf.variable(tf.zeros([1, 1])) }] };
    const u = { w: tf.ones([2]), layers: [{ b: tf.ones([1, 1]) }] };
    const next = applyUpdates(params, u);
    expectTypeOf(next.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    expectTypeOf(next.layers[0].b).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const typed = applyUpdates({ v: tf.zeros([3]) as tf.Tensor1D }, { v: tf.ones([3]) });
    expectTypeOf(typed.v).toEqualTypeOf<tf.Tensor1D>();
    // @ts-expect-error the result holds tensors, not variables (an `any` result would not fail here)
    const asVariables: { w: tf.Variable } = next;
    // @ts-expect-error there is no `x` in the params' tree
    next.x;
    tf.tidy(() => {
      // a reassigning loop over a concrete tree type, through a new variable
      let p = { w: tf.zeros([2]) };
      for (let i = 0; i < 2; i++) {
        const moved = applyUpdates(p, { w: tf.ones([2]) });
        p = moved;
      }
      expectTypeOf(p.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
      // a reassigning loop over the wide Params type, assigned directly
      let q: Params = tf.zeros([2]);
      for (let i = 0; i < 2; i++) q = applyUpdates(q, tf.ones([2]));
    });
    void asVariables;
    tf.dispose([params.w, params.layers[0].b, u.w, u.layers[0].b, next.w, next.layers[0].b, typed.v]);
  });
});
