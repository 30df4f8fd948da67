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
  type AdabeliefState,
  type AdadeltaOptions,
  type AdadeltaState,
  type AdafactorOptions,
  type AdafactorState,
  type AdagradOptions,
  type AdagradState,
  type AdamaxOptions,
  type AdamaxState,
  type AdamaxwOptions,
  type AdamaxwState,
  type AdamOptions,
  type AdamState,
  type AdamwOptions,
  type AdamwState,
  type AmsgradOptions,
  type AmsgradState,
  adabelief,
  adabeliefDefaults,
  adadelta,
  adadeltaDefaults,
  adafactor,
  adafactorDefaults,
  adagrad,
  adam,
  adamax,
  adamaxw,
  adamaxwDefaults,
  adamDefaults,
  adamw,
  adamwDefaults,
  amsgrad,
  type FromageOptions,
  type FromageState,
  fromage,
  fromageDefaults,
  type LambOptions,
  type LambState,
  type LarsOptions,
  type LarsState,
  type LionOptions,
  type LionState,
  lamb,
  lambDefaults,
  lars,
  larsDefaults,
  lion,
  lionDefaults,
  type MomentumStageState,
  type NoisySgdOptions,
  type NoisySgdState,
  type NovogradOptions,
  type NovogradState,
  nadam,
  nadamDefaults,
  nadamw,
  nadamwDefaults,
  noisySgd,
  noisySgdDefaults,
  novograd,
  novogradDefaults,
  type OptimisticGradientDescentOptions,
  type OptimisticGradientDescentState,
  optimisticGradientDescent,
  type RadamOptions,
  type RadamState,
  type RmspropOptions,
  type RmspropState,
  type RpropOptions,
  type RpropState,
  radam,
  rmsprop,
  rmspropDefaults,
  rprop,
  type SgdOptions,
  type SgdState,
  type SignSgdState,
  type SignumOptions,
  type SignumState,
  type Sm3Options,
  type Sm3State,
  sgd,
  sgdDefaults,
  signSgd,
  signum,
  signumDefaults,
  sm3,
  sm3Defaults,
  type YogiOptions,
  type YogiState,
  yogi,
  yogiDefaults,
} from './aliases.js';
export {
  type AsPackedTree,
  type AsTensors,
  type Exact,
  type ExtraArgs,
  type Fusion,
  type GradientTransformation,
  type GradientTransformationExtraArgs,
  type GroupedStep,
  type LeafGroup,
  type LoweredStep,
  type LoweringInputs,
  MAX_COUNT,
  type NoOptions,
  type PackedTree,
  type Params,
  type ParamsTree,
  resolveScalar,
  type ScalarOrSchedule,
  type Schedule,
  type StateFor,
  type StateOf,
  safeIncrement,
  safeInt32Increment,
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
  conditionallyDefaults,
  conditionallyMask,
  conditionallyTransform,
} from './combinators/conditionally.js';
export { flatten } from './combinators/flatten.js';
export { freeze, type SelectiveTransformOptions, selectiveTransform, selectiveTransformDefaults } from './combinators/freeze.js';
export {
  type InjectArg,
  type InjectedArgs,
  type InjectField,
  type InjectHyperparamsOptions,
  type InjectHyperparamsState,
  injectHyperparams,
  injectHyperparamsDefaults,
  injectStatefulHyperparams,
  type StatefulInjectedArgs,
  type StatefulSchedule,
} from './combinators/inject-hyperparams.js';
export {
  type LookaheadOptions,
  type LookaheadParams,
  type LookaheadState,
  lookahead,
  lookaheadDefaults,
  lookaheadParamsInit,
} from './combinators/lookahead.js';
export {
  type Mask,
  type MaskedOptions,
  type MaskedState,
  type MaskTree,
  masked,
  maskedDefaults,
  maskedTx,
  resolveMask,
} from './combinators/masked.js';
export {
  hasUpdated,
  type MultiStepsOptions,
  type MultiStepsState,
  multiSteps,
  multiStepsDefaults,
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
  partitionDefaults,
} from './combinators/partition.js';
export {
  type ChainState,
  chain,
  type EmptyState,
  identity,
  initEmptyState,
  namedChain,
  setToZero,
  stateless,
  statelessWithTreeMap,
  withExtraArgsSupport,
} from './combine.js';
export { type ElementwiseState, type ElementwiseStateOf, elementwise } from './elementwise.js';
export type { DonateOptions } from './fused/donation.js';
export { isFusedEnabled, registerFusedDevice, setFusedEnabled } from './fused/registry.js';
export { fusedStats } from './fused/stats.js';
export { type FusedUpdateOptions, fusedUpdate } from './fused/step.js';
export { type ValueAndGrad, valueAndGrad } from './gradients.js';
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
export { type FitLogsObject, type StepLogs, stepLogs } from './interop/fit-logs.js';
export { type SplitModelHandler, splitOptimizerWeights } from './interop/layers-model.js';
export { asTfOptimizer, GradtxTfOptimizer, TF_OPTIMIZER_STRUCTURE_WEIGHT, type TfOptimizerOptions } from './interop/tf-optimizer.js';
export {
  loadCheckpoint,
  loadCheckpointFrom,
  saveCheckpoint,
  saveCheckpointTo,
  type TrainingCheckpoint,
} from './interop/training-checkpoint.js';
export { correctedFirstMoment, type FirstMomentScalars, updateMoment } from './lang/moments.js';
export {
  type BodyInputs,
  type BodyOutputs,
  biasCorrection,
  type ElementwiseSpec,
  type ExpressionReduction,
  type Ops,
  type ReductionSpec,
  type ScalarStateSpec,
  type SlotSpec,
} from './lang/spec.js';
export type { PackedSlot, SlotStorage } from './lang/storage/slot-storage.js';
export { nnls, type PowerIterationOptions, powerIteration } from './linear-algebra.js';
export { type MatrixInversePthRootOptions, matrixInversePthRoot } from './matrix-inverse-root.js';
export {
  type AccumulationType,
  type Accumulator,
  type AccumulatorTree,
  type MicrobatchOptions,
  microbatch,
  reshapeBatchAxis,
} from './microbatching.js';
export { type MultiNormalDiag, multiNormal } from './multi-normal.js';
export { globalNorm, type SafeNormOrd, safeNorm, safeRootMeanSquares } from './numerics.js';
export {
  createOptimizer,
  createOptimizerDefaults,
  type MinimizeOptions,
  minimizeWith,
  type Optimizer,
  type OptimizerOptions,
} from './optimizer.js';
export { fastPrecision, type Precision } from './precision.js';
export { projectionHalfspace, projectionHyperplane, projectionVector } from './projections/affine.js';
export { type Bound, projectionBox, projectionHypercube, projectionLinfBall, projectionNonNegative } from './projections/box.js';
export { projectionL2Ball, projectionL2Sphere } from './projections/l2.js';
export { projectionL1Ball, projectionL1Sphere, projectionSimplex } from './projections/simplex.js';
export { scaleGradient } from './scale-gradient.js';
export type { StepHook, StepPath, StepReport } from './step-report.js';
export { TFJS_CORE_RANGE } from './tfjs-version.js';
export { type ScaleByAdadeltaOptions, scaleByAdadelta, scaleByAdadeltaDefaults } from './transforms/adadelta.js';
export {
  type ScaleByAdamaxOptions,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  type ScaleByAdamStateFor,
  type ScaleByAMSGradOptions,
  type ScaleByAMSGradState,
  type ScaleByAMSGradStateFor,
  type ScaleByRAdamOptions,
  scaleByAdam,
  scaleByAdamax,
  scaleByAdamaxDefaults,
  scaleByAdamDefaults,
  scaleByAMSGrad,
  scaleByAMSGradDefaults,
  scaleByRAdam,
  scaleByRAdamDefaults,
} from './transforms/adam.js';
export {
  type AdanOptions,
  type AdanState,
  adan,
  adanDefaults,
  type ScaleByAdanOptions,
  scaleByAdan,
  scaleByAdanDefaults,
} from './transforms/adan.js';
export {
  type ScaleByBeliefOptions,
  type ScaleByNovogradOptions,
  type ScaleByNovogradState,
  type ScaleByYogiOptions,
  scaleByBelief,
  scaleByBeliefDefaults,
  scaleByNovograd,
  scaleByNovogradDefaults,
  scaleByYogi,
  scaleByYogiDefaults,
} from './transforms/adaptive.js';
export { applyEvery } from './transforms/apply-every.js';
export {
  type BacktrackingLinesearchState,
  type ScaleByBacktrackingLinesearchOptions,
  scaleByBacktrackingLinesearch,
} from './transforms/backtracking-linesearch.js';
export { centralize } from './transforms/centralize.js';
export {
  type AdaptiveGradClipOptions,
  adaptiveGradClip,
  adaptiveGradClipDefaults,
  type ClipByGlobalNormState,
  clip,
  clipByBlockRms,
  clipByGlobalNorm,
} from './transforms/clipping.js';
export { keepParamsNonnegative, type ZeroNansState, zeroNans } from './transforms/constrain.js';
export {
  type AddDecayedWeightsOptions,
  type AddDecayedWeightsState,
  addDecayedWeights,
  addDecayedWeightsDefaults,
} from './transforms/decay.js';
export {
  type DistanceOverGradientsState,
  type ScaleByDistanceOverGradientsOptions,
  scaleByDistanceOverGradients,
  scaleByDistanceOverGradientsDefaults,
} from './transforms/distance-over-gradients.js';
export {
  type FactoredDecayRateFn,
  type FactoredState,
  type ScaleByFactoredRmsOptions,
  scaleByFactoredRms,
  scaleByFactoredRmsDefaults,
} from './transforms/factored.js';
export {
  type LbfgsAliasState,
  type LbfgsOptions,
  type LbfgsState,
  lbfgs,
  type ScaleByLbfgsOptions,
  scaleByLbfgs,
} from './transforms/lbfgs.js';
export { type LionMode, type ScaleByLionOptions, type ScaleByLionState, scaleByLion, scaleByLionDefaults } from './transforms/lion.js';
export {
  type EmaOptions,
  type EmaState,
  ema,
  emaDefaults,
  type TraceOptions,
  type TraceState,
  trace,
  traceDefaults,
} from './transforms/momentum.js';
export {
  type Measure,
  type MeasureWithEmaOptions,
  type MeasureWithEmaState,
  type MonitorState,
  measureWithEma,
  monitor,
  snapshot,
} from './transforms/monitoring.js';
export { type AddNoiseState, addNoise } from './transforms/noise.js';
export {
  type ScaleByOptimisticGradientOptions,
  scaleByOptimisticGradient,
  scaleByOptimisticGradientDefaults,
} from './transforms/optimistic.js';
export {
  type OptimisticAdamOptions,
  type OptimisticAdamState,
  type OptimisticAdamV2Options,
  optimisticAdam,
  optimisticAdamDefaults,
  optimisticAdamV2,
  optimisticAdamV2Defaults,
} from './transforms/optimistic-adam.js';
export { perExampleGlobalNormClip, perExampleLayerNormClip } from './transforms/per-example-clip.js';
export {
  type PolyakSgdOptions,
  type PolyakSgdState,
  type PolyakVariant,
  polyakSgd,
  polyakSgdDefaults,
  type ScaleByPolyakOptions,
  scaleByPolyak,
  scaleByPolyakDefaults,
} from './transforms/polyak.js';
export {
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByRssOptions,
  type ScaleByRssState,
  type ScaleByStddevOptions,
  scaleByRms,
  scaleByRmsDefaults,
  scaleByRss,
  scaleByRssDefaults,
  scaleByStddev,
  scaleByStddevDefaults,
} from './transforms/rms.js';
export { type ScaleByRpropOptions, scaleByRprop, scaleByRpropDefaults } from './transforms/rprop.js';
export {
  type ScaleByLearningRateOptions,
  type ScaleByLearningRateState,
  scale,
  scaleByLearningRate,
  scaleByLearningRateDefaults,
  scaleBySchedule,
} from './transforms/scaling.js';
export { scaleBySign } from './transforms/sign.js';
export { type ScaleBySm3Options, type ScaleBySm3State, scaleBySm3, scaleBySm3Defaults } from './transforms/sm3.js';
export type {
  AccumulatorStorageOptions,
  DtypeOf,
  MomentStorageOptions,
  PackedSlot8,
  PackedSlot16,
  StateDtype,
  StoredSlot,
  WithStorage,
} from './transforms/state-dtype.js';
export {
  type NormalizeByUpdateNormOptions,
  normalizeByUpdateNorm,
  normalizeByUpdateNormDefaults,
  type ScaleByParamBlockNormOptions,
  type ScaleByParamBlockRmsOptions,
  type ScaleByTrustRatioOptions,
  scaleByParamBlockNorm,
  scaleByParamBlockNormDefaults,
  scaleByParamBlockRms,
  scaleByParamBlockRmsDefaults,
  scaleByTrustRatio,
  scaleByTrustRatioDefaults,
} from './transforms/trust.js';
export { unitwiseClip, unitwiseNorm } from './transforms/unitwise.js';
export { type ValueFn, valueAndGradFromState } from './transforms/value-and-grad.js';
export { type ScaleByZoomLinesearchOptions, scaleByZoomLinesearch, type ZoomLinesearchState } from './transforms/zoom-linesearch.js';
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
export { type TreeAllcloseOptions, treeAllclose, treeBatchShape, treeConj, treeDtype, treeReal } from './tree-inspect.js';
export { treeBiasCorrection, treeUpdateInfinityMoment, treeUpdateMoment, treeUpdateMomentPerElemNorm } from './tree-moments.js';
export { type TreeSampler, treeRandomLike } from './tree-random.js';
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
export type { OptionDefaults } from './validate.js';
