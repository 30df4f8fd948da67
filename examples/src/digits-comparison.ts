/**
 * The comparisons of the Adam paper (Kingma & Ba, 2015, sections 6.1–6.2:
 * logistic regression and a multilayer network on MNIST), redone on the
 * small UCI digits set: Adam, AdamW, SGD with Nesterov momentum, AdaGrad and
 * RMSProp, each with a learning rate picked from a grid by final training
 * loss (see {@link OPTIMIZERS}), training loss on the whole training set
 * after every epoch and test accuracy at the end.
 *
 * Every run starts from the same initial params and sees the minibatches in
 * the same order, so the curves differ only by the optimizer.
 */
import { adagrad, adam, adamw, type GradientTransformation, type Params, rmsprop, sgd, treeFlatten, treeUnflatten } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { CLASSES, type DigitsSplit, FEATURES, loadDigits, mulberry32 } from './digits.js';
import { PureLoop } from './loop.js';
import { lineChart, PALETTE } from './plot.js';
import { normalRng, permutation } from './random.js';

/** The two models of the comparison. */
export type ModelKind = 'logreg' | 'mlp';

/** A model: how to make its params and how to compute its logits. */
export interface Model {
  kind: ModelKind;
  title: string;
  init(seed: number): Params;
  logits(params: Params, x: tf.Tensor2D): tf.Tensor2D;
}

/** A dense layer's params. */
interface Dense {
  w: tf.Tensor2D;
  b: tf.Tensor1D;
}

/** He-normal weights (std sqrt(2 / fanIn)) from a seeded generator, zero biases. */
function denseInit(fanIn: number, fanOut: number, normal: () => number): Dense {
  const std = Math.sqrt(2 / fanIn);
  return {
    w: tf.tensor2d(
      Float32Array.from({ length: fanIn * fanOut }, () => std * normal()),
      [fanIn, fanOut],
    ),
    b: tf.zeros([fanOut]),
  };
}

/** Multinomial logistic regression, 64 → 10, from zero weights. */
export const LOGREG: Model = {
  kind: 'logreg',
  title: 'logistic regression (64 → 10)',
  init: () => ({ w: tf.zeros([FEATURES, CLASSES]), b: tf.zeros([CLASSES]) }),
  logits: (params, x) => {
    const p = params as unknown as Dense;
    return tf.add(tf.matMul(x, p.w), p.b);
  },
};

/** The hidden widths of the multilayer network. */
export const MLP_HIDDEN = [100, 100] as const;

/** A multilayer network 64 → hidden → 10 with ReLU, params as `{ layers: [{ w, b }, ...] }`. */
export function mlp(hidden: readonly number[], kind: ModelKind = 'mlp'): Model {
  return {
    kind,
    title: `${hidden.length === 2 ? 'two' : hidden.length}-layer MLP (64 → ${hidden.join(' → ')} → 10, ReLU)`,
    init: (seed) => {
      const normal = normalRng(seed);
      const sizes = [FEATURES, ...hidden, CLASSES];
      return { layers: sizes.slice(1).map((out, i) => denseInit(sizes[i] as number, out, normal)) } as unknown as Params;
    },
    logits: (params, x) => {
      const layers = (params as unknown as { layers: Dense[] }).layers;
      let h: tf.Tensor2D = x;
      layers.forEach((l, i) => {
        const z = tf.add(tf.matMul(h, l.w), l.b) as tf.Tensor2D;
        h = i < layers.length - 1 ? tf.relu(z) : z;
      });
      return h;
    },
  };
}

/** A multilayer network 64 → 100 → 100 → 10 with ReLU. */
export const MLP: Model = mlp(MLP_HIDDEN);

/** An optimizer of the comparison: its name and a factory, given the model. */
export interface OptimizerEntry {
  name: string;
  /** The learning rate per model, picked from the grid below. */
  lr: Record<ModelKind, number>;
  make(lr: number): GradientTransformation;
  /** How the transformation is built, for the printout and the docs. */
  code: string;
}

