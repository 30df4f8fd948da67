/**
 * Adam with its moments stored in float32, bfloat16, float16 and block-wise
 * int8, on the digits MLP (and a wider one): the same init, the same minibatch order and the
 * same learning rate, so the runs differ only by how the moments are kept
 * between steps. Records the training loss per epoch, the test accuracy
 * and the optimizer state's bytes per parameter (measured with
 * `tf.memory()` around `tx.init`).
 */
import { adam, type GradientTransformation, type Params, type StateDtype, treeLeaves } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { digitsTensors, MLP, type Model, mlp, OPTIMIZERS, type TrainOptions, type TrainRun, train } from './digits-comparison.js';
import { lineChart, PALETTE } from './plot.js';

/** One storage setting: Adam's first and second moments' dtypes, and a label. */
export interface Storage {
  label: string;
  muDtype: StateDtype;
  nuDtype: StateDtype;
}

/** The settings compared: each dtype for both moments, and int8 first moments with float32 second moments. */
export const STORAGES: readonly Storage[] = [
  { label: 'float32', muDtype: 'float32', nuDtype: 'float32' },
  { label: 'bfloat16', muDtype: 'bfloat16', nuDtype: 'bfloat16' },
  { label: 'float16', muDtype: 'float16', nuDtype: 'float16' },
  { label: 'int8', muDtype: 'int8', nuDtype: 'int8' },
  { label: 'int8 mu, float32 nu', muDtype: 'int8', nuDtype: 'float32' },
];

/** The larger model of the comparison: 64 → 512 → 512 → 10 (301,066 parameters). */
export const WIDE_MLP: Model = mlp([512, 512]);

/** Adam's learning rate on the MLP (the comparison's, picked from a grid with float32 state). */
export const LEARNING_RATE = OPTIMIZERS.find((o) => o.name === 'Adam')?.lr.mlp ?? 0.03;

/** Adam with its moments stored as `storage` says. */
export const adamStoring = (storage: Storage): GradientTransformation =>
  adam(LEARNING_RATE, { muDtype: storage.muDtype, nuDtype: storage.nuDtype });

/** A run with its storage and the optimizer state's measured size. */
export interface StorageRun extends TrainRun {
  storage: Storage;
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

/** Trains the MLP with Adam once per storage in `storages`. */
export function runStorageComparison(
  options: TrainOptions & { model?: Model; storages?: readonly Storage[]; onRun?: (run: StorageRun) => void } = {},
): StorageRun[] {
  const model = options.model ?? MLP;
  const data = digitsTensors();
  const params = model.init(0);
  const runs = (options.storages ?? STORAGES).map((storage) => {
    const tx = adamStoring(storage);
    const run: StorageRun = {
      ...train(model, `Adam, ${storage.label} moments`, LEARNING_RATE, tx, data, options),
      storage,
      stateBytesPerParam: stateBytesPerParam(tx, params),
    };
    options.onRun?.(run);
    return run;
  });
  tf.dispose(treeLeaves(params) as tf.Tensor[]);
  data.dispose();
  return runs;
}

/** The training-loss chart of the runs. */
export function storageChart(runs: readonly StorageRun[], batch = 128, model: Model = MLP): string {
  return lineChart({
    title: `Digits, ${model.title}, Adam (lr ${LEARNING_RATE}): moments in float32, bfloat16, float16, int8`,
    subtitle: `UCI digits, minibatch ${batch}; same init and batch order; bytes of optimizer state per parameter in the legend`,
    xLabel: 'epoch',
    yLabel: 'training loss (whole training set)',
    logY: true,
    legend: 'outside',
    series: runs.map((r, i) => ({
      name: `${r.storage.label} (${r.stateBytesPerParam.toFixed(2)} B/param)`,
      x: r.trainLoss.map((_, e) => e),
      y: r.trainLoss,
      color: PALETTE[i % PALETTE.length],
      dashed: i > 0,
    })),
  });
}
