/**
 * The device contract: what a backend gives the fused engine (a {@link Device})
 * and what a bound kernel is (a {@link Launch}). Every backend, built in or
 * not, implements it and registers through `registerFusedDevice`.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { isScalesName } from '../lang/packed-columns.js';
import type { ReductionSpec } from '../lang/spec.js';
import type { StateCodec } from '../lang/storage/tensor-codec.js';
import type { KernelIR } from '../lang/trace.js';

/**
 * A kernel bound to the buffers of every leaf, and the reductions that feed
 * it, ready to run. Columns are the IR's inputs then its outputs; column `j`
 * holds one tensor per leaf. A launch can be kept and run again:
 * `setColumn` rebinds one column and `setUpdates` the updates the reductions
 * read (the gradients, each step).
 */
export interface Launch {
  /** Rebinds column `j` to new tensors (same sizes); false, leaving the launch unusable, when one does not live on this backend. */
  setColumn(j: number, tensors: readonly tf.Tensor[]): boolean;
  /**
   * Rebinds the incoming updates the reductions read (`LaunchReductions.u`);
   * false, leaving the launch unusable, when one does not live on the device.
   */
  setUpdates(tensors: readonly tf.Tensor[]): boolean;
  /**
   * Computes the launch's reductions, then runs the kernel. `scalars` holds
   * one float32-rounded value per IR scalar that comes from the spec's
   * `scalars(count)`; the device fills those of the reductions (per-leaf ones
   * stay on its side). Returns false, having changed nothing, when a tensor
   * it writes ({@link writtenTensors}) no longer holds its buffer alone
   * (e.g. a `tf.clone` of a param was taken since the launch was bound).
   */
  run(scalars: Float64Array): boolean;
}

/**
 * A reduction a launch computes before its kernel, as the reference path
 * computes it (see the table of reductions, `REDUCTIONS`).
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

/** The reductions of a launch, with the tensors they read. */
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
  /** Whether the tensor's data lives on this backend (tfjs moves data between backends lazily). */
  resident(t: tf.Tensor): boolean;
  /** Whether the tensor's buffer belongs to this tensor alone, so it may be overwritten when donated. */
  exclusive(t: tf.Tensor): boolean;
  /**
   * A new tensor with unspecified contents: float32, or int32 for the code
   * words of a packed slot (asked only of a device whose `prepare` accepted
   * an IR with packed arrays, `KernelIR.packed`).
   */
  alloc(shape: readonly number[], dtype?: 'float32' | 'int32'): tf.Tensor;
  /** Compiles what a launch of `ir` needs; false when no code can be generated here (CSP). No side effects on tensors. */
  prepare(ir: KernelIR): boolean;
  /**
   * Binds the kernel of `ir` (prepared) to `columns` (the IR's inputs then
   * outputs, one tensor per leaf each) and to its `reductions`: each run
   * computes them first (the IR's reduction scalars, and the targets of
   * those kept in the state), then the kernel. Every device takes its
   * reductions this way, whether it reduces on the GPU or on the host.
   */
  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions: LaunchReductions): Launch;
  /**
   * The value of a float32 scalar tensor on this device, read synchronously
   * (the host devices read their memory). A transform with scalar state
   * (`ElementwiseSpec.scalarState`, e.g. Prodigy's estimate) reads its
   * per-step scalars back through this; on a device without it (WebGPU,
   * where a read-back stalls the queue) such a transform runs on the
   * reference path.
   */
  readScalar?(t: tf.Tensor): number;
  /**
   * Whether every element of a float32 tensor on this device is finite,
   * read on the host (the host devices check their memory in one pass). A
   * lowering that decides its step by it (`applyIfFinite`) reads it; without
   * it, tfjs ops decide.
   */
  allFinite?(t: tf.Tensor): boolean;
  /** The device's codecs of packed state, on a backend where the tfjs-op codecs are not exact (see {@link StateCodec}). */
  readonly codec?: StateCodec;
}

/** The tensors a launch of `ir` writes: its output columns, then the targets of its reductions. */
export function writtenTensors(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions: LaunchReductions): tf.Tensor[] {
  const out = columns.slice(ir.inputs.length).flat();
  for (const r of reductions.list) if (r.target) out.push(r.target);
  return out;
}

/** The number of per-leaf scalars of an IR. */
export function leafScalarCount(ir: KernelIR): number {
  let n = 0;
  for (const s of ir.scalars) if (s.source === 'leaf') n++;
  return n;
}

/**
 * The column whose tensors have a leaf's element count: the first float32
 * array among the IR's inputs and outputs (a packed array holds code words;
 * the last output, `p` or `u`, is always float32).
 */
export function elementColumn(ir: KernelIR): number {
  const names = [...ir.inputs, ...ir.outputs.map((o) => o.name)];
  return names.findIndex((name) => !Object.hasOwn(ir.packed, name) && !isScalesName(name));
}
