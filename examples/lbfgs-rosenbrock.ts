/**
 * L-BFGS with the zoom line search fits the 2-D Rosenbrock function from two
 * start points to |x − (1, 1)| < 1e-6. Prints the iterations and the final
 * error and plots f over the iterations to docs/images/lbfgs-rosenbrock.svg.
 *
 * Run: pnpm --filter @gradtx/examples lbfgs-rosenbrock
 */
import * as tf from '@tensorflow/tfjs';
import { rosenbrockChart, solveRosenbrock } from './src/lbfgs-rosenbrock.js';
import { writeChart } from './src/plot.js';

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const started = performance.now();
  const runs = [solveRosenbrock([-1.2, 1]), solveRosenbrock([0, 0])];
  for (const r of runs) {
    console.log(
      `start (${r.start.join(', ')}): ${r.iterations} iterations, f ${r.losses[0]?.toPrecision(3)} -> ${r.losses.at(-1)?.toExponential(2)}, point (${r.point.map((v) => v.toFixed(7)).join(', ')}), |x - (1,1)| = ${r.error.toExponential(2)}`,
    );
  }
  const path = writeChart('lbfgs-rosenbrock.svg', rosenbrockChart(runs));
  console.log(`wrote ${path} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
