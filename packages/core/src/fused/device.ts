/**
 * The device contract: what a backend gives the fused engine (a {@link Device})
 * and what a bound kernel is (a {@link Launch}). Every backend, built in or
 * not, implements it and registers through `registerFusedDevice`.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { PartialOp } from '../lang/reductions.js';
import type { ReductionSpec } from '../lang/spec.js';
import type { KernelIR } from '../lang/trace.js';

/**
 * A kernel bound to the buffers of every leaf, ready to run. Columns are the
 * IR's inputs then its outputs; column `j` holds one tensor per leaf.
 * A launch can be kept and run again: `setColumn` rebinds one column (the
 * gradients, each step).
 */
export interface Launch {
  /** Rebinds column `j` to new tensors (same sizes); false, leaving the launch unusable, when one does not live on this backend. */
  setColumn(j: number, tensors: readonly tf.Tensor[]): boolean;
  /**
   * Devices that reduce on their own ({@link Device.reducesOnDevice}):
   * rebinds the incoming updates the reductions read (`LaunchReductions.u`);
   * false, leaving the launch unusable, when one does not live on the device.
   */
  setUpdates?(tensors: readonly tf.Tensor[]): boolean;
  /**
   * Runs the kernel. `scalars` holds one float32-rounded value per IR scalar
   * (per-leaf ones unused); `leafScalars[l * nLeaf + s]` the per-leaf ones.
   */
  run(scalars: Float64Array, leafScalars: Float64Array): void;
}

/**
 * A reduction computed by a device that reduces on its own (see
 * {@link Device.reducesOnDevice}), as the reference path computes it.
 */
export interface DeviceReduction {
  /** Over the run's incoming updates (`u`) or the params (`p`). */
  readonly of: 'u' | 'p';
  readonly op: ReductionSpec['op'];
  readonly scope: ReductionSpec['scope'];
  /** The index of the IR scalar whose value this is, if the kernel reads it. */
  readonly scalar?: number;
  /** A float32 scalar tensor that receives the (global) value: a reduction kept in the state. */
  readonly target?: tf.Tensor | null;
}

/** The reductions of a launch on a device that reduces on its own, with the tensors they read. */
export interface LaunchReductions {
  /** The run's incoming updates, one tensor per leaf. */
  readonly u: readonly tf.Tensor[];
  /** The params, one tensor per leaf. */
  readonly p: readonly tf.Tensor[];
  readonly list: readonly DeviceReduction[];
}

/**
 * A backend the fused engine can run kernels on. Every device registers
 * with `registerFusedDevice`: the `cpu` and `wasm` ones of this package
 * (`fused/devices/`) as `@gradtx/webgpu` does its own.
 */
export interface Device {
  /** The tfjs backend name. */
  readonly name: string;
  readonly backend: tf.KernelBackend;
  /**
   * When true, the device computes the reductions itself inside a launch
   * (the engine passes them as `LaunchReductions` and never calls
   * {@link Device.partial}), and fills the reduction scalars on its side.
   */
  readonly reducesOnDevice?: boolean;
  /** Whether the tensor's data lives on this backend (tfjs moves data between backends lazily). */
  resident(t: tf.Tensor): boolean;
  /** Whether the tensor's buffer belongs to this tensor alone, so it may be overwritten when donated. */
  exclusive(t: tf.Tensor): boolean;
  /**
   * The backend's record of a tensor's data (it carries the buffer's
   * `refCount`); stable while the data lives, so a caller may keep it and
   * read `refCount` later (0 once the data is released).
   */
  record(t: tf.Tensor): { readonly refCount: number } | undefined;
  /** A new float32 tensor with unspecified contents. */
  alloc(shape: readonly number[]): tf.Tensor;
  /** One leaf's partial reduction: the float32 sum of float32 squares, the float32 sum, or the largest |x| (NaN-propagating). */
  partial(op: PartialOp, t: tf.Tensor): number;
  /** Overwrites the value of an exclusive scalar tensor. */
  setScalar(t: tf.Tensor, value: number): void;
  /** Compiles what a launch of `ir` needs; false when no code can be generated here (CSP). No side effects on tensors. */
  prepare(ir: KernelIR): boolean;
  /**
   * Binds the kernel of `ir` (prepared) to `columns` (the IR's inputs then
   * outputs, one tensor per leaf each); `reductions` only for devices that
   * reduce on their own.
   */
  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions?: LaunchReductions): Launch;
}

/** The number of per-leaf scalars of an IR. */
export function leafScalarCount(ir: KernelIR): number {
  let n = 0;
  for (const s of ir.scalars) if (s.source === 'leaf') n++;
  return n;
}
