/**
 * The wasm backend in the tests: where its `.wasm` files are, a test file
 * or a block that runs on it, and a detour to the cpu backend for a
 * reference run.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';
import { wasmFilesDir } from './backend-block.js';

export { runBlockOn } from './backend-block.js';

/** Points tfjs's wasm backend at its `.wasm` files in node_modules (before the first `tf.setBackend('wasm')`). */
export function locateWasmFiles(): void {
  setWasmPaths(wasmFilesDir());
}

/** Runs the calling test file on the wasm backend: switched to before its tests, back to cpu after them. */
export function runFileOnWasm(): void {
  beforeAll(async () => {
    locateWasmFiles();
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
}

/** Runs `f` on the cpu backend, then switches back to wasm. */
export async function onCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}
