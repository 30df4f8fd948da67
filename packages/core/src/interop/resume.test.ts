// Resuming runs: a restored state into createOptimizer, params + state in one checkpoint, the Node
// file handler, and models saved with includeOptimizer. Gradients come from the union package.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { adam, sgd } from '../aliases.js';
import { chain } from '../combine.js';
import { nodeFileHandler } from '../node/file-handler.js';
import { createOptimizer } from '../optimizer.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { isTensor, treeLeaves } from '../tree.js';
import { loadState, saveState } from './checkpoint.js';
import { splitOptimizerWeights } from './layers-model.js';
import { asTfOptimizer } from './tf-optimizer.js';
import { loadCheckpoint, loadCheckpointFrom, saveCheckpoint, saveCheckpointTo } from './training-checkpoint.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'gradtx-resume-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const values = (tree: unknown) => treeLeaves(tree).map((t) => (isTensor(t) ? Array.from(t.dataSync()) : t));
const target = tf.tensor1d([1, -1, 0.5]);
const loss = (p: { w: tf.Tensor }) => p.w.sub(target).square().sum() as tf.Scalar;
const tx = () => chain(clipByGlobalNorm(1), adam(0.05));

/** Runs `steps` minimize steps from fixed params; returns the optimizer. */
function trained(steps: number) {
  const opt = createOptimizer(tx(), { w: tf.variable(tf.tensor1d([3, 2, -2])) });
  for (let i = 0; i < steps; i++) opt.minimize(loss);
  return opt;
}

