/**
 * AdamW (decoupled weight decay) vs Adam + L2 (the decay added to the
 * gradient before Adam) vs SGD, on an ill-conditioned ridge regression.
 *
 * The data: two features, one of scale 1 and one of scale 1000, so the
 * Hessian's diagonal is about 1 and 10⁶. The objective is ridge regression,
 *   L(w) = ‖Xw − y‖² / (2n) + (λ/2)‖w‖²,
 * whose minimiser is `w_ridge = (XᵀX/n + λI)⁻¹ Xᵀy/n` in closed form.
 *
 * - Adam + L2, `chain(addDecayedWeights(λ), scaleByAdam(), scaleByLearningRate(lr))`,
 *   follows the gradient of L, so it converges to `w_ridge`.
 * - AdamW, `adamw(lr, { weightDecay: λ })`, adds `λw` *after* Adam's
 *   normalisation. Its fixed point is where Adam's normalised step balances
 *   the decay: `ĝᵢ / (|ĝᵢ| + eps) = −λwᵢ` for each coordinate (with a
 *   deterministic gradient ĝ, Adam's `m̂/√v̂` tends to `ĝ/|ĝ|`). That holds
 *   either where the data gradient is (almost) zero and `|wᵢ| < 1/λ`, or at
 *   `|wᵢ| = 1/λ`: full-batch AdamW minimises the *unregularised* loss inside
 *   the box `‖w‖∞ ≤ 1/λ` (Xie & Li, "Implicit Bias of AdamW: ℓ∞ Norm
 *   Constrained Optimization", ICML 2024), not the ridge objective. That is
 *   by design: the decay is decoupled from the loss (Loshchilov & Hutter,
 *   2019), so it does not add λ‖w‖²/2 to what is minimised.
 * - SGD on L needs a step below 2/10⁶ to stay stable along the large
 *   feature, and then barely moves along the small one.
 */
import { adamw, addDecayedWeights, chain, type GradientTransformation, scaleByAdam, scaleByLearningRate, sgd } from '@gradtx/core';
import { scheduleCosineDecay } from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs';
import { PureLoop } from './loop.js';
import { lineChart } from './plot.js';
import { normalRng } from './random.js';

/** A regression problem with its sufficient statistics, in doubles. */
export interface RidgeProblem {
  /** Design matrix, row-major, n × 2. */
  x: Float64Array;
  y: Float64Array;
  n: number;
  /** The ridge penalty λ (also AdamW's weight decay). */
  lambda: number;
  /** XᵀX / n (2 × 2, row-major). */
  gram: [number, number, number, number];
  /** Xᵀy / n. */
  xty: [number, number];
  /** yᵀy / n. */
  yty: number;
}

/** Synthetic data: `y = 1.5·z1 − 3·z2 + 0.5·noise` with features `[z1, 1000·z2]`, z ~ N(0, 1), from `seed`. */
export function makeRidgeProblem(options: { n?: number; lambda?: number; seed?: number } = {}): RidgeProblem {
  const n = options.n ?? 200;
  const lambda = options.lambda ?? 0.5;
  const normal = normalRng(options.seed ?? 1);
  const x = new Float64Array(2 * n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z1 = normal();
    const z2 = normal();
    x[2 * i] = z1;
    x[2 * i + 1] = 1000 * z2;
    y[i] = 1.5 * z1 - 3 * z2 + 0.5 * normal();
  }
  const gram: [number, number, number, number] = [0, 0, 0, 0];
  const xty: [number, number] = [0, 0];
  let yty = 0;
  for (let i = 0; i < n; i++) {
    const a = x[2 * i] as number;
    const b = x[2 * i + 1] as number;
    const yi = y[i] as number;
    gram[0] += (a * a) / n;
    gram[1] += (a * b) / n;
    gram[3] += (b * b) / n;
    xty[0] += (a * yi) / n;
    xty[1] += (b * yi) / n;
    yty += (yi * yi) / n;
  }
  gram[2] = gram[1];
  return { x, y, n, lambda, gram, xty, yty };
}

