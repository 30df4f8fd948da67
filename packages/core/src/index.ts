/**
 * `@gradtx/core`: composable, pure gradient transformations for TensorFlow.js.
 *
 * The public surface, by name: trees and their utilities, the core types,
 * every transform, alias and combinator, the per-element language for
 * authors of element-wise transforms (`elementwise`, `ElementwiseSpec`,
 * `Ops`, ...), `fusedUpdate` and `createOptimizer`, `asTfOptimizer` and the
 * checkpoint functions. What backend packages plug into is on the subpath
 * `@gradtx/core/engine`; shared test helpers on `@gradtx/core/testing`.
 *
 * @packageDocumentation
 */
// the built-in cpu and wasm devices register through the same door as every other backend
import './fused/devices/register.js';

export {
  type AdabeliefOptions,
  type AdadeltaOptions,
  type AdafactorOptions,
  type AdagradOptions,
  type AdamaxOptions,
  type AdamaxwOptions,
  type AdamOptions,
  type AdamwOptions,
  type AmsgradOptions,
  adabelief,
  adadelta,
  adafactor,
  adagrad,
  adam,
  adamax,
  adamaxw,
  adamw,
  amsgrad,
  type FromageOptions,
  fromage,
  type LambOptions,
  type LarsOptions,
  type LionOptions,
  lamb,
  lars,
  lion,
  type NoisySgdOptions,
  type NovogradOptions,
  nadam,
  nadamw,
  noisySgd,
  novograd,
  type OptimisticGradientDescentOptions,
  optimisticGradientDescent,
  type RadamOptions,
  type RmspropOptions,
  type RpropOptions,
  radam,
  rmsprop,
  rprop,
  type SgdOptions,
  type SignumOptions,
  type Sm3Options,
  sgd,
  signSgd,
  signum,
  sm3,
  type YogiOptions,
  yogi,
} from './aliases.js';
export {
  type ExtraArgs,
  type Fusion,
  type GradientTransformation,
  type GradientTransformationExtraArgs,
  MAX_COUNT,
  type Params,
  resolveScalar,
  type ScalarOrSchedule,
  type Schedule,
  safeIncrement,
  type Tensor,
  type UpdateExtras,
  type Updates,
} from './base.js';
export { type ApplyIfFiniteState, applyIfFinite } from './combinators/apply-if-finite.js';
export {
  type ConditionallyMaskState,
  type ConditionallyOptions,
  type ConditionallyTransformState,
  type ConditionFn,
  conditionallyMask,
  conditionallyTransform,
} from './combinators/conditionally.js';
export { flatten } from './combinators/flatten.js';
export { freeze, type SelectiveTransformOptions, selectiveTransform } from './combinators/freeze.js';
export {
  type InjectArg,
  type InjectedArgs,
  type InjectField,
  type InjectHyperparamsOptions,
  type InjectHyperparamsState,
  injectHyperparams,
  injectStatefulHyperparams,
  type StatefulInjectedArgs,
  type StatefulSchedule,
} from './combinators/inject-hyperparams.js';
export {
  type LookaheadOptions,
  type LookaheadParams,
  type LookaheadState,
  lookahead,
  lookaheadParamsInit,
} from './combinators/lookahead.js';
export { type Mask, type MaskedOptions, type MaskedState, type MaskTree, masked, maskedTx, resolveMask } from './combinators/masked.js';
export {
  hasUpdated,
  type MultiStepsOptions,
  type MultiStepsState,
  multiSteps,
  type ShouldSkipUpdateFn,
  skipLargeUpdates,
  skipNotFinite,
} from './combinators/multi-steps.js';
export {
  type LabelTree,
  multiTransform,
  type ParamLabels,
  type PartitionOptions,
  type PartitionState,
  partition,
} from './combinators/partition.js';
export { chain, identity, namedChain, setToZero, stateless, statelessWithTreeMap } from './combine.js';
export { type ElementwiseState, elementwise } from './elementwise.js';
export type { DonateOptions } from './fused/donation.js';
export { isFusedEnabled, registerFusedDevice, setFusedEnabled } from './fused/registry.js';
export { fusedStats } from './fused/stats.js';
export { type FusedUpdateOptions, fusedUpdate } from './fused/step.js';
export {
  flattenState,
  type HandlerOrUrl,
  loadState,
  loadStateFrom,
  type NamedTensor,
  STATE_FORMAT,
  STATE_FORMAT_VERSION,
  type StateArtifacts,
  type StateStructure,
  type StateTopology,
  saveState,
  saveStateTo,
  type TensorSpec,
  unflattenState,
} from './interop/checkpoint.js';
export { asTfOptimizer, GradtxTfOptimizer, TF_OPTIMIZER_STRUCTURE_WEIGHT, type TfOptimizerOptions } from './interop/tf-optimizer.js';
export { correctedFirstMoment, type FirstMomentScalars, updateMoment } from './lang/moments.js';
export {
  type BodyInputs,
  type BodyOutputs,
  biasCorrection,
  type ElementwiseSpec,
  type Ops,
  type ReductionSpec,
  type SlotSpec,
} from './lang/spec.js';
export { createOptimizer, type Optimizer, type OptimizerOptions } from './optimizer.js';
export { type ScaleByAdadeltaOptions, scaleByAdadelta } from './transforms/adadelta.js';
export {
  type ScaleByAdamaxOptions,
  type ScaleByAdamOptions,
  type ScaleByAMSGradOptions,
  type ScaleByRAdamOptions,
  scaleByAdam,
  scaleByAdamax,
  scaleByAMSGrad,
  scaleByRAdam,
} from './transforms/adam.js';
export {
  type ScaleByBeliefOptions,
  type ScaleByNovogradOptions,
  type ScaleByNovogradState,
  type ScaleByYogiOptions,
  scaleByBelief,
  scaleByNovograd,
  scaleByYogi,
} from './transforms/adaptive.js';
export { centralize } from './transforms/centralize.js';
export {
  type AdaptiveGradClipOptions,
  adaptiveGradClip,
  type ClipByGlobalNormState,
  clip,
  clipByBlockRms,
  clipByGlobalNorm,
} from './transforms/clipping.js';
export { keepParamsNonnegative, type ZeroNansState, zeroNans } from './transforms/constrain.js';
export { type AddDecayedWeightsOptions, addDecayedWeights } from './transforms/decay.js';
export { type FactoredDecayRateFn, type FactoredState, type ScaleByFactoredRmsOptions, scaleByFactoredRms } from './transforms/factored.js';
export { type LionMode, type ScaleByLionOptions, scaleByLion } from './transforms/lion.js';
export { type EmaOptions, ema, type TraceOptions, trace } from './transforms/momentum.js';
export { type AddNoiseState, addNoise } from './transforms/noise.js';
export { type ScaleByOptimisticGradientOptions, scaleByOptimisticGradient } from './transforms/optimistic.js';
export {
  type ScaleByRmsOptions,
  type ScaleByRssOptions,
  type ScaleByStddevOptions,
  scaleByRms,
  scaleByRss,
  scaleByStddev,
} from './transforms/rms.js';
export { type ScaleByRpropOptions, scaleByRprop } from './transforms/rprop.js';
export { type ScaleByLearningRateOptions, scale, scaleByLearningRate, scaleBySchedule } from './transforms/scaling.js';
export { scaleBySign } from './transforms/sign.js';
export { type ScaleBySm3Options, type ScaleBySm3State, scaleBySm3 } from './transforms/sm3.js';
export {
  type NormalizeByUpdateNormOptions,
  normalizeByUpdateNorm,
  type ScaleByParamBlockNormOptions,
  type ScaleByParamBlockRmsOptions,
  type ScaleByTrustRatioOptions,
  scaleByParamBlockNorm,
  scaleByParamBlockRms,
  scaleByTrustRatio,
} from './transforms/trust.js';
export {
  assertSameShapes,
  assertSameStructure,
  formatPath,
  isTensor,
  type Leaf,
  type PathKey,
  sameStructure,
  type TensorTree,
  type Tree,
  type TreeDef,
  TreeMismatchError,
  type TreeWalkOptions,
  treeFlatten,
  treeLeaves,
  treeLeavesWithPath,
  treeMap,
  treeMapWithPath,
  treeStructure,
  treeUnflatten,
} from './tree.js';
export {
  type NormOrd,
  type Scalar,
  type TreeKeyFilter,
  type TreeMapParamsOptions,
  treeAdd,
  treeAddScale,
  treeCast,
  treeCastLike,
  treeClip,
  treeDiv,
  treeFullLike,
  treeGet,
  treeGetAllWithPath,
  treeL1Norm,
  treeL2Norm,
  treeLinfNorm,
  treeMapParams,
  treeMax,
  treeMin,
  treeMul,
  treeNorm,
  treeOnesLike,
  treeScale,
  treeSet,
  treeSize,
  treeSub,
  treeSum,
  treeVdot,
  treeWhere,
  treeZerosLike,
} from './tree-utils.js';
export { applyUpdates, incrementalUpdate, periodicUpdate } from './update.js';
