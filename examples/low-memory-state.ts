/**
 * Low-memory optimizer state on the digits MLP: Adam with its moments in
 * float32, bfloat16, float16 and block-wise int8, each seed's runs from the
 * same init and minibatch order. For each setting (learning rate, epochs)
 * prints a table of the final-epoch training loss and test accuracy (mean
 * over three seeds, and each storage's difference from float32 seed by
 * seed, next to float32's own spread over the seeds) and the optimizer
 * state's bytes per parameter. Plots seed 0's loss curves at Adam's default
 * learning rate to docs/images/low-memory-state.svg, and those of a wider
 * MLP (64 → 512 → 512 → 10) to docs/images/low-memory-state-wide.svg.
 *
 * Run: pnpm --filter @gradtx/examples low-memory-state   (wasm backend; `-- --backend cpu` for cpu)
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { MLP, type Model } from './src/digits-comparison.js';
import {
  runStorageComparison,
  STORAGES,
  type Storage,
  type StorageRun,
  storageChart,
  summarize,
  summaryTable,
  WIDE_MLP,
} from './src/low-memory-state.js';
import { writeChart } from './src/plot.js';

const BATCH = 128;
const SEEDS = [0, 1, 2];

/** The wider MLP's storages (fewer, for time; the leaf-size rule changes only its biases' storage there). */
const WIDE_STORAGES = STORAGES.filter((s) => s.label !== 'float16' && s.float32Below === undefined);

/**
 * The settings: Adam's default learning rate and three times it, the 0.03
 * of the optimizer comparison as a stress case (the float32 loss falls to
 * 1e-4 there, where runs differ as chaotic trajectories do), and the wider
 * MLP at the default rate (it converges in fewer epochs).
 */
const SETTINGS: { model: Model; lr: number; epochs: number; storages?: readonly Storage[]; chart?: string }[] = [
  { model: MLP, lr: 1e-3, epochs: 50, chart: 'low-memory-state.svg' },
  { model: MLP, lr: 3e-3, epochs: 50 },
  { model: MLP, lr: 0.03, epochs: 30 },
  { model: WIDE_MLP, lr: 1e-3, epochs: 20, storages: WIDE_STORAGES, chart: 'low-memory-state-wide.svg' },
];

function printRun(r: StorageRun): void {
  console.log(
    `  seed ${r.seed} ${r.storage.label.padEnd(28)} final-epoch loss ${(r.epochLoss.at(-1) as number).toExponential(3)}  test accuracy ${(100 * r.testAccuracy).toFixed(2)} %  (${r.seconds.toFixed(1)} s)`,
  );
}

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--backend');
  const backend = flag >= 0 ? (process.argv[flag + 1] ?? 'wasm') : 'wasm';
  if (!(await tf.setBackend(backend))) throw new Error(`low-memory-state: could not start the tfjs backend '${backend}'`);
  for (const { model, lr, epochs, storages, chart } of SETTINGS) {
    console.log(
      `\n${model.title}, adam(${lr}, { muDtype, nuDtype }), ${epochs} epochs, minibatch ${BATCH}, seeds ${SEEDS.join(', ')}, backend ${tf.getBackend()}`,
    );
    const runs = runStorageComparison({ model, lr, epochs, storages, batch: BATCH, seeds: SEEDS, onRun: printRun });
    console.log(`\n${summaryTable(summarize(runs))}`);
    if (chart !== undefined) console.log(`\nwrote ${writeChart(chart, storageChart(runs, { batch: BATCH, model }))}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
