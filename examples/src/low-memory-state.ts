/**
 * Adam with its moments stored in float32, bfloat16, float16 and block-wise
 * int8, on the digits MLP (and a wider one): for each seed, every storage
 * starts from the same init and sees the same minibatch order at the same
 * learning rate, so the runs of a seed differ only by how the moments are
 * kept between steps. Records, per run, the training loss per epoch, the
 * test accuracy and the optimizer state's bytes per parameter (measured
 * with `tf.memory()` around `tx.init`); {@link summarize} sets each storage
 * against float32 seed by seed, next to float32's own spread over seeds.
 */
import { adam, type GradientTransformation, type Params, partition, type StateDtype, treeLeaves, treeMap } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { digitsTensors, MLP, type Model, mlp, type TrainOptions, type TrainRun, train } from './digits-comparison.js';
import { lineChart, PALETTE } from './plot.js';

/** One storage setting: Adam's first and second moments' dtypes, and a label. */
export interface Storage {
  label: string;
  muDtype: StateDtype;
  nuDtype: StateDtype;
  /**
   * Leaves with fewer elements than this keep both moments in float32 (the
   * rule of bitsandbytes' `min_8bit_size`, default 4096 there); built as a
   * `partition` of two Adams by leaf size. Absent: every leaf as above.
   */
  float32Below?: number;
}

/** The settings compared. */
export const STORAGES: readonly Storage[] = [
  { label: 'float32', muDtype: 'float32', nuDtype: 'float32' },
  { label: 'bfloat16', muDtype: 'bfloat16', nuDtype: 'bfloat16' },
  { label: 'bfloat16 mu, float32 nu', muDtype: 'bfloat16', nuDtype: 'float32' },
  { label: 'float16', muDtype: 'float16', nuDtype: 'float16' },
  { label: 'int8', muDtype: 'int8', nuDtype: 'int8' },
  { label: 'int8, leaves < 4096 float32', muDtype: 'int8', nuDtype: 'int8', float32Below: 4096 },
  { label: 'int8 mu, float32 nu', muDtype: 'int8', nuDtype: 'float32' },
];

/** The larger model of the comparison: 64 → 512 → 512 → 10 (301,066 parameters). */
export const WIDE_MLP: Model = mlp([512, 512]);

/** Adam's default learning rate in optax and PyTorch, the one the comparison is made at. */
export const LEARNING_RATE = 1e-3;

/** Adam at `lr` with its moments stored as `storage` says. */
export function adamStoring(storage: Storage, lr: number = LEARNING_RATE): GradientTransformation {
  const narrow = adam(lr, { muDtype: storage.muDtype, nuDtype: storage.nuDtype });
  const below = storage.float32Below;
  if (below === undefined) return narrow;
  const bySize = (tree: Params) => treeMap((leaf: tf.Tensor) => (leaf.size < below ? 'float32' : 'narrow'), tree) as never;
  return partition({ narrow, float32: adam(lr) }, bySize);
}

/** A run with its storage, seed and the optimizer state's measured size. */
export interface StorageRun extends TrainRun {
  storage: Storage;
  seed: number;
  stateBytesPerParam: number;
}

/** Bytes of `tx`'s state per parameter of `params`, from `tf.memory()` around `tx.init` (the state is freed). */
export function stateBytesPerParam(tx: GradientTransformation, params: Params): number {
  const count = treeLeaves<tf.Tensor>(params).reduce((n, p) => n + p.size, 0);
  const before = tf.memory().numBytes;
  const state = tx.init(params);
  const bytes = tf.memory().numBytes - before;
  tf.dispose(treeLeaves(state).filter((l) => l instanceof tf.Tensor) as tf.Tensor[]);
  return bytes / count;
}

/** Options of {@link runStorageComparison}. */
export interface StorageComparisonOptions extends Omit<TrainOptions, 'seed'> {
  /** The model (default the digits MLP). */
  model?: Model;
  /** The storages (default {@link STORAGES}; the first is the baseline of {@link summarize}). */
  storages?: readonly Storage[];
  /** Adam's learning rate (default {@link LEARNING_RATE}). */
  lr?: number;
  /** The seeds of init and minibatch order (default `[0]`). */
  seeds?: readonly number[];
  /** Called after each run. */
  onRun?: (run: StorageRun) => void;
}

/** Trains the model with Adam once per seed and storage. */
export function runStorageComparison(options: StorageComparisonOptions = {}): StorageRun[] {
  const model = options.model ?? MLP;
  const lr = options.lr ?? LEARNING_RATE;
  const data = digitsTensors();
  const params = model.init(0);
  const runs: StorageRun[] = [];
  for (const seed of options.seeds ?? [0]) {
    for (const storage of options.storages ?? STORAGES) {
      const tx = adamStoring(storage, lr);
      const run: StorageRun = {
        ...train(model, `Adam, ${storage.label} moments`, lr, tx, data, { ...options, seed }),
        storage,
        seed,
        stateBytesPerParam: stateBytesPerParam(tx, params),
      };
      options.onRun?.(run);
      runs.push(run);
    }
  }
  tf.dispose(treeLeaves(params) as tf.Tensor[]);
  data.dispose();
  return runs;
}

