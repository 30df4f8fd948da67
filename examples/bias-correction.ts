/**
 * Adam with and without bias correction: the effective step size of the
 * first 50 steps on fixed gradient streams, printed at steps 1, 10 and 50 and
 * plotted to docs/images/bias-correction.svg.
 *
 * Run: pnpm --filter @gradtx/examples bias-correction
 */
import * as tf from '@tensorflow/tfjs';
import { biasCorrectionChart, runBiasCorrection, uncorrectedConstantStep } from './src/bias-correction.js';
import { writeChart } from './src/plot.js';

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const started = performance.now();
  const result = runBiasCorrection({ steps: 50, size: 1000, seed: 0 });
  console.log('effective step size |Δθ| / α (mean over 1000 elements), b1 = 0.9, b2 = 0.999');
  console.log('step   const: corrected  uncorrected  (closed form)   noisy: corrected  uncorrected');
  for (const t of [1, 10, 50]) {
    const c = result.constant;
    const n = result.noisy;
    console.log(
      `${String(t).padStart(4)}   ${c.corrected[t - 1]!.toFixed(4).padStart(16)}  ${c.uncorrected[t - 1]!.toFixed(4).padStart(11)}  (${uncorrectedConstantStep(t).toFixed(4)})      ${n.corrected[t - 1]!.toFixed(4).padStart(16)}  ${n.uncorrected[t - 1]!.toFixed(4).padStart(11)}`,
    );
  }
  const peak = Math.max(...result.constant.uncorrected);
  console.log(
    `without correction the constant-gradient step peaks at ${peak.toFixed(2)}α (step ${result.constant.uncorrected.indexOf(peak) + 1})`,
  );
  const path = writeChart('bias-correction.svg', biasCorrectionChart(result));
  console.log(`wrote ${path} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
