/**
 * Scaling by constants and schedules: `scale`, `scaleBySchedule`,
 * `scaleByLearningRate` (optax `transform.py`).
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule, Schedule } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { declareLearningRate } from '../learning-rate.js';
import {
  checkBoolean,
  checkFinite,
  checkScalarOrSchedule,
  checkScheduleValue,
  type OptionDefaults,
  resolveOptions,
  showValue,
} from '../validate.js';

/**
 * Multiplies updates by a constant: `u = stepSize · g`. Stateless.
 * Reference: optax `scale`.
 *
 * $$
 * u = \alpha\, g, \qquad \alpha = \mathrm{stepSize}
 * $$
 */
export function scale(stepSize: number): GradientTransformation<ElementwiseState> {
  checkFinite('scale', 'stepSize', stepSize);
  return elementwise({
    name: 'scale',
    key: 'scale',
    slots: [],
    counted: false,
    needsParams: false,
    scalars: () => ({ stepSize }),
    body: (m, { u }, k) => ({ u: m.mul(k.stepSize, u) }),
  });
}

/**
 * Multiplies updates by a schedule's value at the step count:
 * `u = stepSizeFn(count) · g`. State `{ count }`.
 * Reference: optax `scale_by_schedule`.
 *
 * $$
 * u = \alpha(\mathrm{count})\, g
 * $$
 */
export function scaleBySchedule(stepSizeFn: Schedule): GradientTransformation<ElementwiseState> {
  if (typeof stepSizeFn !== 'function') {
    throw new Error(`scaleBySchedule: \`stepSizeFn\` must be a function (count) => number, got ${showValue(stepSizeFn)}`);
  }
  return elementwise({
    name: 'scaleBySchedule',
    key: 'scale',
    slots: [],
    counted: true,
    needsParams: false,
    scalars: (count) => ({ stepSize: checkScheduleValue('scaleBySchedule', 'stepSizeFn', stepSizeFn(count), count) }),
    body: (m, { u }, k) => ({ u: m.mul(k.stepSize, u) }),
  });
}

/** Options of {@link scaleByLearningRate}. */
export interface ScaleByLearningRateOptions {
  /** Scale by `-learningRate` (descent) rather than `+learningRate` (default true). */
  flipSign?: boolean;
}

/** The state of {@link scaleByLearningRate}: `{ count }` for a schedule, `{}` for a constant. */
export interface ScaleByLearningRateState {
  /** The number of updates so far (with a schedule only). */
  count?: number;
}

/** The defaults of {@link scaleByLearningRate}'s options (`undefined`: no default). */
export const scaleByLearningRateDefaults: OptionDefaults<ScaleByLearningRateOptions> = Object.freeze({ flipSign: true });

/**
 * Multiplies updates by `-learningRate` (or `+learningRate` when `flipSign`
 * is false). A constant becomes {@link scale} (stateless); a schedule becomes
 * {@link scaleBySchedule} (state `{ count }`). The learning rate must be a
 * finite number ≥ 0. Reference: optax `scale_by_learning_rate`.
 *
 * $$
 * u = -\eta_t\, g \qquad (+\eta_t\, g \text{ with } \texttt{flipSign: false})
 * $$
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(scaleByRms(), scaleByLearningRate((count) => 1e-3 * 0.99 ** count)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule,
  options?: ScaleByLearningRateOptions,
): GradientTransformation<ScaleByLearningRateState>;
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule,
  options: ScaleByLearningRateOptions = {},
): GradientTransformation<ElementwiseState> {
  const o = resolveOptions('scaleByLearningRate', options, scaleByLearningRateDefaults);
  checkScalarOrSchedule('scaleByLearningRate', 'learningRate', learningRate);
  const sign = checkBoolean('scaleByLearningRate', 'flipSign', o.flipSign) ? -1 : 1;
  if (typeof learningRate === 'function') {
    const tx = scaleBySchedule((count) => sign * checkScheduleValue('scaleByLearningRate', 'learningRate', learningRate(count), count, 0));
    return declareLearningRate(tx, learningRate);
  }
  return declareLearningRate(scale(sign * learningRate), learningRate);
}
