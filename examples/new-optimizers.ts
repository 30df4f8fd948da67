/**
 * The digits MLP trained with AdamW, Muon, schedule-free AdamW and Prodigy.
 * Prints the training loss per epoch, the final losses and test accuracies,
 * and plots the loss curves to docs/images/new-optimizers.svg.
 *
 * Runs on tfjs's wasm backend; `-- --backend cpu` picks the cpu backend.
 *
 * Run: pnpm --filter @gradtx/examples new-optimizers
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { NEW_OPTIMIZERS, newOptimizersChart, runNewOptimizers } from './src/new-optimizers.js';
import { writeChart } from './src/plot.js';

const EPOCHS = 30;
const BATCH = 128;

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--backend');
  const backend = flag >= 0 ? (process.argv[flag + 1] ?? 'wasm') : 'wasm';
  if (!(await tf.setBackend(backend))) throw new Error(`new-optimizers: could not start the tfjs backend '${backend}'`);
  const started = performance.now();
  console.log(`digits MLP: ${EPOCHS} epochs, minibatch ${BATCH}, backend ${tf.getBackend()}`);
  for (const o of NEW_OPTIMIZERS) console.log(`  ${o.name.padEnd(20)} ${o.code.padEnd(34)} lr ${o.lr.mlp}`);
  const runs = runNewOptimizers({
    epochs: EPOCHS,
    batch: BATCH,
    seed: 0,
    onRun: (r) =>
      console.log(`  ${r.name.padEnd(20)} loss per epoch: ${r.trainLoss.map((v) => v.toFixed(4)).join(' ')}  (${r.seconds.toFixed(1)} s)`),
  });
  const path = writeChart('new-optimizers.svg', newOptimizersChart(runs, BATCH));
  for (const r of runs) {
    console.log(
      `${r.name.padEnd(20)} lr ${String(r.lr).padEnd(5)} final training loss ${(r.trainLoss.at(-1) as number).toExponential(3)}   test accuracy ${(100 * r.testAccuracy).toFixed(2)}%`,
    );
  }
  console.log(`wrote ${path} (total ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
