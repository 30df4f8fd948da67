/**
 * `@gradtx/schedules`: optax's schedules as pure `(count) => number`
 * functions in JS doubles, with no tfjs import.
 *
 * @packageDocumentation
 */
export type { Schedule } from './base.js';
export { scheduleConstant } from './constant.js';
export { type ScheduleCosineDecayOptions, scheduleCosineDecay } from './cosine.js';
export { type ScheduleExponentialDecayOptions, scheduleExponentialDecay } from './exponential.js';
export { scheduleJoin } from './join.js';
export { type ScheduleLinearOptions, type SchedulePolynomialOptions, scheduleLinear, schedulePolynomial } from './linear.js';
export {
  type ScheduleCosineOnecycleOptions,
  type ScheduleLinearOnecycleOptions,
  scheduleCosineOnecycle,
  scheduleLinearOnecycle,
} from './onecycle.js';
export {
  type BoundariesAndScales,
  type InterpolateType,
  type SchedulePiecewiseConstantOptions,
  type SchedulePiecewiseInterpolateOptions,
  schedulePiecewiseConstant,
  schedulePiecewiseInterpolate,
} from './piecewise.js';
export { scheduleSgdr } from './sgdr.js';
export {
  type ScheduleWarmupConstantOptions,
  type ScheduleWarmupCosineOptions,
  type ScheduleWarmupExponentialOptions,
  scheduleWarmupConstant,
  scheduleWarmupCosine,
  scheduleWarmupExponential,
} from './warmup.js';
