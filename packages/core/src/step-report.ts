/**
 * What a training step reports: the `onStep` hook of `createOptimizer` and
 * `asTfOptimizer` (learning rate, pre-clip gradient norm, step time, the path
 * the step took), and the learning rate a transformation declares.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Updates } from './base.js';
import { fusedStats } from './fused/stats.js';
import { learningRateOf } from './learning-rate.js';
import { treeL2Norm } from './tree-utils.js';
import { showValue } from './validate.js';

/** The path a step ran on: `fast` (a replayed in-place fused step), `fused` (the fused engine), `reference` (tfjs ops). */
export type StepPath = 'fast' | 'fused' | 'reference';

/**
 * One optimizer step, as the `onStep` hook of `createOptimizer` and
 * `asTfOptimizer` receives it.
 * @category Training loop
 */
export interface StepReport {
  /** The number of steps this optimizer has taken, this one included (1 for the first). */
  step: number;
  /**
   * The learning rate this step used (its magnitude): the value of the
   * `scaleByLearningRate` stage (a schedule evaluated at that stage's count)
   * or of an `injectHyperparams` state's `learningRate`; `null` when the
   * transformation has neither (e.g. `scale(-0.1)` written by hand).
   */
  learningRate: number | null;
  /** The global L2 norm of the gradients the step received, `sqrt(Σ g²)`, before any clipping. */
  gradNorm: number;
  /** The wall-clock time of the step in milliseconds (on an asynchronous backend such as webgpu, the time to enqueue it). */
  ms: number;
  /** How the step ran (see {@link StepPath}). */
  path: StepPath;
}

/**
 * A function called after every step with its {@link StepReport}. Setting
 * one costs a global-norm reduction and one read-back of that scalar per
 * step (a pipeline stall on webgpu).
 */
export type StepHook = (report: StepReport) => void;

/** Checks an `onStep` option: a function or `undefined`. */
export function checkOnStep(fn: string, onStep: unknown): StepHook | undefined {
  if (onStep === undefined || typeof onStep === 'function') return onStep as StepHook | undefined;
  throw new Error(`${fn}: \`onStep\` must be a function (report) => void, got ${showValue(onStep)}`);
}

/**
 * Runs `step` and reports it to `hook`: the gradient norm from `grads`
 * (before the step), the learning rate from the new state, the path from the
 * engine's step counts.
 */
export function reportedStep<R extends readonly [unknown, unknown]>(
  hook: StepHook,
  tx: GradientTransformation,
  grads: Updates,
  stepNumber: number,
  step: () => R,
): R {
  const norm = treeL2Norm(grads);
  const gradNorm = norm.dataSync()[0] as number;
  tf.dispose(norm);
  const before = { ...fusedStats };
  const started = performance.now();
  const out = step();
  const ms = performance.now() - started;
  const path: StepPath = fusedStats.fast > before.fast ? 'fast' : fusedStats.fused > before.fused ? 'fused' : 'reference';
  hook({ step: stepNumber, learningRate: learningRateOf(tx, out[1]), gradNorm, ms, path });
  return out;
}
