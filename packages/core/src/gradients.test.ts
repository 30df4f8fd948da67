// Gradients need the gradient functions that the union package registers.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { adam, sgd } from './aliases.js';
import { valueAndGrad } from './gradients.js';
import { createOptimizer } from './optimizer.js';

const quadratic = (p: { w: tf.Tensor; b: tf.Tensor }) => tf.tidy(() => p.w.square().sum().add(p.b.mul(3)) as tf.Scalar);

describe('valueAndGrad', () => {
  it('returns the loss and the gradients in the params tree, for tensors and variables, leak-free', () => {
    for (const make of [(t: tf.Tensor) => t, (t: tf.Tensor) => tf.variable(t)]) {
      const params = { w: make(tf.tensor1d([1, -2, 3])), b: make(tf.scalar(0.5)) };
      const before = tf.memory().numTensors;
      const { value, grads } = valueAndGrad(quadratic, params);
      expect(tf.memory().numTensors - before).toBe(3);
      expect(value.dataSync()[0]).toBeCloseTo(1 + 4 + 9 + 1.5, 5);
      expect(Array.from(grads.w.dataSync())).toEqual([2, -4, 6]);
      expect(Array.from(grads.b.dataSync())).toEqual([3]);
      tf.dispose([value, grads.w, grads.b, params.w, params.b]);
    }
  });

  it('gives a zero gradient to a leaf the loss does not use, and keeps null leaves', () => {
    const params = { used: tf.scalar(2), unused: tf.tensor1d([1, 2]), none: null };
    const { value, grads } = valueAndGrad((p) => p.used.square() as tf.Scalar, params);
    expect(Array.from(grads.unused.dataSync())).toEqual([0, 0]);
    expect(grads.none).toBeNull();
    tf.dispose([value, grads.used, grads.unused, params.used, params.unused]);
  });

  it('names a loss that is not a scalar tensor, and a missing function', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const before = tf.memory().numTensors;
    expect(() => valueAndGrad((p) => p.w as unknown as tf.Scalar, params)).toThrow(
      /valueAndGrad: `lossFn` must return a scalar tensor \(the loss\), got a float32 tensor of shape \[2\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() => valueAndGrad(42 as never, params)).toThrow(/valueAndGrad: `lossFn` must be a function/);
    params.w.dispose();
  });
});

describe('createOptimizer: minimize and name-keyed gradients', () => {
  it('minimize steps on the gradient and equals a step on valueAndGrad, with a flat tensor count', () => {
    const start = () => ({ w: tf.variable(tf.tensor1d([1, -2, 3])), b: tf.variable(tf.scalar(0.5)) });
    const a = start();
    const b = start();
    const optA = createOptimizer(adam(0.1), a);
    const optB = createOptimizer(adam(0.1), b);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const loss = optA.minimize(quadratic, { returnLoss: true });
      expect(loss).not.toBeNull();
      loss?.dispose();
      const { value, grads } = valueAndGrad(quadratic, optB.params);
      optB.step(grads);
      tf.dispose([value, grads.w, grads.b]);
      expect(optA.minimize(quadratic)).toBeNull();
      const again = valueAndGrad(quadratic, optB.params);
      optB.step(again.grads);
      tf.dispose([again.value, again.grads.w, again.grads.b]);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(Array.from(optA.params.w.dataSync())).toEqual(Array.from(optB.params.w.dataSync()));
    expect(Array.from(a.w.dataSync())).not.toEqual([1, -2, 3]);
    optA.dispose();
    optB.dispose();
    tf.dispose([a.w, a.b, b.w, b.b]);
  });

  it('minimize lowers the loss of a model through its variables (lossFn ignoring its argument)', () => {
    const w = tf.variable(tf.tensor1d([3, -1]));
    const opt = createOptimizer(sgd(0.1), [w]);
    const loss = () =>
      w
        .sub(tf.tensor1d([1, 1]))
        .square()
        .sum() as tf.Scalar;
    const first = opt.minimize(loss, { returnLoss: true }) as tf.Scalar;
    for (let i = 0; i < 20; i++) opt.minimize(loss);
    const last = opt.minimize(loss, { returnLoss: true }) as tf.Scalar;
    expect(last.dataSync()[0]).toBeLessThan(first.dataSync()[0] / 100);
    tf.dispose([first, last, w]);
    opt.dispose();
  });

  it('step accepts the name-keyed map tf.variableGrads returns when the params are variables', () => {
    const params = { w: tf.variable(tf.tensor1d([1, 2]), true, 'w_var'), b: tf.variable(tf.scalar(1), true, 'b_var') };
    const twin = { w: tf.variable(tf.tensor1d([1, 2])), b: tf.variable(tf.scalar(1)) };
    const opt = createOptimizer(adam(0.1), params);
    const ref = createOptimizer(adam(0.1), twin);
    const { value, grads } = tf.variableGrads(() => quadratic(params));
    expect(Object.keys(grads).sort()).toEqual(['b_var', 'w_var']);
    opt.step(grads);
    ref.step({ w: grads.w_var, b: grads.b_var });
    expect(Array.from(params.w.dataSync())).toEqual(Array.from(twin.w.dataSync()));
    expect(Array.from(params.b.dataSync())).toEqual(Array.from(twin.b.dataSync()));
    tf.dispose([value, ...Object.values(grads), params.w, params.b, twin.w, twin.b]);
    opt.dispose();
    ref.dispose();
  });

  it('refuses a name-keyed map whose names do not match, naming both sides', () => {
    const params = { w: tf.variable(tf.tensor1d([1, 2]), true, 'w_only') };
    const opt = createOptimizer(sgd(0.1), params);
    const stray = { other_name: tf.tensor1d([1, 1]) };
    expect(() => opt.step(stray)).toThrow(
      /createOptimizer\.step: `grads` is a map of gradients by variable name .* no gradient for 'w_only' \(at `w`\); gradients for names no param variable has: 'other_name'/,
    );
    tf.dispose([stray.other_name, params.w]);
    opt.dispose();
  });

  it('a tree with the wrong structure for tensor params still reports the tree mismatch', () => {
    const params = { w: tf.tensor1d([1, 2]) };
    const opt = createOptimizer(sgd(0.1), params);
    const wrong = { v: tf.tensor1d([1, 1]) };
    expect(() => opt.step(wrong)).toThrow(/tree mismatch/);
    tf.dispose([wrong.v]);
    opt.dispose();
    opt.params.w.dispose();
  });
});
