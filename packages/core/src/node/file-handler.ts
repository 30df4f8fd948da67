/**
 * A `tf.io` handler that saves to and loads from a folder on disk in Node,
 * without `@tensorflow/tfjs-node`: the layout tfjs's `file://` handler
 * writes (`model.json` with the topology and the weights manifest, beside
 * `weights.bin` with the raw weight bytes), so models and checkpoints saved
 * one way load the other.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** The file name of the JSON half of a saved model or checkpoint. */
export const MODEL_JSON = 'model.json';
/** The file name of the binary weights. */
export const WEIGHTS_BIN = 'weights.bin';

/**
 * A `tf.io.IOHandler` over the folder `dir` (created on save): `save` writes
 * `dir/model.json` and `dir/weights.bin` as tfjs's `file://` handler does,
 * `load` reads them back (every weights file the manifest lists, so
 * folders written by tfjs-node load too). Pass it wherever tfjs takes a
 * handler: `model.save(nodeFileHandler('out'))`,
 * `tf.loadLayersModel(nodeFileHandler('out'))`, `saveStateTo`,
 * `saveCheckpointTo`, `loadCheckpointFrom`.
 *
 * @example
 * ```ts
 * import { nodeFileHandler } from '@gradtx/core/node';
 * await saveCheckpointTo(opt, nodeFileHandler('runs/mlp'));
 * const { params, state } = await loadCheckpointFrom(nodeFileHandler('runs/mlp'), tx);
 * ```
 * @category Checkpoints
 */
export function nodeFileHandler(dir: string): tf.io.IOHandler {
  if (typeof dir !== 'string' || dir === '') throw new Error(`nodeFileHandler: \`dir\` must be a folder path, got ${JSON.stringify(dir)}`);
  const folder = resolve(dir.startsWith('file://') ? dir.slice('file://'.length) : dir);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('nodeFileHandler: a binary model topology (a TensorFlow GraphDef) cannot be saved as model.json');
      }
      const weights = artifacts.weightData == null ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const { weightData: _data, weightSpecs, getWeightStream: _stream, ...rest } = artifacts;
      const modelJson = { ...rest, weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: weightSpecs ?? [] }] };
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, MODEL_JSON), JSON.stringify(modelJson));
      await writeFile(join(folder, WEIGHTS_BIN), new Uint8Array(weights));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const path = join(folder, MODEL_JSON);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        throw new Error(`nodeFileHandler: cannot read ${path} (${(e as Error).message})`);
      }
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(text);
      } catch (e) {
        throw new Error(`nodeFileHandler: ${path} is not valid JSON (${(e as Error).message})`);
      }
      if (!Array.isArray(modelJson.weightsManifest)) throw new Error(`nodeFileHandler: ${path} has no weightsManifest array`);
      const extra = Object.fromEntries(Object.entries(modelJson).filter(([k]) => !(k in EMPTY_MODEL_JSON)));
      const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const files = manifest.flatMap((group) => group.paths.map((p) => join(dirname(path), p)));
        const buffers = await Promise.all(files.map((f) => readFile(f)));
        const bytes = Buffer.concat(buffers);
        // A copy into a fresh ArrayBuffer: Node's Buffers may be views into a shared pool.
        return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer];
      });
      return { ...extra, ...artifacts };
    },
  };
}

/** The keys tfjs maps from model.json to artifacts itself; any other key (e.g. gradtx's `format` and `version`) is carried over as it is. */
const EMPTY_MODEL_JSON = {
  modelTopology: 0,
  weightsManifest: 0,
  format: 0,
  generatedBy: 0,
  convertedBy: 0,
  trainingConfig: 0,
  signature: 0,
  userDefinedMetadata: 0,
  modelInitializer: 0,
  initializerSignature: 0,
};
