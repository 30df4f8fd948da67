/**
 * Registers the built-in devices, `cpu` and `wasm`, through the same door as
 * every other backend ({@link registerFusedDevice}). Importing
 * `@gradtx/core` runs this once.
 *
 * @module
 */
import { registerFusedDevice } from '../registry.js';
import { cpuDeviceOf } from './cpu.js';
import { wasmDeviceOf } from './wasm.js';

registerFusedDevice('cpu', cpuDeviceOf);
registerFusedDevice('wasm', wasmDeviceOf);
