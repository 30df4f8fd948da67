/**
 * Optimistic Adam: `optimisticAdam` and `optimisticAdamV2` (optax
 * `optimistic_adam`, `optimistic_adam_v2`).
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import { chain } from '../combine.js';
import { checkFinite, checkScalarOrSchedule, type OptionDefaults, optionsFor, resolveOptions } from '../validate.js';
import { type ScaleByAdamOptions, scaleByAdam, scaleByAdamDefaults } from './adam.js';
import { scaleByOptimisticGradient } from './optimistic.js';
import { scaleByLearningRate } from './scaling.js';

/** Adam's options as both optimistic variants take them (`nesterov` defaults to true). */
const ADAM_PART: OptionDefaults<ScaleByAdamOptions> = Object.freeze({ ...scaleByAdamDefaults, nesterov: true });

const adamPart = (o: OptionDefaults<ScaleByAdamOptions>): GradientTransformation => scaleByAdam(optionsFor(o, scaleByAdamDefaults));

/** Options of {@link optimisticAdam}. */
export interface OptimisticAdamOptions extends ScaleByAdamOptions {
  /** The optimism `o` (default: the learning rate, as in the paper), a finite number. */
  optimism?: number;
}

/** The defaults of {@link optimisticAdam}'s options (`optimism` defaults to the learning rate). */
export const optimisticAdamDefaults: OptionDefaults<OptimisticAdamOptions, 'optimism'> = Object.freeze({
  ...ADAM_PART,
  optimism: undefined,
});

/**
 * The state of {@link optimisticAdam} and {@link optimisticAdamV2}:
 * `[scaleByAdam's, scaleByOptimisticGradient's, scaleByLearningRate's]`.
 */
export type OptimisticAdamState = [
  import('./adam.js').ScaleByAdamState,
  import('../elementwise.js').ElementwiseState,
  import('./scaling.js').ScaleByLearningRateState,
];

/**
 * Optimistic Adam (optax's first interface, deprecated there in favour of
 * {@link optimisticAdamV2}): with `r_t` Adam's update (Nesterov by default),
 * $$
 * u_t = -\mathrm{lr}\; r_t - o\, (r_t - r_{t-1})
 * $$
 * i.e. `chain(scaleByAdam(...), scaleByOptimisticGradient({ alpha: lr, beta: o }), scaleByLearningRate(1))`.
 * `learningRate` must be a number (optax refuses schedules here). Fuses.
 * Defaults `optimism = learningRate, b1 = 0.9, b2 = 0.999, eps = 1e-8,
 * epsRoot = 0, nesterov = true`. Reference: Daskalakis et al., "Training GANs
 * with Optimism" (2018); optax `optimistic_adam`.
 */
export function optimisticAdam(learningRate: number, options?: OptimisticAdamOptions): GradientTransformation<OptimisticAdamState> {
  const fn = 'optimisticAdam';
  if (typeof learningRate === 'function') {
    throw new Error(`${fn}: \`learningRate\` must be a number (this interface takes no schedule; optimisticAdamV2 does)`);
  }
  const lr = checkFinite(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, optimisticAdamDefaults);
  const optimism = checkFinite(fn, 'optimism', o.optimism ?? lr);
  return chain(adamPart(o), scaleByOptimisticGradient({ alpha: lr, beta: optimism }), scaleByLearningRate(1));
}

/** Options of {@link optimisticAdamV2}. */
export interface OptimisticAdamV2Options extends ScaleByAdamOptions {
  /** `alpha` of the optimistic step (default 1), a finite number. */
  alpha?: number;
  /** `beta` of the optimistic step (default 1), a finite number. */
  beta?: number;
}

/** The defaults of {@link optimisticAdamV2}'s options. */
export const optimisticAdamV2Defaults: OptionDefaults<OptimisticAdamV2Options> = Object.freeze({ ...ADAM_PART, alpha: 1, beta: 1 });

/**
 * Optimistic Adam: with `r_t` Adam's update (Nesterov by default),
 * $$
 * u_t = -\mathrm{lr} \big( (\alpha + \beta)\, r_t - \beta\, r_{t-1} \big)
 * $$
 * i.e. `chain(scaleByAdam(...), scaleByOptimisticGradient({ alpha, beta }), scaleByLearningRate(lr))`.
 * Fuses. Defaults `alpha = 1, beta = 1, b1 = 0.9, b2 = 0.999, eps = 1e-8,
 * epsRoot = 0, nesterov = true`. Reference: Daskalakis et al., "Training GANs
 * with Optimism" (2018); optax `optimistic_adam_v2`.
 */
export function optimisticAdamV2(
  learningRate: ScalarOrSchedule,
  options?: OptimisticAdamV2Options,
): GradientTransformation<OptimisticAdamState> {
  const fn = 'optimisticAdamV2';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, optimisticAdamV2Defaults);
  return chain(adamPart(o), scaleByOptimisticGradient({ alpha: o.alpha, beta: o.beta }), scaleByLearningRate(learningRate));
}
