import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
// Gradients and chained ops, as the @tensorflow/tfjs union package registers them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adam, adamw, sgd } from '../aliases.js';
import type { GradientTransformation } from '../base.js';
import { fusedStats } from '../fused/stats.js';
import { disposeTree } from '../test-utils/index.js';
import { locateWasmFiles } from '../test-utils/wasm.js';
import { formatPath, isTensor, treeLeavesWithPath } from '../tree.js';
import { applyUpdates } from '../update.js';
import { asTfOptimizer, GradtxTfOptimizer, TF_OPTIMIZER_STRUCTURE_WEIGHT } from './tf-optimizer.js';

const ROWS = 500;
const HIDDEN = 16;

/** The first ROWS rows of the UCI digits data: pixels scaled to [0, 1], one-hot labels. */
function loadDigits(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const text = gunzipSync(readFileSync(new URL('../../../../examples/data/digits.csv.gz', import.meta.url))).toString('utf8');
  const lines = text.trim().split('\n').slice(0, ROWS);
  const x = new Float32Array(ROWS * 64);
  const y = new Float32Array(ROWS * 10);
  lines.forEach((line, i) => {
    const v = line.split(',').map(Number);
    for (let j = 0; j < 64; j++) x[i * 64 + j] = (v[j] as number) / 16;
    y[i * 10 + (v[64] as number)] = 1;
  });
  return { x: tf.tensor2d(x, [ROWS, 64]), y: tf.tensor2d(y, [ROWS, 10]) };
}

/** Fixed initial weights (a small deterministic generator), as [kernel1, bias1, kernel2, bias2] arrays. */
function initialWeights(): Float32Array[] {
  let a = 12345;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const fill = (n: number, s: number) => Float32Array.from({ length: n }, () => rand() * s);
  return [fill(64 * HIDDEN, 0.5), fill(HIDDEN, 0.1), fill(HIDDEN * 10, 0.5), fill(10, 0.1)];
}
const SHAPES: number[][] = [[64, HIDDEN], [HIDDEN], [HIDDEN, 10], [10]];

/** A variable with a unique name, without leaking its initial value. */
function variable(make: () => tf.Tensor, name: string): tf.Variable {
  return tf.tidy(() => tf.variable(make(), true, `${name}_${Math.random().toString(36).slice(2)}`));
}

function buildModel(): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: HIDDEN, activation: 'relu', inputShape: [64] }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const init = initialWeights().map((w, i) => tf.tensor(w, SHAPES[i]));
  model.setWeights(init);
  tf.dispose(init);
  return model;
}

/**
 * The same training as model.fit with one full batch per epoch, written as a
 * plain gradtx loop: tf.variableGrads, tx.update, applyUpdates. Returns the
 * loss before each step and the final weights.
 */
function plainLoop(tx: GradientTransformation, x: tf.Tensor, y: tf.Tensor, steps: number): { losses: number[]; weights: number[][] } {
  const names = ['w1', 'b1', 'w2', 'b2'];
  const vars = initialWeights().map((w, i) => variable(() => tf.tensor(w, SHAPES[i]), `plain_${names[i]}`));
  const params: Record<string, tf.Variable> = Object.fromEntries(names.map((n, i) => [n, vars[i] as tf.Variable]));
  const lossFn = () =>
    tf.tidy(() => {
      const h = tf.relu(tf.add(tf.matMul(x, params.w1 as tf.Tensor), params.b1 as tf.Tensor));
      const p = tf.softmax(tf.add(tf.matMul(h, params.w2 as tf.Tensor), params.b2 as tf.Tensor));
      return tf.mean(tfl.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;
    });
  let state = tx.init(params);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    const { value, grads } = tf.variableGrads(lossFn, vars);
    losses.push(value.dataSync()[0] as number);
    const g = Object.fromEntries(names.map((n) => [n, grads[params[n]?.name as string] as tf.Tensor]));
    const [updates, next] = tx.update(g, state, params);
    const newParams = applyUpdates(params, updates) as Record<string, tf.Tensor>;
    for (const n of names) (params[n] as tf.Variable).assign(newParams[n] as tf.Tensor);
    disposeTree([value, grads, updates, newParams, state]);
    state = next;
  }
  const weights = vars.map((v) => Array.from(v.dataSync()));
  disposeTree([state, vars]);
  return { losses, weights };
}

function relClose(actual: readonly number[], expected: readonly number[], rtol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= rtol * Math.abs(e) + 1e-7)) expect.fail(`[${i}]: got ${a}, expected ${e} (rtol ${rtol})`);
  });
}

/**
 * The state's leaves bit for bit, keyed by path with each variable name
 * replaced by its index among the model's trainable weights (two models have
 * different layer names).
 */