/** Solves the 2 × 2 system `(gram + shift·I) w = xty`. */
function solve2(p: RidgeProblem, shift: number): [number, number] {
  const a = p.gram[0] + shift;
  const b = p.gram[1];
  const d = p.gram[3] + shift;
  const det = a * d - b * b;
  return [(d * p.xty[0] - b * p.xty[1]) / det, (a * p.xty[1] - b * p.xty[0]) / det];
}

/** The closed-form minimiser of the ridge objective L. */
export function ridgeSolution(p: RidgeProblem): [number, number] {
  return solve2(p, p.lambda);
}

/** The least-squares minimiser (no penalty). */
export function leastSquaresSolution(p: RidgeProblem): [number, number] {
  return solve2(p, 0);
}

/**
 * AdamW's full-batch limit point: the least-squares minimiser inside the box
 * `|wᵢ| ≤ 1/λ`, by coordinate descent with clamping (exact per coordinate,
 * and unaffected by the features' scales).
 */
export function boxConstrainedSolution(p: RidgeProblem, iterations = 200): [number, number] {
  const r = 1 / p.lambda;
  const clamp = (v: number) => Math.min(r, Math.max(-r, v));
  const w: [number, number] = [0, 0];
  for (let k = 0; k < iterations; k++) {
    w[0] = clamp((p.xty[0] - p.gram[1] * w[1]) / p.gram[0]);
    w[1] = clamp((p.xty[1] - p.gram[2] * w[0]) / p.gram[3]);
  }
  return w;
}

/** The ridge objective L(w), in doubles. */
export function ridgeObjective(p: RidgeProblem, w: readonly number[]): number {
  const [w0, w1] = w as [number, number];
  const quad = p.gram[0] * w0 * w0 + 2 * p.gram[1] * w0 * w1 + p.gram[3] * w1 * w1;
  return 0.5 * (quad - 2 * (p.xty[0] * w0 + p.xty[1] * w1) + p.yty) + 0.5 * p.lambda * (w0 * w0 + w1 * w1);
}

/** The Euclidean distance between two points. */
export function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot((a[0] as number) - (b[0] as number), (a[1] as number) - (b[1] as number));
}

/** One optimizer's run: the point after every step and the objective's value there. */
export interface RidgeRun {
  name: string;
  w: [number, number][];
  objective: number[];
}

/** The three optimizers, with the data-loss gradient as their input. */
export function ridgeOptimizers(p: RidgeProblem, steps: number): { name: string; tx: GradientTransformation }[] {
  // Adam's steps are about lr in every coordinate; a cosine decay to ~0 lets both settle.
  // b2 = 0.99 (not 0.999) so the second moment forgets the large early gradients
  // within a few hundred steps and AdamW reaches its limit point in a few
  // thousand; with the default b2 it gets there too, after ~20 000 steps.
  const lr = scheduleCosineDecay({ initValue: 0.02, decaySteps: steps, alpha: 1e-4 });
  const b2 = 0.99;
  // SGD: just under the stability limit 2 / (largest Hessian eigenvalue).
  const lMax = 0.5 * (p.gram[0] + p.gram[3] + Math.hypot(p.gram[0] - p.gram[3], 2 * p.gram[1])) + p.lambda;
  return [
    { name: 'AdamW', tx: adamw(lr, { b2, weightDecay: p.lambda }) },
    { name: 'Adam + L2', tx: chain(addDecayedWeights(p.lambda), scaleByAdam({ b2 }), scaleByLearningRate(lr)) },
    { name: 'SGD + L2', tx: chain(addDecayedWeights(p.lambda), sgd(1.9 / lMax)) },
  ];
}

/** Runs `tx` for `steps` full-batch steps from w = 0, with the gradient of the data loss ‖Xw − y‖²/(2n) from tfjs autodiff. */
export function runRidge(name: string, tx: GradientTransformation, p: RidgeProblem, steps: number): RidgeRun {
  const X = tf.tensor2d(Float32Array.from(p.x), [p.n, 2]);
  const Y = tf.tensor2d(Float32Array.from(p.y), [p.n, 1]);
  const dataLossGrad = tf.grad((w: tf.Tensor) => tf.div(tf.sum(tf.square(tf.sub(tf.matMul(X, tf.reshape(w, [2, 1])), Y))), 2 * p.n));
  const loop = new PureLoop(tx, { w: tf.zeros([2]) });
  const run: RidgeRun = { name, w: [], objective: [] };
  for (let s = 0; s < steps; s++) {
    const g = dataLossGrad(loop.params.w as tf.Tensor);
    loop.step({ w: g });
    g.dispose();
    const w = Array.from((loop.params.w as tf.Tensor).dataSync()) as [number, number];
    run.w.push(w);
    run.objective.push(ridgeObjective(p, w));
  }
  loop.dispose();
  tf.dispose([X, Y]);
  return run;
}

