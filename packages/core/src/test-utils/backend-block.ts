/**
 * A block of tests on a chosen tfjs backend (cpu or wasm), for the tests of
 * gradtx's packages. The wasm backend's package is loaded only when a block
 * asks for it, so `@gradtx/core/testing` loads where it is not installed.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';

/** The folder holding `@tensorflow/tfjs-backend-wasm`'s `.wasm` files (in node_modules). */
export function wasmFilesDir(): string {
  return createRequire(import.meta.url)
    .resolve('@tensorflow/tfjs-backend-wasm')
    .replace(/[^/\\]*$/, '');
}

/** Loads `@tensorflow/tfjs-backend-wasm` (which registers the backend) and points it at its `.wasm` files. */
async function loadWasmBackend(): Promise<void> {
  let wasm: { setWasmPaths(prefix: string): void };
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new Error(`runBlockOn('wasm'): the wasm backend needs the package @tensorflow/tfjs-backend-wasm (${(e as Error).message})`);
  }
  wasm.setWasmPaths(wasmFilesDir());
}

/**
 * Runs the enclosing `describe` block on `backend` (for wasm: the backend's
 * package loaded and its `.wasm` files located first), and switches back to
 * cpu after it. Throws, naming the backend, where `tf.setBackend` fails.
 */
export function runBlockOn(backend: 'cpu' | 'wasm'): void {
  beforeAll(async () => {
    if (backend === 'wasm') await loadWasmBackend();
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
}
