// The tfjs-op codecs (the reference path) compute the host codecs' bits on cpu and wasm.
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeValues, encodeValues } from './host-codec.js';
import type { SlotStorage } from './slot-storage.js';
import { decodeLeaf, encodeLeaf } from './tensor-codec.js';

beforeAll(() => {
  setWasmPaths(
    createRequire(import.meta.url)
      .resolve('@tensorflow/tfjs-backend-wasm')
      .replace(/[^/\\]*$/, ''),
  );
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0] as number;
const bitsOf = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const nanAsOne = (a: Float32Array): (number | 'NaN')[] => bitsOf(a).map((b, i) => (Number.isNaN(a[i]) ? 'NaN' : b));

/** Edge values, then random float32 bit patterns and random moderate values. */
function samples(n: number): Float32Array {
  const edges = [0, -0, 1, -1, Infinity, -Infinity, Number.NaN, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45];
  edges.push(1.1754942106924411e-38, 65504, 65520, 65519.99, 2 ** -24, 2 ** -25, 1 + 2 ** -11, fromBits(0x3f808000), fromBits(0x3f818000));
  const out = new Float32Array(n);
  out.set(edges.slice(0, n));
  let s = 4242;
  for (let i = Math.min(edges.length, n); i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = i % 2 === 0 ? fromBits(s) : ((s / 2 ** 32) * 2 - 1) * 10 ** ((s % 13) - 6);
  }
  return out;
}

const STORAGES: SlotStorage[] = [
  { dtype: 'bfloat16' },
  { dtype: 'float16' },
  { dtype: 'int8', signed: true, blockSize: 256 },
  { dtype: 'int8', signed: false, blockSize: 7 },
  { dtype: 'int8', signed: false, blockSize: 64, root: true },
  { dtype: 'float16', root: true },
];

const hostEncode = encodeValues;
const hostDecode = (words: Int32Array, scales: Float32Array | undefined, n: number, storage: Exclude<SlotStorage, { dtype: 'float32' }>) =>
  decodeValues({ words, scales }, n, storage);

describe.each(['cpu', 'wasm'])('tensor codecs on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  for (const storage of STORAGES) {
    const label = `${storage.dtype === 'int8' ? `int8 ${storage.signed ? 'signed' : 'unsigned'} /${storage.blockSize}` : storage.dtype}${'root' in storage && storage.root ? ' (square roots)' : ''}`;
    it(`${label}: encode and decode match the host codecs bit for bit, shapes [2, 3, 5], [1], [0] and [999]`, () => {
      const before = tf.memory().numTensors;
      for (const shape of [[2, 3, 5], [1], [0], [999]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const values = samples(n);
        const narrow = storage as Exclude<SlotStorage, { dtype: 'float32' }>;
        const x = tf.tensor(values, shape, 'float32');
        const leaf = encodeLeaf(x, narrow);
        const expected = hostEncode(values, narrow);
        expect(leaf.codes.dtype).toBe('int32');
        expect(Array.from(leaf.codes.dataSync())).toEqual(Array.from(expected.words));
        if (expected.scales) expect(nanAsOne(leaf.scales?.dataSync() as Float32Array)).toEqual(nanAsOne(expected.scales));
        const back = decodeLeaf(leaf, shape, narrow);
        expect(back.shape).toEqual(shape);
        // a NaN's sign and payload are not part of the formats (x86 makes negative NaNs where JS stores positive ones)
        expect(nanAsOne(back.dataSync() as Float32Array)).toEqual(nanAsOne(hostDecode(expected.words, expected.scales, n, narrow)));
        tf.dispose([x, leaf.codes, leaf.scales as tf.Tensor, back]);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('unpacks every kind of int32 word (sign bit set, extremes) exactly', () => {
    const words = Int32Array.from([-2147483648, -1, 2147483647, -65537, 123456789, 65535, 65536, -32768, 0x7fff8000, -0x7fff8000]);
    const storage = { dtype: 'bfloat16' } as const;
    const back = decodeLeaf({ codes: tf.tensor1d(words, 'int32') }, [20], storage);
    const expected = hostDecode(words, undefined, 20, storage);
    expect(bitsOf(back.dataSync() as Float32Array).map((b, i) => (Number.isNaN(expected[i]) ? 'nan' : b))).toEqual(
      bitsOf(expected).map((b, i) => (Number.isNaN(expected[i]) ? 'nan' : b)),
    );
    const again = encodeLeaf(back, storage);
    // NaN codes come back canonical; every other word round-trips
    const w = again.codes.dataSync();
    words.forEach((word, i) => {
      const halves = [word & 0xffff, (word >>> 16) & 0xffff];
      const nan = halves.some((h) => (h & 0x7fff) > 0x7f80);
      if (!nan) expect(w[i]).toBe(word);
    });
    tf.dispose([back, again.codes]);
  });
});
