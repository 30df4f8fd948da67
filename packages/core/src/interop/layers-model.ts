/**
 * Resuming a `tf.LayersModel` saved with `model.save(..., { includeOptimizer: true })`
 * while compiled with a gradtx optimizer (`asTfOptimizer`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type HandlerOrUrl, loadArtifacts } from './io-handler.js';
import type { NamedTensor } from './structure.js';

/** What {@link splitOptimizerWeights} returns. */
export interface SplitModelHandler {
  /** A handler for `tf.loadLayersModel`: the saved model without its training config and optimizer weights. */
  model: tf.io.IOHandler;
  /**
   * The saved optimizer weights (what the gradtx optimizer's `getWeights`
   * returned at save time), for `setWeights` of the optimizer passed again
   * to `model.compile`. Call it after the model has loaded; the caller owns
   * the tensors.
   */
  optimizerWeights(): Promise<NamedTensor[]>;
}

/**
 * Splits a model saved with `includeOptimizer: true` into the model, for
 * `tf.loadLayersModel`, and the optimizer's weights. A gradtx optimizer is
 * made of functions that a saved config cannot hold, so `tf.loadLayersModel`
 * cannot rebuild it from the training config; this is the supported route:
 * load the model, compile it with the same transformation again, then give
 * the optimizer its saved state.
 *
 * @example
 * ```ts
 * await model.save(nodeFileHandler('run'), { includeOptimizer: true });
 * // later:
 * const saved = splitOptimizerWeights(nodeFileHandler('run'));
 * const model = await tf.loadLayersModel(saved.model);
 * const optimizer = asTfOptimizer(adam(1e-3));
 * model.compile({ optimizer, loss: 'meanSquaredError' });
 * await optimizer.setWeights(await saved.optimizerWeights());
 * ```
 * @category Checkpoints
 */
export function splitOptimizerWeights(handlerOrUrl: HandlerOrUrl): SplitModelHandler {
  const fn = 'splitOptimizerWeights';
  let artifacts: Promise<tf.io.ModelArtifacts> | null = null;
  const loaded = () => {
    artifacts ??= loadArtifacts(fn, handlerOrUrl);
    return artifacts;
  };
  return {
    model: {
      async load() {
        const { trainingConfig: _config, ...rest } = await loaded();
        return rest;
      },
    },
    async optimizerWeights() {
      const { weightSpecs, weightData } = await loaded();
      const group = (weightSpecs ?? []).filter((s) => s.group === 'optimizer');
      if (group.length === 0 || weightData == null) {
        throw new Error(
          `${fn}: the saved model holds no optimizer weights; save it with model.save(handler, { includeOptimizer: true }) after compiling it with an optimizer`,
        );
      }
      const decoded = tf.io.decodeWeights(weightData, weightSpecs ?? []);
      const names = new Set(group.map((s) => s.name));
      for (const [name, t] of Object.entries(decoded)) if (!names.has(name)) t.dispose();
      return group.map((s) => ({ name: s.name, tensor: decoded[s.name] as tf.Tensor }));
    },
  };
}
