/**
 * Reaching a `tf.io` handler from a URL or a handler object, and loading
 * artifacts through it with streamed weights gathered.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe } from '../tree.js';

/** A URL string that `tf.io` routes to a handler (`indexeddb://`, `http://`, ...), or a handler object. */
export type HandlerOrUrl = string | tf.io.IOHandler;

/** The handler a URL routes to (exactly one), or the handler object itself; throws naming `fn` otherwise. */
export function resolveHandler(fn: string, handlerOrUrl: HandlerOrUrl, method: 'save' | 'load'): tf.io.IOHandler {
  let handler: unknown = handlerOrUrl;
  if (typeof handlerOrUrl === 'string') {
    const found = method === 'save' ? tf.io.getSaveHandlers(handlerOrUrl) : tf.io.getLoadHandlers(handlerOrUrl);
    if (found.length === 0) {
      throw new Error(
        `${fn}: no tf.io ${method} handler is registered for '${handlerOrUrl}' (file:// needs @tensorflow/tfjs-node; in Node, nodeFileHandler(dir) of @gradtx/core/node needs nothing else; or pass an IOHandler object)`,
      );
    }
    if (found.length > 1) throw new Error(`${fn}: more than one tf.io ${method} handler (${found.length}) matches '${handlerOrUrl}'`);
    handler = found[0];
  }
  if (handler === null || typeof handler !== 'object' || typeof (handler as Record<string, unknown>)[method] !== 'function') {
    throw new Error(`${fn}: \`handlerOrUrl\` must be a URL string or a tf.io.IOHandler with a ${method} method, got ${describe(handler)}`);
  }
  return handler as tf.io.IOHandler;
}

/** Loads artifacts through a handler or URL, gathering streamed weights into `weightData`. */
export async function loadArtifacts(fn: string, handlerOrUrl: HandlerOrUrl): Promise<tf.io.ModelArtifacts> {
  const handler = resolveHandler(fn, handlerOrUrl, 'load');
  const artifacts = await (handler.load as NonNullable<tf.io.IOHandler['load']>)();
  if (artifacts != null && artifacts.weightData == null && typeof artifacts.getWeightStream === 'function') {
    const chunks: ArrayBuffer[] = [];
    const reader = artifacts.getWeightStream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    return { ...artifacts, weightData: chunks };
  }
  return artifacts;
}
