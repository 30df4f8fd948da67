/**
 * L-BFGS with the zoom line search (strong Wolfe conditions) on the 2-D
 * Rosenbrock function `f(x, y) = (1 - x)² + 100·(y - x²)²`, whose minimum
 * f = 0 lies at (1, 1) at the bottom of a long curved valley (Nocedal &
 * Wright, "Numerical Optimization", 2nd ed., section 7.2 and algorithm 3.5).
 * The objective is passed to the update as the extra argument `valueFn`, and
 * the value and gradient come from `valueAndGradFromState`, which reuses the
 * ones the line search already computed, as optax's `value_and_grad_from_state`.
 */
import { applyUpdates, lbfgs, type Params, treeNorm, valueAndGradFromState } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { lineChart } from './plot.js';

/** The Rosenbrock function of a length-2 tensor `[x, y]`, as a scalar tensor. */
export function rosenbrock(p: Params): tf.Scalar {
  return tf.tidy(() => {
    const [x, y] = tf.unstack(p as tf.Tensor) as [tf.Tensor, tf.Tensor];
    return tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x))))).asScalar();
  });
}

/** The result of {@link solveRosenbrock}. */
export interface RosenbrockRun {
  /** The start point. */
  start: [number, number];
  /** f at the start and after each iteration. */
  losses: number[];
  /** The final point. */
  point: [number, number];
  /** The number of L-BFGS iterations taken. */
  iterations: number;
  /** The Euclidean distance from the final point to the minimum (1, 1). */
  error: number;
}

/** Runs `lbfgs()` from `start` until ‖∇f‖ < `gradTol` (default 1e-5, as optax's tests stop) or `maxIterations` (default 200). */
export function solveRosenbrock(start: [number, number], gradTol = 1e-5, maxIterations = 200): RosenbrockRun {
  const tx = lbfgs();
  const valueAndGrad = valueAndGradFromState(rosenbrock);
  let params: Params = tf.tensor1d(start);
  let state = tx.init(params);
  const losses: number[] = [];
  let iterations = 0;
  for (;;) {
    const [value, grad] = valueAndGrad(params, state);
    losses.push((value as tf.Tensor).dataSync()[0] as number);
    const norm = treeNorm(grad);
    const done = (norm.dataSync()[0] as number) < gradTol || iterations >= maxIterations;
    norm.dispose();
    if (done) {
      tf.dispose([value as tf.Tensor, grad as tf.Tensor]);
      break;
    }
    const [updates, next] = tx.update(grad, state, params, { value, grad, valueFn: rosenbrock });
    const moved: Params = applyUpdates(params, updates);
    tf.dispose([value as tf.Tensor, grad as tf.Tensor, updates as tf.Tensor, params as tf.Tensor]);
    tf.dispose(state as unknown as tf.TensorContainer);
    state = next;
    params = moved;
    iterations++;
  }
  const [x, y] = Array.from((params as tf.Tensor).dataSync()) as [number, number];
  tf.dispose([params as tf.Tensor]);
  tf.dispose(state as unknown as tf.TensorContainer);
  return { start, losses, point: [x, y], iterations, error: Math.hypot(x - 1, y - 1) };
}

/** The chart of log10 f over the iterations, one line per start point. */
export function rosenbrockChart(runs: RosenbrockRun[]): string {
  return lineChart({
    title: 'L-BFGS with the zoom line search on the Rosenbrock function',
    subtitle: 'f(x, y) = (1 − x)² + 100·(y − x²)², minimum 0 at (1, 1); memory 10, stop when ‖∇f‖ < 1e-5',
    xLabel: 'iteration',
    yLabel: 'f (log scale)',
    logY: true,
    series: runs.map((r) => ({
      name: `start (${r.start.join(', ')}): ${r.iterations} iterations, |x − (1,1)| = ${r.error.toExponential(1)}`,
      x: r.losses.map((_, i) => i),
      y: r.losses,
      markers: true,
    })),
  });
}
