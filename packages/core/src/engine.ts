/**
 * `@gradtx/core/engine`: what backend packages and sibling packages of
 * gradtx plug into, apart from the user API of `@gradtx/core`.
 *
 * - The device contract ({@link Device}, {@link Launch}) and the one door
 *   every backend registers through ({@link registerFusedDevice}); the
 *   `cpu` and `wasm` devices of this package use it too.
 * - The kernel IR that devices print ({@link KernelIR}, {@link Node},
 *   {@link NodeOp}), the storage of its packed arrays ({@link PackedStorage},
 *   {@link storageOf}, {@link hasPacked}) and the plan of a transformation
 *   ({@link planOf}).
 * - What a device needs to store packed state itself: the int8 code maps
 *   ({@link dynamicMapOf}) and the codec contract ({@link StateCodec}).
 * - The one table of reductions ({@link REDUCTIONS}) that every target reads.
 * - For gradtx's own packages that add transformations (not documented,
 *   no stability promise): the validators every factory uses (`check*`,
 *   `resolveOptions`), `f32` and the reference evaluation of an element-wise
 *   spec (`initElementwiseState`, `referenceUpdate`).
 *
 * @module
 */
import './fused/devices/register.js';

export { initElementwiseState, referenceUpdate } from './elementwise.js';
export {
  type Device,
  type DeviceReduction,
  elementColumn,
  type Launch,
  type LaunchReductions,
  leafScalarCount,
  writtenTensors,
} from './fused/device.js';
export { type FusedSegment, type Plan, planOf, type Segment, type Stage, type StateLayout } from './fused/plan.js';
export { currentDevice, registerFusedDevice } from './fused/registry.js';
export { hasPacked, isScalesName, type PackedStorage, scalesName, storageOf } from './lang/packed-columns.js';
export {
  type CombineOp,
  combineValues,
  type FinishOp,
  finishValue,
  type PartialOp,
  partialOf,
  REDUCTIONS,
  type ReductionOp,
  type ReductionRule,
  reduceHost,
} from './lang/reductions.js';
export { f32 } from './lang/spec.js';
export type { DynamicMap } from './lang/storage/dynamic-map.js';
export { dynamicMapOf } from './lang/storage/slot-storage.js';
export type { PackedLeaf, StateCodec } from './lang/storage/tensor-codec.js';
export { type KernelIR, type Node, type NodeOp, type OutputRef, type ScalarRef, TraceError, traceRun } from './lang/trace.js';
export {
  checkBoolean,
  checkDecay,
  checkFinite,
  checkFloatTree,
  checkInteger,
  checkNonNegative,
  checkPositive,
  checkScalarOrSchedule,
  checkScheduleValue,
  checkStateKeys,
  checkTransformation,
  checkUnitInterval,
  requireExtra,
  requireParams,
  resolveOptions,
} from './validate.js';
