/**
 * Reddi et al.'s counterexample (ICLR 2018, section 3): Adam drifts to the
 * worst point of a simple online convex problem, AMSGrad converges to the
 * best one. Prints the final x and the average regret of each optimizer and
 * plots x over the steps to docs/images/amsgrad-counterexample.svg.
 *
 * Run: pnpm --filter @gradtx/examples amsgrad-counterexample
 */
import * as tf from '@tensorflow/tfjs';
import { counterexampleChart, runCounterexample } from './src/amsgrad-counterexample.js';
import { writeChart } from './src/plot.js';

const C = 3;
const ALPHA = 0.2;
const STEPS = 3000;

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const started = performance.now();
  console.log(
    `f_t(x) = ${C}x if t mod 3 = 1, else -x; x in [-1, 1]; b1 = 0, b2 = 1/(1+C^2) = ${(1 / (1 + C * C)).toFixed(3)}; step ${ALPHA}/sqrt(t); ${STEPS} steps from x = 0`,
  );
  const runs = runCounterexample({ C, alpha: ALPHA, steps: STEPS });
  for (const r of runs) {
    const at = (t: number) => (r.x[t - 1] as number).toFixed(3).padStart(6);
    console.log(
      `${r.name.padEnd(8)} x after 10 / 100 / 1000 / ${STEPS} steps: ${at(10)} ${at(100)} ${at(1000)} ${at(STEPS)}   average regret ${r.averageRegret.toFixed(4)}`,
    );
  }
  const path = writeChart('amsgrad-counterexample.svg', counterexampleChart(runs, C, ALPHA));
  console.log(`wrote ${path} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
