/**
 * AdamW vs Adam + L2 vs SGD on an ill-conditioned ridge regression (feature
 * scales 1 and 1000): prints each optimizer's final point and its distance to
 * the closed-form ridge solution and to AdamW's own limit point, and plots the
 * losses and the trajectories to docs/images/adamw-vs-l2-distance.svg and
 * docs/images/adamw-vs-l2-trajectory.svg.
 *
 * Run: pnpm --filter @gradtx/examples adamw-vs-l2
 */
import * as tf from '@tensorflow/tfjs';
import { adamwDistanceChart, adamwTrajectoryChart, distance, ridgeObjective, runAdamwVsL2 } from './src/adamw-vs-l2.js';
import { writeChart } from './src/plot.js';

const STEPS = 3000;

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const started = performance.now();
  const r = runAdamwVsL2({ steps: STEPS, n: 200, lambda: 0.5, seed: 1 });
  const fmt = (w: readonly number[]) => `(${(w[0] as number).toFixed(4)}, ${(w[1] as number).toExponential(4)})`;
  console.log(
    `ridge regression, n = ${r.problem.n}, features of scale 1 and 1000, λ = ${r.problem.lambda}, ${STEPS} full-batch steps from w = 0; Adam's b2 = 0.99, lr 0.02 cosine-decayed`,
  );
  console.log(`closed-form ridge solution            w_ridge = ${fmt(r.ridge)}   L = ${ridgeObjective(r.problem, r.ridge).toFixed(6)}`);
  console.log(`least squares (no penalty)            w_ls    = ${fmt(r.leastSquares)}`);
  console.log(`least squares in the box |w_i| <= 1/λ w_box   = ${fmt(r.box)}   (AdamW's full-batch limit)`);
  for (const run of r.runs) {
    const w = run.w.at(-1) as [number, number];
    console.log(
      `${run.name.padEnd(10)} final w = ${fmt(w)}   L(w) - L(w_ridge) = ${(ridgeObjective(r.problem, w) - ridgeObjective(r.problem, r.ridge)).toExponential(2)}   |w - w_ridge| = ${distance(w, r.ridge).toExponential(2)}   |w - w_box| = ${distance(w, r.box).toExponential(2)}`,
    );
  }
  const a = writeChart('adamw-vs-l2-distance.svg', adamwDistanceChart(r));
  const b = writeChart('adamw-vs-l2-trajectory.svg', adamwTrajectoryChart(r));
  console.log(`wrote ${a} and ${b} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
