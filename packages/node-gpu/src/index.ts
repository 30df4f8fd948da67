/**
 * `@gradtx/node-gpu`: runs gradtx chains on the `tensorflow` backend of
 * tfjs-node / tfjs-node-gpu with few native calls per step.
 *
 * - {@link useNodeBackend} selects the `tensorflow` backend when
 *   `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` is installed and
 *   its native binding loads, and falls back plainly otherwise;
 * - {@link createNodeOptimizer} is core's `createOptimizer` run on one flat
 *   buffer per step, so a step's native calls do not grow with the number of
 *   param leaves;
 * - {@link countNativeCalls} counts the calls into TensorFlow made by a function.
 *
 * @packageDocumentation
 */
export * from './backend.js';
export { countNativeCalls, type NativeCallCount } from './native.js';
export * from './optimizer.js';
