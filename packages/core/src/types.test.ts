// Compile-time tests: the types users see (checked by `tsc` in typecheck; vitest runs the assertions too).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { adagrad, adam, adamw, amsgrad, lion, rmsprop, sgd } from './aliases.js';
import type { Params } from './base.js';
import { chain } from './combine.js';
import { createOptimizer } from './optimizer.js';
import { scaleByAdam, scaleByAdamax, scaleByAMSGrad, scaleByRAdam } from './transforms/adam.js';
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

  it('sgd and rmsprop type their states, with and without momentum', () => {
    const params = { w: tf.variable(tf.zeros([2])) };
    const plain = createOptimizer(sgd(0.1), params);
    expectTypeOf(plain.state[0]).toEqualTypeOf<Record<string, never>>();
    expectTypeOf(plain.state[1].count).toEqualTypeOf<number | undefined>();
    const heavy = createOptimizer(sgd(0.1, { momentum: 0.9, nesterov: true }), params);
    expectTypeOf(heavy.state[0].trace.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    // @ts-expect-error without momentum the first stage is identity's empty state
    void (() => plain.state[0].trace.w);
    const rms = createOptimizer(rmsprop(1e-3), params);
    expectTypeOf(rms.state[0].nu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    const rmsMomentum = createOptimizer(rmsprop(1e-3, { momentum: 0.9 }), params);
    expectTypeOf(rmsMomentum.state[2].trace.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    // @ts-expect-error a misspelt option is a type error, as it is a run-time error
    expect(() => sgd(0.1, { momentun: 0.9 })).toThrow(/unknown option `momentun`/);
    for (const o of [plain, heavy, rms, rmsMomentum]) o.dispose();
    params.w.dispose();
  });

  it('packed (low-memory) slots are typed as what they hold: codes and block scales with the params structure', () => {
    const params = { w: tf.variable(tf.zeros([6])), b: tf.variable(tf.zeros([1, 3])) };
    const q = createOptimizer(adam(1e-3, { muDtype: 'int8', nuDtype: 'bfloat16' }), params);
    const mu = q.state[0].mu;
    expectTypeOf(mu.dtype).toEqualTypeOf<'int8'>();
    expectTypeOf(mu.blockSize).toEqualTypeOf<number>();
    expectTypeOf(mu.codes.w).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(mu.scales.b).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(q.state[0].nu.codes.b).toEqualTypeOf<tf.Tensor1D>();
    // @ts-expect-error an int8 moment is not a tree of the params' tensors
    mu.w;
    // @ts-expect-error a 16-bit slot has no block scales
    q.state[0].nu.scales;
    // the types say what the state holds at run time
    expect(mu.dtype).toBe('int8');
    expect(mu.codes.w.rank).toBe(1);
    expect(mu.codes.w.dtype).toBe('int32');
    expect(mu.scales.w.dtype).toBe('float32');
    expect(q.state[0].nu.dtype).toBe('bfloat16');
    expect(q.state[0].nu.codes.b.size).toBe(2); // three 16-bit codes in two int32 words
    const t = createOptimizer(
      chain(trace({ decay: 0.9, accumulatorDtype: 'float16' }), ema(0.9), lion(1e-4, { muDtype: 'bfloat16' })),
      params,
    );
    expectTypeOf(t.state[0].trace.codes.w).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(t.state[1].ema.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    expectTypeOf(t.state[2][0].mu.dtype).toEqualTypeOf<'bfloat16' | 'float16'>();
    expect(t.state[0].trace.dtype).toBe('float16');
    const h = createOptimizer(sgd(0.1, { momentum: 0.9, accumulatorDtype: 'int8' }), params);
    expectTypeOf(h.state[0].trace.scales.w).toEqualTypeOf<tf.Tensor1D>();
    for (const o of [q, t, h]) o.dispose();
    tf.dispose([params.w, params.b]);
  });

  it('the Adam-family transforms type their packed moments too, not only the aliases', () => {
    const params = { w: tf.variable(tf.zeros([6])) };
    const a = createOptimizer(scaleByAdam({ nuDtype: 'int8' }), params);
    expectTypeOf(a.state.nu.scales.w).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(a.state.mu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    // @ts-expect-error an int8 second moment is not a tree of the params' tensors
    a.state.nu.w;
    const m = createOptimizer(scaleByAMSGrad({ nuDtype: 'float16' }), params);
    expectTypeOf(m.state.nuMax.dtype).toEqualTypeOf<'bfloat16' | 'float16'>();
    const x = createOptimizer(chain(scaleByAdamax({ muDtype: 'bfloat16' }), scaleByRAdam()), params);
    expectTypeOf(x.state[0].mu.codes.w).toEqualTypeOf<tf.Tensor1D>();
    expectTypeOf(x.state[1].nu.w).toEqualTypeOf<tf.Tensor<tf.Rank>>();
    // @ts-expect-error a misspelt option of a transform is a type error, as it is a run-time error
    expect(() => scaleByAdam({ beta1: 0.5 })).toThrow(/unknown option `beta1`/);
    // the types say what the state holds at run time
    expect(a.state.nu.dtype).toBe('int8');
    expect(m.state.nuMax.dtype).toBe('float16');
    expect(x.state[0].mu.dtype).toBe('bfloat16');
    for (const o of [a, m, x]) o.dispose();
    params.w.dispose();
  });
});