/** The experiment's result: the runs and the reference points. */
export interface RidgeResult {
  problem: RidgeProblem;
  runs: RidgeRun[];
  ridge: [number, number];
  leastSquares: [number, number];
  box: [number, number];
}

/** Runs AdamW, Adam + L2 and SGD for `steps` steps. */
export function runAdamwVsL2(options: { steps?: number; n?: number; lambda?: number; seed?: number } = {}): RidgeResult {
  const steps = options.steps ?? 3000;
  const problem = makeRidgeProblem(options);
  const runs = ridgeOptimizers(problem, steps).map(({ name, tx }) => runRidge(name, tx, problem, steps));
  return {
    problem,
    runs,
    ridge: ridgeSolution(problem),
    leastSquares: leastSquaresSolution(problem),
    box: boxConstrainedSolution(problem),
  };
}

const COLORS: Record<string, string> = { AdamW: '#D55E00', 'Adam + L2': '#0072B2', 'SGD + L2': '#777777' };

/** The distance to the ridge solution over the steps, log scale, with AdamW's limit point marked. */
export function adamwDistanceChart(r: RidgeResult): string {
  return lineChart({
    title: 'Ridge regression with feature scales 1 and 1000: distance to w_ridge',
    subtitle: `w_ridge minimises ‖Xw − y‖²/2n + λ‖w‖²/2, λ = ${r.problem.lambda}; AdamW (decay λ) goes elsewhere by design`,
    xLabel: 'step',
    yLabel: '‖w − w_ridge‖',
    logY: true,
    yMin: 1e-11,
    yMax: 10,
    legend: 'bottom-right',
    hLines: [
      {
        y: distance(r.box, r.ridge),
        label: "AdamW's limit point: least squares in the box ‖w‖∞ ≤ 1/λ",
        labelRight: true,
        labelBelow: true,
      },
    ],
    series: r.runs.map((run) => ({ name: run.name, y: run.w.map((w) => distance(w, r.ridge)), color: COLORS[run.name] })),
  });
}

/** The trajectories in the (w₁, 1000·w₂) plane with the reference points. */
export function adamwTrajectoryChart(r: RidgeResult): string {
  const scaled = (w: readonly number[]) => [w[0] as number, 1000 * (w[1] as number)] as const;
  const point = (name: string, w: readonly number[], color: string) => {
    const [a, b] = scaled(w);
    return { name, x: [a], y: [b], color, line: false, markers: true, markerSize: 6 };
  };
  return lineChart({
    title: 'Where each optimizer goes: trajectories from w = (0, 0)',
    subtitle: 'the second weight is shown ×1000 (its feature is ×1000); dots: closed-form points',
    xLabel: 'w₁ (feature of scale 1)',
    yLabel: '1000 · w₂ (feature of scale 1000)',
    legend: 'top-right',
    xMin: -0.1,
    xMax: Math.max(r.box[0], r.ridge[0]) + 0.15,
    series: [
      ...r.runs.map((run) => ({
        name: run.name,
        x: run.w.map((w) => w[0]),
        y: run.w.map((w) => 1000 * w[1]),
        color: COLORS[run.name],
        width: 1.5,
      })),
      point(`ridge solution (${r.ridge[0].toFixed(3)}, ${(1000 * r.ridge[1]).toFixed(3)})`, r.ridge, '#0072B2'),
      point(`least squares in ‖w‖∞ ≤ 1/λ (${r.box[0].toFixed(3)}, ${(1000 * r.box[1]).toFixed(3)})`, r.box, '#D55E00'),
    ],
  });
}