/**
 * The optimizers and their learning rates. Each rate is the best by final
 * training loss (30 epochs, batch 128, wasm backend) on the grid
 * {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1}, found with
 * {@link tuneLearningRates} and written down here so the example trains
 * once per optimizer. On logistic regression, which is nearly separable on
 * this data, SGD and AdaGrad would take an even larger rate.
 */
export const OPTIMIZERS: OptimizerEntry[] = [
  { name: 'Adam', lr: { logreg: 0.3, mlp: 0.03 }, make: (lr) => adam(lr), code: 'adam(lr)' },
  {
    name: 'AdamW',
    lr: { logreg: 0.1, mlp: 0.03 },
    make: (lr) => adamw(lr, { weightDecay: 1e-2 }),
    code: 'adamw(lr, { weightDecay: 1e-2 })',
  },
  {
    name: 'SGD Nesterov',
    lr: { logreg: 1, mlp: 0.3 },
    make: (lr) => sgd(lr, { momentum: 0.9, nesterov: true }),
    code: 'sgd(lr, { momentum: 0.9, nesterov: true })',
  },
  { name: 'AdaGrad', lr: { logreg: 1, mlp: 0.3 }, make: (lr) => adagrad(lr), code: 'adagrad(lr)' },
  { name: 'RMSProp', lr: { logreg: 0.03, mlp: 0.01 }, make: (lr) => rmsprop(lr), code: 'rmsprop(lr)' },
];

/** Tensors of one split: features, one-hot targets, labels. */
interface SplitTensors {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  labels: tf.Tensor1D;
  count: number;
}

function toTensors(s: DigitsSplit): SplitTensors {
  const labels = tf.tensor1d(s.y, 'int32');
  const y = tf.tidy(() => tf.oneHot(labels, CLASSES).toFloat() as tf.Tensor2D);
  return { x: tf.tensor2d(s.x, [s.count, FEATURES]), y, labels, count: s.count };
}

/** Mean softmax cross-entropy of `model` at `params` on a whole split. */
function meanLoss(model: Model, params: Params, s: SplitTensors): number {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(s.y, model.logits(params, s.x)).dataSync()[0] as number);
}

/** Accuracy of `model` at `params` on a whole split. */
function accuracy(model: Model, params: Params, s: SplitTensors): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.logits(params, s.x), 1), s.labels), 'float32')).dataSync()[0] as number);
}

/** One training run's record. */
export interface TrainRun {
  name: string;
  lr: number;
  /** Training loss on the whole training set before training (index 0) and after each epoch. */
  trainLoss: number[];
  /**
   * Per epoch, the mean of its minibatches' losses (each taken before that
   * minibatch's step): the training loss over the epoch, which covers the
   * whole training set once. `epochLoss[e - 1]` is epoch `e`'s.
   */
  epochLoss: number[];
  testAccuracy: number;
  seconds: number;
}

/** Options of {@link train} and {@link runDigitsComparison}. */
export interface TrainOptions {
  /** Number of epochs (default 30). */
  epochs?: number;
  /** Minibatch size (default 128, as in the Adam paper). */
  batch?: number;
  /** Seed of the initial params and of the minibatch order (default 0). */
  seed?: number;
  /**
   * The params to measure the loss and accuracy at, given the optimizer state
   * and the trained params, as new tensors (default: the trained params
   * themselves; schedule-free methods evaluate at `scheduleFreeEvalParams`).
   */
  evalParams?: (state: unknown, params: Params) => Params;
}