function stateBits(tree: unknown, model: tfl.LayersModel): Record<string, unknown> {
  const index = new Map(model.trainableWeights.map((w, i) => [(w.read() as tf.Variable).name, `w${i}`]));
  const out: Record<string, unknown> = {};
  for (const [path, leaf] of treeLeavesWithPath(tree)) {
    const key = formatPath(path.map((k) => (typeof k === 'string' ? (index.get(k) ?? k) : k)));
    out[key] = isTensor(leaf) ? Array.from(new Uint32Array((leaf.dataSync() as Float32Array).slice().buffer)) : leaf;
  }
  return out;
}

describe('asTfOptimizer', () => {
  let x: tf.Tensor2D;
  let y: tf.Tensor2D;
  beforeAll(() => {
    ({ x, y } = loadDigits());
  });
  afterAll(() => tf.dispose([x, y]));

  async function fitModel(model: tfl.Sequential, optimizer: tf.Optimizer, epochs: number, onEpochEnd?: () => void): Promise<number[]> {
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const h = await model.fit(x, y, {
      epochs,
      batchSize: ROWS,
      shuffle: false,
      verbose: 0,
      callbacks: onEpochEnd ? { onEpochEnd } : undefined,
    });
    return h.history.loss as number[];
  }

  it('model.fit with asTfOptimizer(adam) reaches the same losses and weights as a plain gradtx loop', async () => {
    const epochs = 6;
    const model = buildModel();
    const opt = asTfOptimizer(adam(1e-2));
    expect(opt).toBeInstanceOf(tf.Optimizer);
    const losses = await fitModel(model, opt, epochs);
    const plain = plainLoop(adam(1e-2), x, y, epochs);
    relClose(losses, plain.losses, 1e-5);
    expect(losses[epochs - 1]).toBeLessThan((losses[0] as number) - 0.1); // it trains
    for (const [i, w] of model.getWeights().entries()) relClose(Array.from(w.dataSync()), plain.weights[i] as number[], 1e-4);
    expect(opt.iterations).toBe(epochs);
    expect((opt.state as unknown as [{ count: number }])[0].count).toBe(epochs);
    model.dispose();
    opt.dispose();
  });

  it('passes the variables as params, so adamw decays them exactly as the plain loop does', async () => {
    const epochs = 5;
    const make = () => adamw(1e-2, { weightDecay: 0.5 });
    const model = buildModel();
    const opt = asTfOptimizer(make());
    const losses = await fitModel(model, opt, epochs);
    const plain = plainLoop(make(), x, y, epochs);
    relClose(losses, plain.losses, 1e-5);
    for (const [i, w] of model.getWeights().entries()) relClose(Array.from(w.dataSync()), plain.weights[i] as number[], 1e-4);
    // Without params the decay would be missing: adam from the same start ends elsewhere.
    const noDecay = plainLoop(adam(1e-2), x, y, epochs);
    expect(Math.abs((noDecay.weights[0]?.[0] as number) - (plain.weights[0]?.[0] as number))).toBeGreaterThan(1e-4);
    model.dispose();
    opt.dispose();
  });

  it('keeps tf.memory().numTensors flat across epochs once the state exists, and frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const model = buildModel();
    const opt = asTfOptimizer(adam(1e-2));
    const counts: number[] = [];
    await fitModel(model, opt, 5, () => counts.push(tf.memory().numTensors));
    expect(counts.slice(1)).toEqual(Array(4).fill(counts[0]));
    await opt.getWeights();
    model.dispose();
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('getWeights / setWeights carry the whole state: continuing on a new optimizer equals training straight through', async () => {
    const straightModel = buildModel();
    const straightOpt = asTfOptimizer(adam(1e-2));
    const straight = await fitModel(straightModel, straightOpt, 4);

    const model = buildModel();
    const opt1 = asTfOptimizer(adam(1e-2));
    const first = await fitModel(model, opt1, 2);
    const weights = await opt1.getWeights();
    expect(weights[0]?.name).toBe('iter');
    expect(weights[1]?.name).toBe(TF_OPTIMIZER_STRUCTURE_WEIGHT);
    expect(weights.slice(2).map((w) => w.name)).toEqual(
      treeLeavesWithPath(opt1.state)
        .filter(([, l]) => isTensor(l))
        .map(([p]) => `state${formatPath(p).startsWith('[') ? '' : '.'}${formatPath(p)}`),
    );
    // Through bytes, as model.save({ includeOptimizer: true }) and loading would carry them.
    const { data, specs } = await tf.io.encodeWeights(weights, 'optimizer');
    const decoded = tf.io.decodeWeights(data, specs);
    const opt2 = asTfOptimizer(adam(1e-2));
    await opt2.setWeights(specs.map((s) => ({ name: s.name, tensor: decoded[s.name] as tf.Tensor })));
    tf.dispose(Object.values(decoded)); // setWeights copied what it needs
    expect(opt2.iterations).toBe(2);
    expect(stateBits(opt2.state, model)).toEqual(stateBits(opt1.state, model));
    const second = await fitModel(model, opt2, 2);
    relClose([...first, ...second], straight, 1e-6);
    expect(Object.keys(stateBits(opt2.state, model))).toContain('[0].mu.w0');
    expect(stateBits(opt2.state, model)).toEqual(stateBits(straightOpt.state, straightModel));

    // A model built again has new layer names: the state is re-keyed by position, as tfjs's optimizers restore.
    const rebuilt = buildModel();
    const opt3 = asTfOptimizer(adam(1e-2));
    await fitModel(rebuilt, opt3, 1);
    await opt3.setWeights(await opt2.getWeights());
    expect(stateBits(opt3.state, rebuilt)).toEqual(stateBits(opt2.state, model));
    expect(opt3.iterations).toBe(4);

    // A state of another transformation is refused at once by a bound optimizer (and kept out by an unbound one on its first step).
    const other = asTfOptimizer(sgd(1e-2, { momentum: 0.9 }));
    await fitModel(rebuilt, other, 1);
    const before = tf.memory().numTensors;
    await expect(other.setWeights(await opt2.getWeights())).rejects.toThrow(
      "asTfOptimizer(gradtx).setWeights: the weights' state has no `[0].trace` but this transformation and the variables it updates expect an object with keys",
    );
    expect(tf.memory().numTensors).toBe(before); // the copies were disposed; getWeights replaced its two cached tensors
    const unbound = asTfOptimizer(sgd(1e-2, { momentum: 0.9 }));
    await unbound.setWeights(await opt2.getWeights());
    await expect(fitModel(rebuilt, unbound, 1)).rejects.toThrow(/applyGradients: the weights' state has no `\[0\]\.trace`/);
    for (const m of [rebuilt]) m.dispose();
    for (const o of [opt3, other, unbound]) o.dispose();
    for (const m of [straightModel, model]) m.dispose();
    for (const o of [straightOpt, opt1, opt2]) o.dispose();
  });

  it('works with optimizer.minimize and tf.variableGrads names', () => {
    const before = tf.memory().numTensors;
    const w = variable(() => tf.tensor1d([1, -2, 3]), 'minimize_w');
    const opt = asTfOptimizer(sgd(0.1));
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
    // w <- w - 0.1 * 2w, three times: w * 0.8^3
    relClose(Array.from(w.dataSync()), [0.512, -1.024, 1.536], 1e-6);
    opt.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives a missing gradient a zero gradient, as JAX would', () => {
    const a = variable(() => tf.tensor1d([1, 1]), 'zero_a');
    const b = variable(() => tf.tensor1d([5]), 'zero_b');
    const opt = asTfOptimizer(adam(0.1));
    opt.applyGradients({ [a.name]: tf.ones([2]), [b.name]: tf.ones([1]) });
    opt.applyGradients({ [a.name]: tf.ones([2]) }); // b: momentum keeps moving it
    expect(b.dataSync()[0]).toBeLessThan(5 - 0.1 - 0.05);
    opt.dispose();
    tf.dispose([a, b]);
  });

  describe('errors', () => {
    it('rejects what is not a transformation and bad options', () => {
      expect(() => asTfOptimizer({} as never)).toThrow('asTfOptimizer: `tx` is not a gradient transformation');
      expect(() => asTfOptimizer(adam(1), { name: '' })).toThrow('asTfOptimizer: `name` must be a non-empty string');
    });

    it('names unknown variables, wrong shapes, dtypes and a changed set of variables', () => {
      const v = variable(() => tf.zeros([2, 3]), 'err_v');
      const opt = asTfOptimizer(adam(0.1), { name: 'mine' });
      expect(() => opt.applyGradients({ not_a_variable_xyz: tf.zeros([1]) })).toThrow(
        "asTfOptimizer(mine).applyGradients: no variable named 'not_a_variable_xyz' is registered",
      );
      expect(() => opt.applyGradients({ [v.name]: tf.zeros([3, 2]) })).toThrow(
        `asTfOptimizer(mine).applyGradients: the gradient for '${v.name}' has shape [3, 2] but the variable has shape [2, 3]`,
      );
      expect(() => opt.applyGradients({ [v.name]: tf.zeros([2, 3], 'int32') })).toThrow(
        `the gradient for '${v.name}' has dtype int32; it must be float32`,
      );
      expect(() => opt.applyGradients(42 as never)).toThrow(
        'asTfOptimizer(mine).applyGradients: `variableGradients` must map variable names to gradients',
      );
      const w = variable(() => tf.zeros([1]), 'err_w');
      expect(() => opt.applyGradients({ [w.name]: tf.zeros([1]) })).toThrow(
        `got a gradient for the variable '${w.name}', which was not among the variables of the first step`,
      );
      opt.dispose();
      expect(() => opt.applyGradients({ [v.name]: tf.zeros([2, 3]) })).toThrow(
        'asTfOptimizer(mine).applyGradients: this optimizer has been disposed',
      );
      tf.dispose([v, w]);
    });

    it('refuses weights of a tf.train optimizer and cannot be rebuilt from a config', async () => {
      const opt = asTfOptimizer(adam(0.1));
      const scalar = tf.scalar(0, 'int32');
      const m = tf.zeros([2]);
      await expect(
        opt.setWeights([
          { name: 'iter', tensor: scalar },
          { name: 'dense/kernel/m', tensor: m },
        ]),
      ).rejects.toThrow("no 'gradtx/structure' entry, so they are not from a gradtx optimizer");
      tf.dispose([scalar, m]);
      expect(opt.getConfig()).toEqual({ name: 'gradtx' });
      expect(() => GradtxTfOptimizer.fromConfig(GradtxTfOptimizer, { name: 'gradtx' })).toThrow(
        "GradtxOptimizer.fromConfig: the gradtx optimizer 'gradtx' cannot be rebuilt from a saved config",
      );
      // Through tfjs's own loading path: the class is registered, and loading says what to do.
      const model = buildModel();
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      let saved: tf.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          saved = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
        { includeOptimizer: true },
      );
      const config = (saved as tf.io.ModelArtifacts).trainingConfig as tf.io.TrainingConfig;
      expect((config.optimizer_config as { class_name?: string }).class_name).toBe('GradtxOptimizer');
      await expect(tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts))).rejects.toThrow(
        /Pass the optimizer again in code/,
      );
      model.dispose();
      opt.dispose();
    });
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`asTfOptimizer on the fused engine (${backend})`, () => {
    let x: tf.Tensor2D;
    let y: tf.Tensor2D;
    beforeAll(async () => {
      locateWasmFiles();
      await tf.setBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      // tfjs's per-kernel leak check (on under IS_TEST) miscounts the wasm
      // backend's fusedMatMul in any model.fit, tf.train.adam's included; the
      // test counts tensors itself.
      tf.env().set('IS_TEST', backend !== 'wasm');
      ({ x, y } = loadDigits());
    });
    afterAll(async () => {
      tf.dispose([x, y]);
      tf.env().set('IS_TEST', true);
      await tf.setBackend('cpu');
    });

    /** model.fit for `epochs` full-batch epochs; the weights' and the state's bits, and what each path counted. */
    async function trainDigits(fused: boolean, epochs: number) {
      const model = buildModel();
      const opt = asTfOptimizer(adam(1e-2), { fused });
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      const stats = { ...fusedStats };
      const counts: number[] = [];
      await model.fit(x, y, {
        epochs,
        batchSize: ROWS,
        shuffle: false,
        verbose: 0,
        callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
      });
      const ran = {
        fast: fusedStats.fast - stats.fast,
        fused: fusedStats.fused - stats.fused,
        reference: fusedStats.reference - stats.reference,
      };
      const weights = model.getWeights().map((w) => Array.from(new Uint32Array((w.dataSync() as Float32Array).slice().buffer)));
      const state = stateBits(opt.state, model);
      model.dispose();
      opt.dispose();
      return { ran, counts, weights, state };
    }

    it('model.fit steps the variables in place on the fused engine, bit for bit as the reference path, with flat tf.memory()', async () => {
      const epochs = 6;
      const before = tf.memory().numTensors;
      const fused = await trainDigits(true, epochs);
      expect(tf.memory().numTensors).toBe(before);
      const reference = await trainDigits(false, epochs);
      // every step fused; from the second or third on, the replayed in-place step
      expect(fused.ran.reference).toBe(0);
      expect(fused.ran.fused + fused.ran.fast).toBe(epochs);
      expect(fused.ran.fast).toBeGreaterThanOrEqual(epochs - 2);
      expect(reference.ran).toEqual({ fast: 0, fused: 0, reference: epochs });
      expect(fused.counts.slice(1)).toEqual(Array(epochs - 1).fill(fused.counts[0]));
      expect(fused.weights).toEqual(reference.weights);
      expect(fused.state).toEqual(reference.state);
    });
  });
}
