/**
 * `@gradtx/core`: composable, pure gradient transformations for TensorFlow.js.
 *
 * @packageDocumentation
 */
// One line per module, in the order Biome keeps them: trees and types (base, tree, tree-utils,
// validate), the algebra (combine, update, elementwise, combinators/), transforms/, aliases,
// the fused engine (fused/) with what backend packages plug into, interop/ and createOptimizer.
export * from './aliases.js';
export * from './base.js';
export * from './combinators/apply-if-finite.js';
export * from './combinators/conditionally.js';
export * from './combinators/flatten.js';
export * from './combinators/freeze.js';
export * from './combinators/inject-hyperparams.js';
export * from './combinators/lookahead.js';
export * from './combinators/masked.js';
export * from './combinators/multi-steps.js';
export * from './combinators/partition.js';
export * from './combine.js';
export * from './elementwise.js';
export {
  currentDevice,
  type DonateOptions,
  type FusedUpdateOptions,
  fusedStats,
  fusedUpdate,
  registerFusedDevice,
} from './fused/engine.js';
export {
  type Device,
  type DeviceReduction,
  isFusedEnabled,
  type Launch,
  type LaunchReductions,
  setFusedEnabled,
} from './fused/runtime.js';
export * from './fused/spec.js';
export type { KernelIR, Node, NodeOp, OutputRef, ScalarRef } from './fused/trace.js';
export * from './interop/checkpoint.js';
export * from './interop/tf-optimizer.js';
export { nnls, type PowerIterationOptions, powerIteration } from './linear-algebra.js';
export { globalNorm, type SafeNormOrd, safeNorm, safeRootMeanSquares } from './numerics.js';
export * from './optimizer.js';
export { fastPrecision, type Precision } from './precision.js';
export { projectionHalfspace, projectionHyperplane, projectionVector } from './projections/affine.js';
export { type Bound, projectionBox, projectionHypercube, projectionLinfBall, projectionNonNegative } from './projections/box.js';
export { projectionL2Ball, projectionL2Sphere } from './projections/l2.js';
export { projectionL1Ball, projectionL1Sphere, projectionSimplex } from './projections/simplex.js';
export { scaleGradient } from './scale-gradient.js';
export * from './transforms/adadelta.js';
export * from './transforms/adam.js';
export * from './transforms/adan.js';
export * from './transforms/adaptive.js';
export { applyEvery } from './transforms/apply-every.js';
export {
  type BacktrackingLinesearchState,
  type ScaleByBacktrackingLinesearchOptions,
  scaleByBacktrackingLinesearch,
} from './transforms/backtracking-linesearch.js';
export * from './transforms/centralize.js';
export * from './transforms/clipping.js';
export * from './transforms/constrain.js';
export * from './transforms/decay.js';
export * from './transforms/distance-over-gradients.js';
export * from './transforms/factored.js';
export { type LbfgsOptions, type LbfgsState, lbfgs, type ScaleByLbfgsOptions, scaleByLbfgs } from './transforms/lbfgs.js';
export * from './transforms/lion.js';
export * from './transforms/momentum.js';
export { type Measure, type MeasureWithEmaOptions, type MonitorState, measureWithEma, monitor, snapshot } from './transforms/monitoring.js';
export * from './transforms/noise.js';
export * from './transforms/optimistic.js';
export * from './transforms/optimistic-adam.js';
export { perExampleGlobalNormClip, perExampleLayerNormClip } from './transforms/per-example-clip.js';
export * from './transforms/polyak.js';
export * from './transforms/rms.js';
export * from './transforms/rprop.js';
export * from './transforms/scaling.js';
export * from './transforms/sign.js';
export * from './transforms/sm3.js';
export * from './transforms/trust.js';
export { unitwiseClip, unitwiseNorm } from './transforms/unitwise.js';
export { type ValueFn, valueAndGradFromState } from './transforms/value-and-grad.js';
export { type ScaleByZoomLinesearchOptions, scaleByZoomLinesearch, type ZoomLinesearchState } from './transforms/zoom-linesearch.js';
export * from './tree.js';
export { type TreeAllcloseOptions, treeAllclose, treeBatchShape, treeConj, treeDtype, treeReal } from './tree-inspect.js';
export { treeBiasCorrection, treeUpdateInfinityMoment, treeUpdateMoment, treeUpdateMomentPerElemNorm } from './tree-moments.js';
export { type TreeSampler, treeRandomLike } from './tree-random.js';
export * from './tree-utils.js';
export * from './update.js';
export * from './validate.js';
