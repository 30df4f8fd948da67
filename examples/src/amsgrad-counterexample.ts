/**
 * The online convex problem on which Adam fails (Reddi, Kale & Kumar, "On the
 * Convergence of Adam and Beyond", ICLR 2018, section 3, Theorem 1).
 *
 * On x ∈ [-1, 1] the losses are linear: `f_t(x) = C·x` when `t mod 3 = 1`
 * and `f_t(x) = -x` otherwise, with `C > 2`. Over each block of three steps
 * the gradients sum to `C - 2 > 0`, so the best fixed point is `x = -1`.
 * Adam with `b1 = 0` and `b2 = 1 / (1 + C²)` forgets the large gradient `C`
 * almost at once: the `C` step is divided by about `sqrt(C²)`, i.e. it moves
 * x by about α, while each `-1` step, divided by a second moment that has
 * already decayed to about 1, also moves x by about α, so the two
 * `-1` steps win and x drifts to +1, the worst point. AMSGrad divides by the
 * running maximum of the second moment instead, so the `-1` steps stay small
 * (`α / C`) and x goes to -1. Both use the step size `α / sqrt(t)` and are
 * projected back onto [-1, 1] after every step.
 *
 * The aliases `adam` and `amsgrad` apply optax's bias correction, which the
 * paper's algorithm lacks; with `b2 = 1 / (1 + C²)` (0.1 for C = 3) the
 * correction `1 - b2^t` is within 1% of 1 from the second step on, so it
 * does not change the outcome.
 */
import { adam, amsgrad, type GradientTransformation, sgd } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { PureLoop } from './loop.js';
import { lineChart } from './plot.js';

/** Options of {@link runCounterexample}. */
export interface CounterexampleOptions {
  /** The large gradient (default 3; must be > 2). */
  C?: number;
  /** The base step size α of the schedule α / sqrt(t) (default 0.2). */
  alpha?: number;
  /** The number of steps (default 3000). */
  steps?: number;
  /** The starting point (default 0). */
  x0?: number;
}

/** One optimizer's run: x after each step and the average regret against x* = -1. */
export interface CounterexampleRun {
  name: string;
  x: number[];
  /** (Σ_t f_t(x_t) - f_t(-1)) / T. */
  averageRegret: number;
}

/** The gradient of `f_t` at step `t` (1-based). */
export function counterexampleGradient(t: number, C: number): number {
  return t % 3 === 1 ? C : -1;
}

/** The three optimizers of the experiment, built with the paper's hyperparameters. */
export function counterexampleOptimizers(C: number, alpha: number): { name: string; tx: GradientTransformation }[] {
  // gradtx schedules take the count before the update (0 at the first step): t = count + 1.
  const lr = (count: number) => alpha / Math.sqrt(count + 1);
  const b2 = 1 / (1 + C * C);
  return [
    { name: 'Adam', tx: adam(lr, { b1: 0, b2 }) },
    { name: 'AMSGrad', tx: amsgrad(lr, { b1: 0, b2 }) },
    { name: 'SGD', tx: sgd(lr) },
  ];
}

/** Runs one optimizer on the counterexample. */
export function runOne(name: string, tx: GradientTransformation, options: Required<CounterexampleOptions>): CounterexampleRun {
  const { C, steps, x0 } = options;
  const loop = new PureLoop<{ x: tf.Tensor }>(tx, { x: tf.tensor1d([x0]) });
  const project = (p: { x: tf.Tensor }) => ({ x: tf.clipByValue(p.x, -1, 1) });
  const xs: number[] = [];
  let regret = 0;
  let x = x0;
  for (let t = 1; t <= steps; t++) {
    const g = counterexampleGradient(t, C);
    regret += g * x - g * -1; // f_t is linear: f_t(x) = g·x
    const grad = tf.tensor1d([g]);
    loop.step({ x: grad }, { project });
    grad.dispose();
    x = (loop.params.x as tf.Tensor).dataSync()[0] as number;
    xs.push(x);
  }
  loop.dispose();
  return { name, x: xs, averageRegret: regret / steps };
}

/** Runs Adam, AMSGrad and SGD on the counterexample. */
export function runCounterexample(options: CounterexampleOptions = {}): CounterexampleRun[] {
  const o: Required<CounterexampleOptions> = {
    C: options.C ?? 3,
    alpha: options.alpha ?? 0.2,
    steps: options.steps ?? 3000,
    x0: options.x0 ?? 0,
  };
  if (!(o.C > 2)) throw new Error(`runCounterexample: \`C\` must be > 2, got ${o.C}`);
  return counterexampleOptimizers(o.C, o.alpha).map(({ name, tx }) => runOne(name, tx, o));
}

/** The chart of x over the steps. */
export function counterexampleChart(runs: CounterexampleRun[], C: number, alpha: number): string {
  const colors: Record<string, string> = { Adam: '#D55E00', AMSGrad: '#0072B2', SGD: '#777777' };
  return lineChart({
    title: 'Reddi et al. (2018): Adam vs AMSGrad on f_t(x) = C·x or −x',
    subtitle: `C = ${C}, b1 = 0, b2 = 1/(1+C²), step α/√t with α = ${alpha}, x projected onto [−1, 1]; the optimum is x = −1`,
    xLabel: 'step t (log scale)',
    yLabel: 'x_t',
    logX: true,
    yMin: -1.1,
    yMax: 1.1,
    legend: 'center-right',
    hLines: [
      { y: -1, label: 'optimum x* = −1' },
      { y: 1, label: 'worst point x = +1' },
    ],
    // SGD first, so the adaptive methods are drawn over it.
    series: [...runs]
      .reverse()
      .map((r) => ({ name: `${r.name} (final x = ${r.x.at(-1)?.toFixed(3)})`, y: r.x, color: colors[r.name], width: 1.5 })),
  });
}
