/**
 * `@gradtx/core/node`: what only runs in Node (it imports `node:fs`), kept
 * off the main entry point so browser bundles stay free of it.
 *
 * @packageDocumentation
 */
export { MODEL_JSON, nodeFileHandler, WEIGHTS_BIN } from './file-handler.js';
