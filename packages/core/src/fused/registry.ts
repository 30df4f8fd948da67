/**
 * The one door for every backend: devices register here by tfjs backend
 * name (the built-in `cpu` and `wasm` ones from `fused/devices/`, the WebGPU
 * one from `@gradtx/webgpu`), and the engine asks here for the device of
 * tfjs's current backend. The engine itself imports no device. Also holds the
 * program-wide switch of the fused engine.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { useDeviceCodecs } from '../packed-state.js';
import { showValue } from '../validate.js';
import type { Device } from './device.js';

const devices = new WeakMap<tf.KernelBackend, Device | null>();
const registry = new Map<string, (backend: tf.KernelBackend) => Device | null>();
let registryVersion = 0;
const deviceVersion = new WeakMap<tf.KernelBackend, number>();

/**
 * Registers the fused device of a tfjs backend: from then on, `fusedUpdate`
 * and `createOptimizer` run fused steps on `deviceOf(backend)` whenever
 * `backendName` is tfjs's current backend (`null` from `deviceOf`: no fused
 * path there). Every device comes in this way: `@gradtx/core` registers its
 * `cpu` and `wasm` devices when it loads, backend packages such as
 * `@gradtx/webgpu` theirs. A registration replaces an earlier one for the
 * same name.
 */
export function registerFusedDevice(backendName: string, deviceOf: (backend: tf.KernelBackend) => Device | null): void {
  if (typeof backendName !== 'string' || typeof deviceOf !== 'function') {
    throw new Error(
      `registerFusedDevice: expected a backend name and a function (backend) => Device | null, got ${showValue(backendName)}, ${String(deviceOf)}`,
    );
  }
  registry.set(backendName, deviceOf);
  registryVersion++;
}

/**
 * The fused device of tfjs's current backend, as registered with
 * {@link registerFusedDevice}, or `null` when the backend has none (then
 * steps run on the reference path).
 */
export function currentDevice(): Device | null {
  const backend = tf.backend();
  let d = devices.get(backend);
  if (d === undefined || deviceVersion.get(backend) !== registryVersion) {
    const deviceOf = registry.get(tf.getBackend());
    d = deviceOf === undefined ? null : deviceOf(backend);
    devices.set(backend, d);
    deviceVersion.set(backend, registryVersion);
  }
  return d;
}

useDeviceCodecs(() => currentDevice()?.codec);

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
