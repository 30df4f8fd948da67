/**
 * Everything this package takes from `@gradtx/core`, in one place: the public
 * API it builds on and the internals (validators, the element-wise spec
 * language) it writes its transforms in. Only this module imports
 * `@gradtx/core`, so a move of those internals to another entry point is a
 * change here alone.
 *
 * @module
 */
export {
  adamw,
  addDecayedWeights,
  applyUpdates,
  biasCorrection,
  chain,
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
  type ElementwiseSpec,
  type ElementwiseState,
  elementwise,
  f32,
  type GradientTransformation,
  identity,
  initElementwiseState,
  type Mask,
  type Ops,
  type Params,
  partition,
  perExampleGlobalNormClip,
  referenceUpdate,
  requireExtra,
  requireParams,
  resolveOptions,
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
  type UpdateExtras,
  type Updates,
} from '@gradtx/core';
