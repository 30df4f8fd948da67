// Runs before every test file: a WebGPU device from Dawn (the `webgpu`
// package) on the SwiftShader Vulkan driver, then tfjs's webgpu backend.
// Without a GPU adapter the tests fail here, saying why; they never skip.
import * as tf from '@tensorflow/tfjs-core';
import { create, globals } from 'webgpu';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.VK_ICD_FILENAMES ??= ICD;

Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });

const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
const adapter = await gpu.requestAdapter();
if (adapter === null) {
  throw new Error(
    `No WebGPU adapter: Dawn could not open a Vulkan device (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}, ` +
      `LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? ''}). Install Debian's chromium (it ships libvulkan.so.1 and ` +
      'the SwiftShader driver in /usr/lib/chromium) or a Vulkan driver, and run the tests through vitest.config.ts.',
  );
}

// the backend registers itself at import time, only when navigator.gpu exists
await import('@tensorflow/tfjs-backend-webgpu');
await import('@tensorflow/tfjs-backend-cpu');
tf.env().set('IS_TEST', true);
// keep every op on the GPU: small ops would otherwise run on the cpu backend
tf.env().set('WEBGPU_CPU_FORWARD', false);
const ok = await tf.setBackend('webgpu');
if (!ok || tf.getBackend() !== 'webgpu')
  throw new Error('tf.setBackend("webgpu") failed: the tfjs WebGPU backend could not start on this adapter');
