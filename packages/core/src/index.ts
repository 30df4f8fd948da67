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
export * from './interop/checkpoint.js';
export * from './interop/tf-optimizer.js';
export * from './lang/spec.js';
export type { KernelIR, Node, NodeOp, OutputRef, ScalarRef } from './lang/trace.js';
export * from './optimizer.js';
export * from './transforms/adadelta.js';
export * from './transforms/adam.js';
export * from './transforms/adaptive.js';
export * from './transforms/centralize.js';
export * from './transforms/clipping.js';
export * from './transforms/constrain.js';
export * from './transforms/decay.js';
export * from './transforms/factored.js';
export * from './transforms/lion.js';
export * from './transforms/momentum.js';
export * from './transforms/noise.js';
export * from './transforms/optimistic.js';
export * from './transforms/rms.js';
export * from './transforms/rprop.js';
export * from './transforms/scaling.js';
export * from './transforms/sign.js';
export * from './transforms/sm3.js';
export * from './transforms/trust.js';
export * from './tree.js';
export * from './tree-utils.js';
export * from './update.js';
export * from './validate.js';
