/**
 * Everything this package takes from `@gradtx/core`, in one place: the public
 * API it builds on and the internals (validators, the element-wise spec
 * language) it writes its transforms in: the public API from
 * `@gradtx/core`, the internals from its subpath `@gradtx/core/engine`. Only
 * this module imports them, so a move of those internals to another entry
 * point is a change here alone.
 *
 * @module
 */
export {
  adamw,
  addDecayedWeights,
  applyUpdates,
  type BodyOutputs,
  biasCorrection,
  chain,
  type ElementwiseSpec,
  type ElementwiseState,
  type ExpressionReduction,
  elementwise,
  type GradientTransformation,
  identity,
  type Mask,
  type Ops,
  type Params,
  partition,
  perExampleGlobalNormClip,
  resolveScalar,
  type ScalarOrSchedule,
  safeIncrement,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  sgd,
  trace,
  treeBiasCorrection,
  treeFlatten,
  treeMap,
  treeMapWithPath,
  treeUnflatten,
  treeUpdateMoment,
  treeZerosLike,
  type UpdateExtras,
  type Updates,
} from '@gradtx/core';
export {
  checkBoolean,
  checkDecay,
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkPositive,
  checkScalarOrSchedule,
  checkScheduleValue,
  checkStateKeys,
  checkTransformation,
  f32,
  initElementwiseState,
  referenceUpdate,
  requireExtra,
  requireParams,
  resolveOptions,
} from '@gradtx/core/engine';
