/**
 * Compilation of generated code for the built-in devices, with the
 * Content-Security-Policy fallback.
 *
 * Generated code is compiled with `new Function` (JS kernels) and
 * `new WebAssembly.Module` (SIMD kernels). A page whose CSP forbids either
 * makes that call throw; the devices then warn once on the console and use
 * what remains (the JS kernels when only WebAssembly is blocked, the
 * reference path when both are), never an exception.
 *
 * @module
 */
import { hasPacked } from '../../lang/packed-columns.js';
import type { KernelIR } from '../../lang/trace.js';
import { type JsKernel, jsKernelSource } from './js-printer.js';
import { kernelCodecs } from './kernel-codecs.js';

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
      k = new Function('X', jsKernelSource(ir))(hasPacked(ir) ? kernelCodecs() : undefined) as JsKernel;
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
