/**
 * `@gradtx/core`: composable, pure gradient transformations for TensorFlow.js.
 *
 * @packageDocumentation
 */
export * from './base.js';
export * from './tree.js';
export * from './validate.js';
export * from './fused/spec.js';
export * from './elementwise.js';
export * from './combine.js';
export * from './update.js';
export * from './transforms/adam.js';
export * from './transforms/scaling.js';
