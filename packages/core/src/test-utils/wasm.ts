/**
 * The wasm backend in the tests: where its `.wasm` files are, a test file
 * that runs on it, and a detour to the cpu backend for a reference run.
 */
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';

/** Points tfjs's wasm backend at its `.wasm` files in node_modules (before the first `tf.setBackend('wasm')`). */
export function locateWasmFiles(): void {
  setWasmPaths(
    createRequire(import.meta.url)
      .resolve('@tensorflow/tfjs-backend-wasm')
      .replace(/[^/\\]*$/, ''),
  );
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

/** Runs the enclosing `describe` block on `backend` (its wasm files located first), and switches back to cpu after it. */
export function runBlockOn(backend: 'cpu' | 'wasm'): void {
  beforeAll(async () => {
    if (backend === 'wasm') locateWasmFiles();
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
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
