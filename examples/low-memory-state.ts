/**
 * Low-memory optimizer state on the digits MLP: Adam with its moments in
 * float32, bfloat16, float16 and block-wise int8 (the same init, batches
 * and learning rate). Prints the loss every 5 epochs, the final training
 * loss (and its difference from float32's), the test accuracy and the
 * optimizer state's bytes per parameter, and plots the loss curves to
 * docs/images/low-memory-state.svg; then the same for a wider MLP
 * (64 → 512 → 512 → 10) into docs/images/low-memory-state-wide.svg.
 *
 * Run: pnpm --filter @gradtx/examples low-memory-state   (wasm backend; `-- --backend cpu` for cpu)
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { MLP } from './src/digits-comparison.js';
import { LEARNING_RATE, runStorageComparison, storageChart, WIDE_MLP } from './src/low-memory-state.js';
import { writeChart } from './src/plot.js';

const EPOCHS = 30;
const BATCH = 128;

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--backend');
  const backend = flag >= 0 ? (process.argv[flag + 1] ?? 'wasm') : 'wasm';
  if (!(await tf.setBackend(backend))) throw new Error(`low-memory-state: could not start the tfjs backend '${backend}'`);
  for (const [model, file] of [
    [MLP, 'low-memory-state.svg'],
    [WIDE_MLP, 'low-memory-state-wide.svg'],
  ] as const) {
    console.log(
      `\n${model.title}, adam(${LEARNING_RATE}, { muDtype, nuDtype }), ${EPOCHS} epochs, minibatch ${BATCH}, backend ${tf.getBackend()}`,
    );
    const runs = runStorageComparison({
      model,
      epochs: EPOCHS,
      batch: BATCH,
      seed: 0,
      onRun: (r) => {
        const every5 = r.trainLoss.filter((_, e) => e % 5 === 0).map((v) => v.toFixed(4));
        console.log(
          `  ${r.storage.label.padEnd(21)} loss at epochs 0, 5, ..., ${EPOCHS}: ${every5.join(' ')}  (${r.seconds.toFixed(1)} s)`,
        );
      },
    });
    const base = runs[0];
    console.log('\n| moments | state bytes/param | final training loss | vs float32 | test accuracy | vs float32 |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of runs) {
      const loss = r.trainLoss.at(-1) as number;
      const baseLoss = base?.trainLoss.at(-1) as number;
      console.log(
        `| ${r.storage.label} | ${r.stateBytesPerParam.toFixed(3)} | ${loss.toExponential(3)} | ${(((loss - baseLoss) / baseLoss) * 100).toFixed(1)} % | ${(100 * r.testAccuracy).toFixed(2)} % | ${(100 * (r.testAccuracy - (base?.testAccuracy ?? 0))).toFixed(2)} points |`,
      );
    }
    console.log(`\nwrote ${writeChart(file, storageChart(runs, BATCH, model))}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
