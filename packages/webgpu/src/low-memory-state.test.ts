// Narrow optimizer state (bfloat16, float16, block-wise int8) on webgpu: the
// fused WGSL kernels decode and encode code words in registers, and the
// reference path on webgpu uses the same WGSL codecs. Against the cpu
// reference path (the host codecs, the formats' definition): the packed codes
// and scales, and the params, bit for bit (the sign of zero and NaN payloads
// aside), through pure, donated and replayed steps; partial last words and
// blocks, a zero-size leaf, a scalar, NaN and Inf in a block; no leaked
// tensor, GPU memory back to its baseline, every step fused.
import * as gx from '@gradtx/core';
import type { PackedStorage } from '@gradtx/core/engine';
import { decodeValues, encodeValues, packedState } from '@gradtx/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu, type WebGpuDevice, webGpuDeviceOf } from './index.js';
import {
  type ArrayTree,
  checkAllModes,
  countDispatches,
  disposeTree,
  expectNoGpuErrors,
  expectTracesClose,
  onBackend,
  rng,
  run,
  snapshot,
  type Tol,
  toTensors,
} from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

/** The bit patterns of float32 values. */
function bits(x: Float32Array): number[] {
  return Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
}

const STORAGES: PackedStorage[] = [
  { dtype: 'bfloat16' },
  { dtype: 'float16' },
  { dtype: 'float16', root: true },
  { dtype: 'int8', signed: true, blockSize: 256 },
  { dtype: 'int8', signed: true, blockSize: 64 },
  { dtype: 'int8', signed: true, blockSize: 7 },
  { dtype: 'int8', signed: false, blockSize: 100 },
  { dtype: 'int8', signed: false, blockSize: 256, root: true },
];

/** Bit for bit: equal numbers (NaN equal to NaN). */
const EXACT: Tol = { rtol: 0, atol: 0 };

/** Every mode on webgpu against the cpu reference path, bit for bit. */
async function checkExact(name: string, tx: gx.GradientTransformation, grads: ArrayTree[], shapes = packedState.SHAPES): Promise<void> {
  const params = packedState.arrays(1, 1, shapes);
  const expected = await onBackend('cpu', () => run(tx, params, grads, 'reference'));
  await checkAllModes(name, tx, params, grads, expected, EXACT);
}

