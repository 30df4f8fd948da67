import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { adam, sgd } from '../aliases.js';
import { injectHyperparams } from '../combinators/inject-hyperparams.js';
import { chain } from '../combine.js';
import { createOptimizer } from '../optimizer.js';
import type { StepReport } from '../step-report.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { scale } from '../transforms/scaling.js';
import { stepLogs } from './fit-logs.js';
import { asTfOptimizer } from './tf-optimizer.js';

const schedule = (count: number) => 0.1 / (count + 1);
const GRADS = [
  [3, -4, 0.5],
  [1, 2, -2],
  [0.25, 0, 1],
];
const norm = (g: number[]) => Math.hypot(...g);

function run(tx: Parameters<typeof createOptimizer>[0], fused = true): StepReport[] {
  const reports: StepReport[] = [];
  const opt = createOptimizer(tx, { w: tf.tensor([1, 2, 3]) }, { fused, onStep: (r) => reports.push(r) });
  for (const g of GRADS) {
    const grads = { w: tf.tensor(g) };
    opt.step(grads);
    grads.w.dispose();
  }
  const params = opt.params;
  opt.dispose();
  tf.dispose((params as { w: tf.Tensor }).w);
  return reports;
}

describe('createOptimizer onStep', () => {
  it('reports the step, the learning rate of a schedule at the stage count, the pre-clip norm, the time and the path, leak-free', () => {
    const before = tf.memory().numTensors;
    const reports = run(chain(clipByGlobalNorm(1), adam(schedule)));
    expect(tf.memory().numTensors).toBe(before);
    expect(reports.map((r) => r.step)).toEqual([1, 2, 3]);
    expect(reports.map((r) => r.learningRate)).toEqual([0, 1, 2].map(schedule));
    reports.forEach((r, i) => {
      expect(r.gradNorm).toBeCloseTo(norm(GRADS[i] as number[]), 5); // before clipping to 1
      expect(r.ms).toBeGreaterThanOrEqual(0);
    });
    expect(reports.map((r) => r.path)).toEqual(['fused', 'fast', 'fast']);
    expect(run(sgd(0.5), false).map((r) => [r.learningRate, r.path])).toEqual([
      [0.5, 'reference'],
      [0.5, 'reference'],
      [0.5, 'reference'],
    ]);
  });

  it("reads an injectHyperparams state's learning rate, and says null where there is none", () => {
    const injected = run(injectHyperparams(adam)(schedule));
    expect(injected.map((r) => r.learningRate)).toEqual([0, 1, 2].map((c) => Math.fround(schedule(c))));
    expect(run(scale(-0.1)).map((r) => r.learningRate)).toEqual([null, null, null]);
  });

  it('refuses an onStep that is not a function', () => {
    expect(() => createOptimizer(sgd(0.1), { w: tf.zeros([1]) }, { onStep: 42 as never })).toThrow(
      /createOptimizer: `onStep` must be a function .*got 42/,
    );
    expect(() => asTfOptimizer(sgd(0.1), { onStep: 'x' as never })).toThrow(/asTfOptimizer: `onStep` must be a function/);
  });
});

describe('stepLogs in model.fit', () => {
  it('writes learningRate, gradNorm, stepMs and fusedSteps into the epoch logs (history) and the batch logs', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'ones' })] });
    const logs = stepLogs();
    const optimizer = asTfOptimizer(chain(clipByGlobalNorm(1), adam(schedule)), { onStep: logs.onStep });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const y = tf.tensor2d([1, 0, -1, 2], [4, 1]);
    const batchNorms: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 3,
      batchSize: 2,
      shuffle: false,
      verbose: 0,
      callbacks: [
        logs.callback,
        { onBatchEnd: async (_b: number, l?: tf.NamedTensorMap | Record<string, unknown>) => void batchNorms.push(l?.gradNorm as number) },
      ],
    });
    const h = history.history as Record<string, number[]>;
    // 2 batches per epoch: the last step of epoch e has count 2e + 1
    expect(h.learningRate).toEqual([1, 3, 5].map(schedule));
    expect(h.fusedSteps).toEqual([1, 1, 1]);
    expect(h.gradNorm?.every((n) => Number.isFinite(n) && n > 1)).toBe(true); // pre-clip: the MSE gradients are large here
    expect(h.stepMs?.every((ms) => ms >= 0)).toBe(true);
    expect(batchNorms).toHaveLength(6);
    // each epoch's gradNorm is the mean of its two batches' norms
    for (let e = 0; e < 3; e++) {
      expect(h.gradNorm?.[e]).toBeCloseTo(((batchNorms[2 * e] as number) + (batchNorms[2 * e + 1] as number)) / 2, 4);
    }
    expect(logs.last?.step).toBe(6);
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  });
});