/** The mean, smallest and largest of some numbers. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
}

function spread(xs: readonly number[]): Spread {
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) };
}

/** The final-epoch training loss of a run: the mean minibatch loss over its last epoch. */
export const finalLoss = (r: TrainRun): number => r.epochLoss.at(-1) as number;

/** One storage's results over the seeds, and seed by seed against the baseline's run of the same seed. */
export interface StorageSummary {
  storage: Storage;
  stateBytesPerParam: number;
  /** Final-epoch training loss over the seeds. */
  loss: Spread;
  /** Test accuracy (a fraction) over the seeds. */
  accuracy: Spread;
  /** `(loss - baseline's) / baseline's` over the seeds (0 for the baseline). */
  lossVsBaseline: Spread;
  /** `accuracy - baseline's` (a fraction) over the seeds. */
  accuracyVsBaseline: Spread;
}

/** Summarises runs per storage; the baseline is the storage of the first run. */
export function summarize(runs: readonly StorageRun[]): StorageSummary[] {
  const base = runs[0]?.storage;
  const baseOf = (seed: number) => runs.find((r) => r.storage === base && r.seed === seed) as StorageRun;
  const storages = [...new Set(runs.map((r) => r.storage))];
  return storages.map((storage) => {
    const mine = runs.filter((r) => r.storage === storage);
    return {
      storage,
      stateBytesPerParam: (mine[0] as StorageRun).stateBytesPerParam,
      loss: spread(mine.map(finalLoss)),
      accuracy: spread(mine.map((r) => r.testAccuracy)),
      lossVsBaseline: spread(mine.map((r) => (finalLoss(r) - finalLoss(baseOf(r.seed))) / finalLoss(baseOf(r.seed)))),
      accuracyVsBaseline: spread(mine.map((r) => r.testAccuracy - baseOf(r.seed).testAccuracy)),
    };
  });
}

/** `x` (a fraction) in hundredths with `digits` decimals and a sign (`+0.0` for a value that rounds to zero). */
const signed = (x: number, digits: number) => {
  const rounded = Number((100 * x).toFixed(digits));
  return `${rounded >= 0 ? '+' : ''}${rounded.toFixed(digits)}`;
};
const percent = (x: number) => `${signed(x, 1)} %`;
const points = (x: number) => signed(x, 2);
const range = (s: Spread, f: (x: number) => string) => `${f(s.mean)} (${f(s.min)} … ${f(s.max)})`;

/**
 * The summaries as a Markdown table: bytes per parameter, the mean
 * final-epoch loss and test accuracy over the seeds, and the differences
 * from the baseline (mean, and smallest … largest over the seeds). The
 * baseline's row gives its own spread over the seeds instead: its smallest
 * and largest loss relative to its mean, and its accuracy range.
 */
export function summaryTable(summaries: readonly StorageSummary[]): string {
  const rows = summaries.map((s, i) => {
    const vsLoss =
      i === 0
        ? `seeds: ${percent(s.loss.min / s.loss.mean - 1)} … ${percent(s.loss.max / s.loss.mean - 1)}`
        : range(s.lossVsBaseline, percent);
    const vsAcc =
      i === 0
        ? `seeds: ${(100 * s.accuracy.min).toFixed(2)} … ${(100 * s.accuracy.max).toFixed(2)} %`
        : range(s.accuracyVsBaseline, points);
    return `| ${s.storage.label} | ${s.stateBytesPerParam.toFixed(3)} | ${s.loss.mean.toExponential(3)} | ${vsLoss} | ${(100 * s.accuracy.mean).toFixed(2)} % | ${vsAcc} |`;
  });
  return [
    '| moments | state bytes/param | final-epoch loss | vs float32 | test accuracy | vs float32 (points) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

/** The training-loss chart of the runs of one seed (the first run's). */
export function storageChart(runs: readonly StorageRun[], options: { batch?: number; model?: Model } = {}): string {
  const seed = runs[0]?.seed;
  const shown = runs.filter((r) => r.seed === seed);
  const model = options.model ?? MLP;
  return lineChart({
    title: `Digits, ${model.title}, Adam (lr ${runs[0]?.lr})`,
    subtitle: `UCI digits, minibatch ${options.batch ?? 128}, seed ${seed}; same init and batch order; bytes of optimizer state per parameter in the legend`,
    xLabel: 'epoch',
    yLabel: 'training loss (whole training set)',
    logY: true,
    legend: 'outside',
    series: shown.map((r, i) => ({
      name: `${r.storage.label} (${r.stateBytesPerParam.toFixed(2)} B/param)`,
      x: r.trainLoss.map((_, e) => e),
      y: r.trainLoss,
      color: PALETTE[i % PALETTE.length],
      dashed: i > 0,
    })),
  });
}
