/**
 * Registers the WebGPU fused device with `@gradtx/core`'s engine, so that
 * `fusedUpdate` and `createOptimizer` run element-wise chains as WGSL kernels
 * whenever tfjs's current backend is `webgpu`.
 *
 * @module
 */
import { registerFusedDevice } from '@gradtx/core/engine';
import type * as tf from '@tensorflow/tfjs-core';
import { WebGpuDevice } from './device.js';
import { isWebGpuBackend } from './gpu.js';

/** The tfjs backend name this package serves. */
export const WEBGPU_BACKEND = 'webgpu';

const devices = new WeakMap<tf.KernelBackend, WebGpuDevice>();

/**
 * The fused device of a tfjs `webgpu` backend instance (one per instance), or
 * null when `backend` is not tfjs 4.22's WebGPU backend.
 */
export function webGpuDeviceOf(backend: tf.KernelBackend): WebGpuDevice | null {
  let d = devices.get(backend);
  if (d === undefined) {
    if (!isWebGpuBackend(backend)) return null;
    d = new WebGpuDevice(backend);
    devices.set(backend, d);
  }
  return d;
}

let installed = false;

/**
 * Registers the WebGPU fused device with `@gradtx/core` (importing this
 * package already does it; calling it again does nothing). Afterwards, a step
 * on the `webgpu` backend runs each fused run of a chain as at most three
 * dispatches for the whole tree, updating donated params and state in place.
 */
export function installWebGpu(): void {
  if (installed) return;
  registerFusedDevice(WEBGPU_BACKEND, webGpuDeviceOf);
  installed = true;
}

/** Whether {@link installWebGpu} has run. */
export function isWebGpuInstalled(): boolean {
  return installed;
}
