/**
 * The few WebGPU objects this package touches, typed structurally (so the
 * package's declarations need no `@webgpu/types`), and the parts of the tfjs
 * WebGPU backend (4.22) that it uses: the device, the command encoder that
 * tfjs batches its own dispatches in, its buffer pool, and its tensor table.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

/** `GPUBufferUsage` flags (the numbers of the WebGPU specification). */
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** A `GPUBuffer`. */
export interface GpuBuffer {
  readonly size: number;
  readonly usage: number;
}

/** A buffer range bound to a shader. */
export interface GpuBufferBinding {
  buffer: GpuBuffer;
  offset?: number;
  size?: number;
}

/** A `GPUComputePipeline`. */
export interface GpuComputePipeline {
  getBindGroupLayout(index: number): unknown;
}

/** A `GPUComputePassEncoder`. */
export interface GpuComputePass {
  setPipeline(p: GpuComputePipeline): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

/** A `GPUCommandEncoder`. */
export interface GpuCommandEncoder {
  beginComputePass(descriptor?: object): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  clearBuffer(buffer: GpuBuffer, offset?: number, size?: number): void;
}

/** A `GPUDevice`. */
export interface GpuDevice {
  readonly limits: {
    readonly maxStorageBuffersPerShaderStage: number;
    readonly maxStorageBufferBindingSize: number;
    readonly maxBufferSize: number;
    readonly maxComputeWorkgroupsPerDimension: number;
  };
  readonly queue: { writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView | ArrayBuffer): void };
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuComputePipeline;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: GpuBufferBinding }[] }): unknown;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** An entry of the backend's tensor table. */
export interface WebGpuTensorData {
  values: unknown;
  dtype: string;
  shape: number[];
  refCount: number;
  resource?: unknown;
  external?: boolean;
}

/** The members of tfjs 4.22's `WebGPUBackend` that the fused path uses. */
export interface WebGpuBackendLike extends tf.KernelBackend {
  readonly device: GpuDevice;
  readonly tensorMap: { get(dataId: object): WebGpuTensorData | undefined; has(dataId: object): boolean };
  readonly bufferManager: {
    acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GpuBuffer;
    releaseBuffer(buffer: GpuBuffer, reuse?: boolean): void;
    numBytesUsed: number;
  };
  commandEncoder: GpuCommandEncoder | null;
  readonly uniformPendingDisposal: GpuBuffer[];
  commandQueueOwnedIds: WeakSet<object>;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  makeUniforms(fields: { type: 'int32' | 'uint32' | 'float32'; data: number[] }[]): GpuBufferBinding;
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
}

/** Whether `backend` looks like tfjs 4.22's WebGPU backend (the members above are there). */
export function isWebGpuBackend(backend: tf.KernelBackend): backend is WebGpuBackendLike {
  const b = backend as Partial<WebGpuBackendLike>;
  return (
    typeof b.device === 'object' &&
    b.device !== null &&
    typeof b.tensorMap?.get === 'function' &&
    typeof b.bufferManager?.acquireBuffer === 'function' &&
    typeof b.ensureCommandEncoderReady === 'function' &&
    typeof b.endComputePassEncoder === 'function' &&
    typeof b.submitQueue === 'function' &&
    typeof b.uploadToGPU === 'function' &&
    typeof b.makeUniforms === 'function' &&
    Array.isArray(b.uniformPendingDisposal)
  );
}