describe('narrow state on the webgpu fused path', () => {
  for (const [name, make] of packedState.CASES) {
    for (const nonFinite of [false, true]) {
      const label = `${name}${nonFinite ? ', NaN and Inf in the gradients' : ''}`;
      it(`${label}: bit for bit the cpu reference path, fused, no leak`, () => checkExact(label, make(), packedState.gradients(nonFinite)));
    }
  }

  it('many leaves, a leaf of 40k, blocks of 100: the same bits', async () => {
    const shapes: Record<string, number[]> = {
      big: [40_003],
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`l${i}`, [i * 7 + 1]])),
    };
    const grads = [5, 6, 7].map((seed) => packedState.arrays(seed, 1, shapes));
    await checkExact('int8 / 100', gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'int8', int8BlockSize: 100 }), grads, shapes);
    await checkExact('bfloat16 / float16', gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'float16' }), grads, shapes);
  });

  it('edge values (±0, subnormals, the largest finite, rounding boundaries, NaN, ±Inf, a huge value in a block) encode and decode as on the host', async () => {
    // float32 subnormals are left to the codec test below: the GPU's float arithmetic may flush them (WGSL allows it)
    const { shapes, grads } = packedState.edgeGradients(
      packedState.EDGE_VALUES.filter((x) => !(Math.abs(x) > 0 && Math.abs(x) < 2 ** -126)),
    );
    for (const dtype of ['bfloat16', 'float16', 'int8'] as const) {
      const tx = packedState.storeEachUpdate(dtype);
      await checkExact(`edges, ${dtype}`, tx, grads, shapes);
    }
  });

  it('the codecs on their own: every storage, edge values and float32 subnormals, bit for bit the host codecs', async () => {
    const r = rng(11);
    const values = Float32Array.from([
      ...packedState.EDGE_VALUES,
      1.1754942e-38,
      -1.1754942e-38,
      ...Array.from({ length: 300 }, (_, i) => (r() - 0.5) * 10 ** ((i % 13) - 8)),
      ...new Array(100).fill(0),
      ...Array.from({ length: 37 }, () => r() * 1e-40),
    ]);
    const codec = (webGpuDeviceOf(tf.backend()) as WebGpuDevice).codec;
    for (const storage of STORAGES) {
      for (const n of [values.length, 1, 3, 0]) {
        const x = values.slice(0, n);
        const input = tf.tensor1d(x);
        const before = tf.memory().numTensors;
        const leaf = codec.encode(input, storage);
        const words = (await leaf.codes.data()) as Int32Array;
        const scales = leaf.scales === undefined ? undefined : ((await leaf.scales.data()) as Float32Array);
        const expected = encodeValues(x, storage);
        const where = `${JSON.stringify(storage)}, n = ${n}`;
        expect(Array.from(words), `${where}: code words`).toEqual(Array.from(expected.words));
        if (expected.scales !== undefined) expect(bits(scales as Float32Array), `${where}: scales`).toEqual(bits(expected.scales));
        const decoded = codec.decode(leaf, [n], storage);
        // int8 decodes with a float32 product, which may flush a subnormal result; the 16-bit formats place bits
        const want = Array.from(decodeValues(expected, n, storage));
        const got = Array.from(await decoded.data());
        if (storage.dtype !== 'int8') {
          const at = got.findIndex((v, i) => !Object.is(v, want[i]));
          expect(at, `${where}: decoded[${at}] ${got[at]}, host ${want[at]}`).toBe(-1);
        } else expect(got, `${where}: decoded`).toEqual(want.map((v) => (Math.abs(v) < 2 ** -126 ? expect.anything() : v)));
        tf.dispose([leaf.codes, leaf.scales ?? [], decoded, input].flat());
        expect(tf.memory().numTensors, where).toBe(before - 1);
      }
    }
  });

  it('the reference path on webgpu (init, update) uses the WGSL codecs: the same bits as on cpu', async () => {
    const tx = gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'bfloat16' });
    const params = packedState.arrays(1);
    const grads = packedState.gradients(true);
    const expected = await onBackend('cpu', () => run(tx, params, grads, 'reference'));
    const before = tf.memory().numTensors;
    const got = await expectNoGpuErrors(() => run(tx, params, grads, 'reference'));
    // the reference path's own arithmetic (tfjs-webgpu kernels) is WGSL's: params and moments agree within its accuracy
    expectTracesClose(got, expected, 'reference on webgpu', { rtol: 1e-5, atol: 1e-6, leafScale: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("multiSteps' packed accumulator (encoded around the inner transformation) works on webgpu, close to cpu", async () => {
    for (const dtype of ['bfloat16', 'float16', 'int8'] as const) {
      const tx = gx.multiSteps(gx.adam(1e-2), 2, { accumulatorDtype: dtype });
      const params = packedState.arrays(1);
      const grads = packedState.gradients(false);
      const expected = await onBackend('cpu', () => run(tx, params, grads, 'reference'));
      const before = tf.memory().numTensors;
      const got = await expectNoGpuErrors(() => run(tx, params, grads, 'optimizer'));
      expectTracesClose(got, expected, `multiSteps, ${dtype}`, { rtol: 1e-5, atol: 1e-6, leafScale: true });
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('a checkpoint of packed state made on webgpu round-trips bit for bit, and the loaded state steps as the original', async () => {
    const tx = gx.adamw(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' });
    const params = toTensors(packedState.arrays(1));
    const before = tf.memory().numTensors;
    const opt = gx.createOptimizer(tx, toTensors(packedState.arrays(1)));
    for (const g of packedState.gradients(true).slice(0, 2)) {
      const gt = toTensors(g);
      opt.step(gt);
      disposeTree(gt);
    }
    const loaded = gx.loadState(await gx.saveState(opt.state), tx, params);
    expect(await snapshot(loaded)).toEqual(await snapshot(opt.state));
    const g = toTensors(packedState.gradients(false)[2] as ArrayTree);
    const [p1, s1] = gx.fusedUpdate(tx, g, opt.state, opt.params);
    const [p2, s2] = gx.fusedUpdate(tx, g, loaded, opt.params);
    expect(await snapshot([p2, s2])).toEqual(await snapshot([p1, s1]));
    const last = opt.params;
    opt.dispose();
    disposeTree([last, loaded, g, p1, s1, p2, s2]);
    expect(tf.memory().numTensors).toBe(before);
    disposeTree(params);
  });

  it('a state made on cpu steps on webgpu, and one step is one dispatch (bfloat16) or two (int8)', async () => {
    for (const [dtype, expected] of [
      ['bfloat16', 1],
      ['int8', 2],
    ] as const) {
      const tx = gx.adam(1e-2, { muDtype: dtype, nuDtype: dtype });
      const p = { w: tf.tensor1d([1, 2, 3, 4, 5]), v: tf.tensor1d([0.5, -1]) };
      const state = await onBackend('cpu', async () => tx.init({ w: tf.tensor1d([1, 2, 3, 4, 5]), v: tf.tensor1d([0.5, -1]) }));
      const g = { w: tf.tensor1d([0.1, -0.2, 0.3, 0.4, 0.5]), v: tf.tensor1d([1, 2]) };
      const { result, dispatches } = await countDispatches(() => gx.fusedUpdate(tx, g, state, p));
      expect(dispatches, dtype).toBe(expected);
      disposeTree([p, g, state, result]);
    }
  });
});
