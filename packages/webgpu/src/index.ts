/**
 * `@gradtx/webgpu`: gradtx's fused engine on tfjs's WebGPU backend. A chain
 * of element-wise transforms compiles to one WGSL compute shader that updates
 * every leaf of the params and the state in one dispatch (reductions such as
 * a global norm add a two-dispatch prelude), in place in the tensors' own
 * GPUBuffers when they are donated.
 *
 * Importing the package registers it (or call {@link installWebGpu}):
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-webgpu';
 * import '@gradtx/webgpu';
 * import { adamw, createOptimizer } from '@gradtx/core';
 *
 * await tf.setBackend('webgpu');
 * const opt = createOptimizer(adamw(1e-3), params);
 * opt.step(grads); // one command buffer, at most three dispatches
 * ```
 *
 * @packageDocumentation
 */
import { installWebGpu } from './install.js';

export { type LeafJob, WebGpuDevice, type WebGpuStats } from './device.js';
export type {
  GpuBuffer,
  GpuBufferBinding,
  GpuCommandEncoder,
  GpuComputePass,
  GpuComputePipeline,
  GpuDevice,
  WebGpuBackendLike,
  WebGpuTensorData,
} from './gpu.js';
export { installWebGpu, isWebGpuInstalled, WEBGPU_BACKEND, webGpuDeviceOf } from './install.js';

installWebGpu();
