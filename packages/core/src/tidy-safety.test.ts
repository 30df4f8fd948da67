// A training step wrapped in tf.tidy (the common tfjs idiom) must leave the
// optimizer's params and state alive on every path.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { GradientTransformation, Params } from './base.js';
import { setFusedEnabled } from './fused/registry.js';
import { fusedUpdate } from './fused/step.js';
import * as gx from './index.js';
import { createOptimizer, type OptimizerOptions } from './optimizer.js';
import { randomArrays, rng, snapshot, toTensors } from './test-utils/fused.js';
import { isTensor, treeLeaves } from './tree.js';

const STEPS = 3;
const grads = Array.from({ length: STEPS }, (_, i) => randomArrays(rng(20 + i)));

function disposeAll(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
}

/** Params and state after STEPS steps, each in a tf.tidy or not. */
function train(tx: () => GradientTransformation, options: OptimizerOptions, tidy: boolean, shareParam: boolean) {
  const opt = createOptimizer(tx(), toTensors(randomArrays(rng(1))), options);
  const before = tf.memory().numTensors;
  // a user-held clone shares the param's buffer, so the step cannot write it in place
  const held = shareParam ? tf.clone((opt.params as Record<string, tf.Tensor>).a as tf.Tensor) : null;
  for (const g of grads) {
    const gt = toTensors(g);
    if (tidy) tf.tidy(() => opt.step(gt));
    else opt.step(gt);
    disposeAll(gt);
  }
  const out = { params: snapshot(opt.params), state: snapshot(opt.state) };
  held?.dispose();
  const grown = tf.memory().numTensors - before;
  disposeAll(opt.params);
  opt.dispose();
  return { out, grown };
}

const cases: [string, () => GradientTransformation, OptimizerOptions, boolean?][] = [
  ['adam, fused in place', () => gx.adam(0.01), {}],
  ['adam, { fused: false }', () => gx.adam(0.01), { fused: false }],
  ['adam, { inPlace: false }', () => gx.adam(0.01), { inPlace: false }],
  ['adafactor', () => gx.adafactor(0.01), {}],
  ['injectHyperparams(adam)', () => gx.injectHyperparams(gx.adam)(0.01), {}],
  ['applyIfFinite(adam)', () => gx.applyIfFinite(gx.adam(0.01), 3), {}],
  ['multiSteps(adam, 2)', () => gx.multiSteps(gx.adam(0.01), 2), {}],
  ['adam, a param buffer shared with a clone', () => gx.adam(0.01), {}, true],
];

describe('tf.tidy(() => opt.step(g))', () => {
  afterEach(() => setFusedEnabled(true));

  for (const [name, tx, options, share] of cases) {
    it(`keeps the params and state alive: ${name}`, () => {
      const start = tf.memory().numTensors;
      const plain = train(tx, options, false, share === true);
      const tidied = train(tx, options, true, share === true);
      expect(tidied.out).toEqual(plain.out);
      expect(tidied.grown).toBe(plain.grown);
      expect(tf.memory().numTensors).toBe(start);
    });
  }

  it('keeps the params and state alive without a fused device', () => {
    setFusedEnabled(false);
    const start = tf.memory().numTensors;
    const plain = train(() => gx.adamw(0.01), {}, false, false);
    const tidied = train(() => gx.adamw(0.01), {}, true, false);
    expect(tidied.out).toEqual(plain.out);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('fusedUpdate with donation keeps what it returns', () => {
    const start = tf.memory().numTensors;
    const run = (tidy: boolean, fused: boolean) => {
      const tx = gx.chain(gx.clipByGlobalNorm(1), gx.adam(0.01));
      let params: Params = toTensors(randomArrays(rng(1)));
      let state = tx.init(params);
      for (const g of grads) {
        const gt = toTensors(g);
        const step = () => {
          [params, state] = fusedUpdate(tx, gt, state, params, { donate: true, fused });
        };
        if (tidy) tf.tidy(step);
        else step();
        disposeAll(gt);
      }
      const out = { params: snapshot(params), state: snapshot(state) };
      disposeAll(params, state);
      return out;
    };
    expect(run(true, true)).toEqual(run(false, true));
    expect(run(true, false)).toEqual(run(false, false));
    expect(tf.memory().numTensors).toBe(start);
  });

  it('asTfOptimizer keeps its state across an enclosing tidy', () => {
    const start = tf.memory().numTensors;
    const run = (tidy: boolean) => {
      const v = tf.tidy(() => tf.variable(tf.tensor1d([0.5, -1, 2])));
      const opt = gx.asTfOptimizer(gx.adam(0.1));
      for (let i = 0; i < STEPS; i++) {
        const g = tf.tensor1d([0.1 * i, -0.2, 0.3]);
        const step = () => opt.applyGradients({ [v.name]: g });
        if (tidy) tf.tidy(step);
        else step();
        g.dispose();
      }
      const out = { v: Array.from(v.dataSync()), state: snapshot(treeLeaves(opt.state)) };
      opt.dispose();
      v.dispose();
      return out;
    };
    expect(run(true)).toEqual(run(false));
    expect(tf.memory().numTensors).toBe(start);
  });
});
