/**
 * The Adam paper's optimizer comparison on the UCI digits data: logistic
 * regression and a two-layer MLP, each trained with Adam, AdamW, SGD with
 * Nesterov momentum, AdaGrad and RMSProp. Prints the training loss per epoch
 * (every 5), the final losses and test accuracies, and plots the training
 * loss curves to docs/images/digits-logreg.svg and docs/images/digits-mlp.svg.
 *
 * Runs on tfjs's wasm backend (about 10× faster than the pure-JS cpu backend
 * for the MLP's matrix products); `-- --backend cpu` picks the cpu backend.
 *
 * Run: pnpm --filter @gradtx/examples digits-comparison
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { digitsChart, LOGREG, MLP, OPTIMIZERS, runDigitsComparison } from './src/digits-comparison.js';
import { writeChart } from './src/plot.js';

const EPOCHS = 30;
const BATCH = 128;

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--backend');
  const backend = flag >= 0 ? (process.argv[flag + 1] ?? 'wasm') : 'wasm';
  if (!(await tf.setBackend(backend))) throw new Error(`digits-comparison: could not start the tfjs backend '${backend}'`);
  const started = performance.now();
  console.log(`digits: ${EPOCHS} epochs, minibatch ${BATCH}, backend ${tf.getBackend()}`);
  for (const o of OPTIMIZERS) console.log(`  ${o.name.padEnd(13)} ${o.code.padEnd(44)} lr: logreg ${o.lr.logreg}, mlp ${o.lr.mlp}`);
  const summary: string[] = [];
  for (const model of [LOGREG, MLP]) {
    console.log(`\n${model.title}`);
    const runs = runDigitsComparison(model, {
      epochs: EPOCHS,
      batch: BATCH,
      seed: 0,
      onRun: (r) => {
        const every5 = r.trainLoss.filter((_, e) => e % 5 === 0).map((v) => v.toFixed(4));
        console.log(`  ${r.name.padEnd(13)} loss at epochs 0, 5, ..., ${EPOCHS}: ${every5.join(' ')}  (${r.seconds.toFixed(1)} s)`);
      },
    });
    const path = writeChart(`digits-${model.kind}.svg`, digitsChart(model, runs, BATCH));
    for (const r of runs) {
      summary.push(
        `${model.kind.padEnd(7)} ${r.name.padEnd(13)} lr ${String(r.lr).padEnd(5)} final training loss ${(r.trainLoss.at(-1) as number).toExponential(3)}   test accuracy ${(100 * r.testAccuracy).toFixed(2)}%`,
      );
    }
    console.log(`  wrote ${path}`);
  }
  console.log(`\n${summary.join('\n')}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