describe('createOptimizer({ state })', () => {
  it('resumes bit-exactly from a restored state: 3 + 3 steps equal 6 steps', async () => {
    const straight = trained(6);
    const first = trained(3);
    const artifacts = await saveState(first.state);
    const params = { w: tf.variable(first.params.w.clone()) };
    const resumed = createOptimizer(tx(), params, { state: loadState(artifacts, tx(), params) });
    for (let i = 0; i < 3; i++) resumed.minimize(loss);
    expect(values(resumed.params)).toEqual(values(straight.params));
    expect(values(resumed.state)).toEqual(values(straight.state));
    for (const o of [straight, first, resumed]) {
      o.dispose();
      o.params.w.dispose();
    }
  });

  it('refuses a state that does not fit tx.init(params), naming the path, with nothing leaked', () => {
    const params = { w: tf.variable(tf.zeros([3])) };
    const wrongShape = adam(0.1).init({ w: tf.zeros([4]) });
    const before = tf.memory().numTensors;
    expect(() => createOptimizer(adam(0.1), params, { state: wrongShape })).toThrow(
      /createOptimizer: the given `state` has `\[0\]\.mu\.w` of shape \[4\] but tx\.init\(params\) expect/,
    );
    expect(() => createOptimizer(adam(0.1), params, { state: sgd(0.1).init(params) })).toThrow(/createOptimizer: the given `state`/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(treeLeaves(wrongShape).filter(isTensor));
    params.w.dispose();
  });
});

describe('saveCheckpoint / loadCheckpoint', () => {
  it('saves params and state together and resumes bit-exactly, as new tensors or into variables', async () => {
    const straight = trained(6);
    const first = trained(3);
    const artifacts = await saveCheckpoint(first);
    const fresh = loadCheckpoint<unknown, { w: tf.Tensor }>(artifacts, tx());
    expect(values(fresh.params)).toEqual(values(first.params));
    const into = { w: tf.variable(tf.zeros([3])) };
    const before = tf.memory().numTensors;
    const restored = loadCheckpoint(artifacts, tx(), into);
    expect(restored.params.w).toBe(into.w);
    expect(tf.memory().numTensors - before).toBe(treeLeaves(restored.state).filter(isTensor).length);
    const resumed = createOptimizer(tx(), restored.params, { state: restored.state });
    for (let i = 0; i < 3; i++) resumed.minimize(loss);
    expect(values(resumed.params)).toEqual(values(straight.params));
    expect(values(resumed.state)).toEqual(values(straight.state));
    tf.dispose([...treeLeaves(fresh.state), fresh.params.w].filter(isTensor));
    for (const o of [straight, first, resumed]) {
      o.dispose();
      o.params.w.dispose();
    }
  });

  it('refuses params of another shape and artifacts that are a state alone, leak-free', async () => {
    const first = trained(1);
    const artifacts = await saveCheckpoint(first);
    const other = { w: tf.variable(tf.zeros([5])) };
    const before = tf.memory().numTensors;
    expect(() => loadCheckpoint(artifacts, tx(), other)).toThrow(/`params\.w` of shape \[3\] but .* expect \[5\]/);
    const stateOnly = await saveState(first.state);
    expect(() => loadCheckpoint(stateOnly, tx())).toThrow(/loadCheckpoint: these artifacts are not a checkpoint of params and state/);
    expect(tf.memory().numTensors).toBe(before);
    other.w.dispose();
    first.dispose();
    first.params.w.dispose();
  });
});

describe('nodeFileHandler', () => {
  it('writes model.json + weights.bin and a run resumes from them bit-exactly', async () => {
    const dir = tempDir();
    const straight = trained(4);
    const first = trained(2);
    await saveCheckpointTo(first, nodeFileHandler(dir));
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    expect(json.modelTopology.format).toBe('gradtx-state');
    const { params, state } = await loadCheckpointFrom<unknown, { w: tf.Tensor }>(nodeFileHandler(dir), tx());
    const resumed = createOptimizer(tx(), params, { state });
    for (let i = 0; i < 2; i++) resumed.minimize(loss);
    expect(values(resumed.params)).toEqual(values(straight.params));
    for (const o of [straight, first, resumed]) {
      o.dispose();
      o.params.w.dispose();
    }
  });

  it('names a missing folder', async () => {
    await expect(nodeFileHandler(join(tempDir(), 'nothing')).load?.()).rejects.toThrow(/nodeFileHandler: cannot read .*model\.json/);
  });
});

describe('a LayersModel saved with includeOptimizer: true', () => {
  const makeModel = () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], kernelInitializer: 'ones' })] });
    return model;
  };
  const x = tf.tensor2d([
    [1, 2, 3],
    [0, -1, 1],
  ]);
  const y = tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);

  it('tf.loadLayersModel alone cannot rebuild the gradtx optimizer; splitOptimizerWeights loads and resumes exactly', async () => {
    const dir = tempDir();
    const train = async (model: tf.LayersModel, epochs: number) => {
      await model.fit(x, y, { epochs, batchSize: 2, shuffle: false, verbose: 0 });
    };
    const straight = makeModel();
    straight.compile({ optimizer: asTfOptimizer(adam(0.1)), loss: 'meanSquaredError' });
    await train(straight, 4);

    const first = makeModel();
    first.compile({ optimizer: asTfOptimizer(adam(0.1)), loss: 'meanSquaredError' });
    await train(first, 2);
    await first.save(nodeFileHandler(dir), { includeOptimizer: true });
    await expect(tf.loadLayersModel(nodeFileHandler(dir))).rejects.toThrow(/cannot be rebuilt from a saved config/);

    const saved = splitOptimizerWeights(nodeFileHandler(dir));
    const model = await tf.loadLayersModel(saved.model);
    const optimizer = asTfOptimizer(adam(0.1));
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const weights = await saved.optimizerWeights();
    await optimizer.setWeights(weights);
    tf.dispose(weights.map((w) => w.tensor));
    await train(model, 2);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(straight.getWeights().map((w) => Array.from(w.dataSync())));
    for (const m of [straight, first, model]) {
      m.optimizer.dispose();
      m.dispose();
    }
  });

  it('says so when the saved model has no optimizer weights', async () => {
    const dir = tempDir();
    const m = makeModel();
    await m.save(nodeFileHandler(dir));
    await expect(splitOptimizerWeights(nodeFileHandler(dir)).optimizerWeights()).rejects.toThrow(/holds no optimizer weights/);
    m.dispose();
  });
});
