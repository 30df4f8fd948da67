/**
 * What the fused devices share: the device interface, compilation of
 * generated code with the Content-Security-Policy fallback, and the global
 * switch of the fused engine.
 *
 * Generated code is compiled with `new Function` (JS kernels) and
 * `new WebAssembly.Module` (SIMD kernels). A page whose CSP forbids either
 * makes that call throw; the engine then warns once on the console and uses
 * what remains (the JS kernels when only WebAssembly is blocked, the
 * reference path when both are), never an exception.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ReductionSpec } from '../lang/spec.js';
import type { KernelIR } from '../lang/trace.js';
import { type JsKernel, jsKernelSource } from './js-codegen.js';

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
 * A backend the fused engine can run kernels on: built in for tfjs's `cpu`
 * and `wasm` backends; other packages add theirs with
 * `registerFusedDevice` (e.g. `@gradtx/webgpu`).
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
  partial(op: 'sumSq' | 'sum' | 'maxAbs', t: tf.Tensor): number;
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

let enabled = true;

/**
 * Turns the fused engine on or off for the whole program. Off, `createOptimizer`
 * and `fusedUpdate` run every step on the reference path (`tx.update` with
 * tfjs ops, then `applyUpdates`). On by default.
 */
export function setFusedEnabled(on: boolean): void {
  enabled = on !== false;
}

/** Whether the fused engine is on (see {@link setFusedEnabled}). */
export function isFusedEnabled(): boolean {
  return enabled;
}

const warned = new Set<string>();

/** Warns once per `key` on the console. */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(message);
}

let wasmBlocked = typeof WebAssembly === 'undefined' || typeof WebAssembly.Module !== 'function';
let jsBlocked = false;
let forceBlocked: { wasm?: boolean; js?: boolean } = {};
let generation = 0;

/** Changes whenever compiled code must be dropped (see {@link simulateCodegenBlocked}); caches of instances compare it. */
export function codegenGeneration(): number {
  return generation;
}

/** For tests: pretend that code generation is blocked (as under a strict CSP), or lift it. Clears the compiled-kernel caches. */
export function simulateCodegenBlocked(block: { wasm?: boolean; js?: boolean }): void {
  forceBlocked = block;
  generation++;
  wasmModules.clear();
  jsKernels.clear();
  warned.clear();
  wasmBlocked = typeof WebAssembly === 'undefined' || typeof WebAssembly.Module !== 'function';
  jsBlocked = false;
}
const wasmModules = new Map<string, WebAssembly.Module | null>();
const jsKernels = new Map<string, JsKernel | null>();

/**
 * Compiles module bytes once per `key`; `null` when WebAssembly (or its SIMD)
 * is unavailable or blocked, with a one-time warning.
 */
export function wasmModule(key: string, bytes: () => Uint8Array | null): WebAssembly.Module | null {
  const hit = wasmModules.get(key);
  if (hit !== undefined) return hit;
  let mod: WebAssembly.Module | null = null;
  const b = wasmBlocked ? null : bytes();
  if (b !== null) {
    try {
      if (forceBlocked.wasm) throw new Error('WebAssembly code generation disallowed (simulated)');
      mod = new WebAssembly.Module(b as BufferSource);
    } catch (e) {
      wasmBlocked = true;
      warnOnce(
        'wasm',
        `gradtx: WebAssembly SIMD kernels are unavailable here (${(e as Error)?.message ?? String(e)}); the fused engine uses generated JavaScript loops instead.`,
      );
    }
  }
  wasmModules.set(key, mod);
  return mod;
}

/** Compiles the JS kernel of `ir` once per signature; `null` when `new Function` is blocked (CSP), with a one-time warning. */
export function jsKernel(ir: KernelIR): JsKernel | null {
  const hit = jsKernels.get(ir.signature);
  if (hit !== undefined) return hit;
  let k: JsKernel | null = null;
  if (!jsBlocked) {
    try {
      if (forceBlocked.js) throw new EvalError('Code generation from strings disallowed (simulated)');
      k = new Function(jsKernelSource(ir))() as JsKernel;
    } catch (e) {
      jsBlocked = true;
      warnOnce(
        'js',
        `gradtx: generated code is blocked here (${(e as Error)?.message ?? String(e)}; a Content-Security-Policy without 'unsafe-eval'?); the fused engine falls back to the reference path.`,
      );
    }
  }
  jsKernels.set(ir.signature, k);
  return k;
}

/** Whether WebAssembly kernels may be tried (not known to be blocked). */
export function wasmAvailable(): boolean {
  return !wasmBlocked;
}
