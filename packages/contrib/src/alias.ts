/**
 * The shape most optax contrib optimizers share:
 * `chain(scaleByX(...), addDecayedWeights(weightDecay, mask), scaleByLearningRate(lr))`.
 *
 * @module
 */
import {
  addDecayedWeights,
  chain,
  checkScalarOrSchedule,
  type GradientTransformation,
  type Mask,
  resolveOptions,
  type ScalarOrSchedule,
  scaleByLearningRate,
} from './core-api.js';

/** Decoupled weight decay options of an optimizer. */
export interface WeightDecayOptions {
  /** Decoupled weight decay, multiplied by the learning rate (default 0). */
  weightDecay?: number;
  /** Which params get weight decay (default all), as in `addDecayedWeights`. */
  mask?: Mask | null;
}

/**
 * Checks the learning rate and the options of the optimizer `fn` (whose
 * defaults are `defaults`), and builds
 * `chain(scaleBy(rest), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(learningRate))`.
 */
export function scaledWithDecay<O extends object>(
  fn: string,
  learningRate: ScalarOrSchedule,
  options: unknown,
  defaults: O & WeightDecayOptions,
  scaleBy: (rest: O) => GradientTransformation,
): GradientTransformation {
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const { weightDecay, mask, ...rest } = resolveOptions(fn, options, defaults);
  return chain(scaleBy(rest as O), addDecayedWeights(weightDecay ?? 0, { mask: mask ?? undefined }), scaleByLearningRate(learningRate));
}
