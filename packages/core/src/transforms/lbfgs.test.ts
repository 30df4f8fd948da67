import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { Params } from '../base.js';
import { createOptimizer } from '../optimizer.js';
import { disposeTree, t } from '../test-utils/index.js';
import { treeNorm } from '../tree-utils.js';
import { applyUpdates } from '../update.js';
import { lbfgs, scaleByLbfgs } from './lbfgs.js';
import { valueAndGradFromState } from './value-and-grad.js';
import { scaleByZoomLinesearch } from './zoom-linesearch.js';

// Step-by-step values against optax: conformance/optax-linesearch.test.ts.

const rosenbrock = (p: Params): tf.Tensor =>
  tf.tidy(() => {
    const [x, y] = tf.unstack(p as tf.Tensor);
    return tf.add(tf.square(tf.sub(1, x as tf.Tensor)), tf.mul(100, tf.square(tf.sub(y as tf.Tensor, tf.square(x as tf.Tensor)))));
  });

function valueAt(params: Params): number {
  const v = rosenbrock(params);
  const out = v.dataSync()[0] as number;
  v.dispose();
  return out;
}

/** Runs lbfgs with valueAndGradFromState until ‖∇f‖ < 1e-5 (as optax's tests stop), at most 500 steps. */
function solve(start: number[]): { params: number[]; value: number; steps: number } {
  const tx = lbfgs();
  const valueAndGrad = valueAndGradFromState(rosenbrock);
  let params: Params = t(start);
  let state = tx.init(params);
  let steps = 0;
  for (; steps < 500; steps++) {
    const [value, grad] = valueAndGrad(params, state);
    const norm = treeNorm(grad);
    const small = (norm.dataSync()[0] as number) < 1e-5;
    norm.dispose();
    if (!small) {
      const [u, next] = tx.update(grad, state, params, { value, grad, valueFn: rosenbrock });
      const p: Params = applyUpdates(params, u);
      disposeTree([u, state, params]);
      state = next;
      params = p;
    }
    disposeTree([value, grad]);
    if (small) break;
  }
  const out = { params: Array.from((params as tf.Tensor).dataSync()), value: valueAt(params), steps };
  disposeTree([params, state]);
  return out;
}

describe('lbfgs', () => {
  it('with the zoom line search reaches the Rosenbrock minimum to 1e-6 (as optax 0.2.8: 18 and 36 steps), leaking nothing', () => {
    const before = tf.memory().numTensors;
    for (const start of [
      [0, 0],
      [-1.2, 1],
    ]) {
      const { params, value, steps } = solve(start);
      for (const x of params) expect(Math.abs(x - 1)).toBeLessThanOrEqual(1e-6);
      expect(value).toBeLessThanOrEqual(1e-6);
      expect(steps).toBeLessThan(60);
    }
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  });

  it('missing extra arguments are errors naming them', () => {
    const tx = lbfgs();
    const p = t([0, 0]);
    const s = tx.init(p);
    expect(() => tx.update(p, s, p)).toThrow(/scaleByZoomLinesearch: this transformation needs the extra argument `value`/);
    expect(() => tx.update(p, s, p, { value: 1, grad: p })).toThrow(/the extra argument `valueFn`/);
    expect(() => tx.update(p, s)).toThrow(/scaleByLbfgs: this transformation needs `params`/);
    expect(() => scaleByLbfgs({ memorySize: 0 })).toThrow(/`memorySize` must be an integer >= 1/);
    expect(() => scaleByZoomLinesearch({} as never)).toThrow(/`maxLinesearchSteps` must be an integer >= 1, got undefined/);
    expect(() => scaleByZoomLinesearch(0)).toThrow(/`maxLinesearchSteps` must be an integer >= 1, got 0/);
    expect(() => scaleByZoomLinesearch(5, { maxLinesearchSteps: 3 } as never)).not.toThrow();
    expect(() => lbfgs(null, { memory_size: 3 } as never)).toThrow(/lbfgs: unknown option `memory_size`/);
    disposeTree([p, s]);
  });

  it('runs through createOptimizer with opt.step(grads, { value, grad, valueFn })', () => {
    const opt = createOptimizer(lbfgs(), t([-1.2, 1]));
    const valueAndGrad = valueAndGradFromState(rosenbrock);
    for (let i = 0; i < 40; i++) {
      const [value, grad] = valueAndGrad(opt.params, opt.state);
      opt.step(grad, { value, grad, valueFn: rosenbrock });
      disposeTree([value, grad]);
    }
    for (const x of (opt.params as tf.Tensor).dataSync()) expect(Math.abs(x - 1)).toBeLessThanOrEqual(1e-6);
    const p = opt.params;
    opt.dispose();
    disposeTree(p);
  });
});
