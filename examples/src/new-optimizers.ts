/**
 * The digits MLP of the Adam-paper comparison ({@link MLP}) trained with
 * four optimizers of optax 0.2.8's newer half: AdamW (the baseline), Muon
 * (Newton–Schulz-orthogonalised momentum on the weight matrices, AdamW on
 * the biases), schedule-free AdamW (evaluated at `scheduleFreeEvalParams`)
 * and Prodigy (learning-rate free, `learningRate = 1`). Every run starts
 * from the same initial params and sees the minibatches in the same order.
 */
import { muon, prodigy, scheduleFreeAdamw, scheduleFreeEvalParams } from '@gradtx/contrib';
import { adamw } from '@gradtx/core';
import { digitsTensors, MLP, type OptimizerEntry, type TrainOptions, type TrainRun, train } from './digits-comparison.js';
import { lineChart, PALETTE } from './plot.js';

/** An optimizer of this comparison, with how it is evaluated. */
export interface NewOptimizerEntry extends OptimizerEntry {
  /** Where to evaluate: at the trained params (default) or at schedule-free's average. */
  evalParams?: TrainOptions['evalParams'];
}

/** The four optimizers and their learning rates (AdamW's is the one picked for the MLP in the Adam-paper comparison). */
export const NEW_OPTIMIZERS: NewOptimizerEntry[] = [
  {
    name: 'AdamW',
    lr: { logreg: 0.03, mlp: 0.03 },
    make: (lr) => adamw(lr, { weightDecay: 1e-2 }),
    code: 'adamw(lr, { weightDecay: 1e-2 })',
  },
  { name: 'Muon', lr: { logreg: 0.02, mlp: 0.02 }, make: (lr) => muon(lr), code: 'muon(lr)' },
  {
    name: 'Schedule-free AdamW',
    lr: { logreg: 0.01, mlp: 0.01 },
    make: (lr) => scheduleFreeAdamw(lr),
    code: 'scheduleFreeAdamw(lr)',
    evalParams: scheduleFreeEvalParams,
  },
  { name: 'Prodigy', lr: { logreg: 1, mlp: 1 }, make: (lr) => prodigy(lr), code: 'prodigy(lr)' },
];

/** Trains the MLP with each of `optimizers` (default {@link NEW_OPTIMIZERS}). */
export function runNewOptimizers(
  options: TrainOptions & { optimizers?: NewOptimizerEntry[]; onRun?: (run: TrainRun) => void } = {},
): TrainRun[] {
  const data = digitsTensors();
  try {
    return (options.optimizers ?? NEW_OPTIMIZERS).map((o) => {
      const lr = o.lr.mlp;
      const run = train(MLP, o.name, lr, o.make(lr), data, { ...options, evalParams: o.evalParams });
      options.onRun?.(run);
      return run;
    });
  } finally {
    data.dispose();
  }
}

/** The training-loss chart of the four runs. */
export function newOptimizersChart(runs: TrainRun[], batch = 128): string {
  return lineChart({
    title: `Digits, ${MLP.title}: the new optimizers`,
    subtitle: `UCI digits, 1438 training images, minibatch ${batch}; same init and batch order; schedule-free evaluated at its average`,
    xLabel: 'epoch',
    yLabel: 'training loss (whole training set)',
    logY: true,
    legend: 'outside',
    series: runs.map((r, i) => ({
      name: `${r.name} (lr ${r.lr})`,
      x: r.trainLoss.map((_, e) => e),
      y: r.trainLoss,
      color: PALETTE[i % PALETTE.length],
    })),
  });
}