/** Trains `model` with `tx` on `data` and records the losses per epoch. */
export function train(
  model: Model,
  name: string,
  lr: number,
  tx: GradientTransformation,
  data: { train: SplitTensors; test: SplitTensors },
  options: TrainOptions = {},
): TrainRun {
  const epochs = options.epochs ?? 30;
  const batch = options.batch ?? 128;
  const seed = options.seed ?? 0;
  const started = performance.now();
  const loop = new PureLoop(tx, model.init(seed));
  const measure = <T>(f: (params: Params) => T): T => {
    if (options.evalParams === undefined) return f(loop.params);
    const at = options.evalParams(loop.state, loop.params);
    const out = f(at);
    tf.dispose(at as unknown as tf.TensorContainer);
    return out;
  };
  const run: TrainRun = {
    name,
    lr,
    trainLoss: [measure((p) => meanLoss(model, p, data.train))],
    epochLoss: [],
    testAccuracy: 0,
    seconds: 0,
  };
  const order = mulberry32(seed + 1);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const perm = permutation(data.train.count, order);
    let summed = 0;
    for (let start = 0; start < data.train.count; start += batch) {
      const idx = tf.tensor1d(perm.subarray(start, start + batch), 'int32');
      const xb = tf.gather(data.train.x, idx) as tf.Tensor2D;
      const yb = tf.gather(data.train.y, idx) as tf.Tensor2D;
      const { leaves, treedef } = treeFlatten<tf.Tensor>(loop.params);
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) =>
        tf.losses.softmaxCrossEntropy(yb, model.logits(treeUnflatten<Params>(treedef, ps), xb)),
      )(leaves);
      loop.step(treeUnflatten<Params>(treedef, grads));
      summed += (value.dataSync()[0] as number) * idx.size;
      tf.dispose([idx, xb, yb, value, ...grads]);
    }
    run.epochLoss.push(summed / data.train.count);
    run.trainLoss.push(measure((p) => meanLoss(model, p, data.train)));
  }
  run.testAccuracy = measure((p) => accuracy(model, p, data.test));
  loop.dispose();
  run.seconds = (performance.now() - started) / 1000;
  return run;
}

/** The digits data as tensors (the split of `loadDigits(0)`, as in the main demo). */
export function digitsTensors(): { train: SplitTensors; test: SplitTensors; dispose(): void } {
  const { train, test } = loadDigits(0);
  const t = { train: toTensors(train), test: toTensors(test) };
  return { ...t, dispose: () => tf.dispose([t.train.x, t.train.y, t.train.labels, t.test.x, t.test.y, t.test.labels]) };
}

/** Trains every optimizer of `optimizers` on `model`. */
export function runDigitsComparison(
  model: Model,
  options: TrainOptions & { optimizers?: OptimizerEntry[]; onRun?: (run: TrainRun) => void } = {},
): TrainRun[] {
  const data = digitsTensors();
  const runs = (options.optimizers ?? OPTIMIZERS).map((o) => {
    const lr = o.lr[model.kind];
    const run = train(model, o.name, lr, o.make(lr), data, options);
    options.onRun?.(run);
    return run;
  });
  data.dispose();
  return runs;
}

/**
 * Picks each optimizer's learning rate for `model` from `grid` by final
 * training loss (how {@link OPTIMIZERS}' rates were found).
 */
export function tuneLearningRates(
  model: Model,
  grid: number[],
  options: TrainOptions = {},
): Record<string, { lr: number; loss: number }[]> {
  const data = digitsTensors();
  const out: Record<string, { lr: number; loss: number }[]> = {};
  for (const o of OPTIMIZERS) {
    out[o.name] = grid.map((lr) => ({ lr, loss: train(model, o.name, lr, o.make(lr), data, options).trainLoss.at(-1) as number }));
  }
  data.dispose();
  return out;
}

/** The training-loss chart of one model's runs. */
export function digitsChart(model: Model, runs: TrainRun[], batch = 128): string {
  return lineChart({
    title: `Digits, ${model.title}: training loss`,
    subtitle: `UCI digits, 1438 training images, minibatch ${batch}; learning rates from a grid; same init and batch order`,
    xLabel: 'epoch',
    yLabel: 'training loss (whole training set)',
    logY: true,
    legend: 'outside',
    series: runs.map((r, i) => ({
      name: `${r.name} (lr ${r.lr})`,
      x: r.trainLoss.map((_, e) => e),
      y: r.trainLoss,
      color: PALETTE[i % PALETTE.length],
      dashed: r.name === 'AdamW',
    })),
  });
}
