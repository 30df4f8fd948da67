import { describe, expect, it } from 'vitest';
import { dequantizeBlockwise, quantizeBlockwise } from './blockwise.js';
import { decodeDynamic, encodeDynamic, halfGapAt, SIGNED_DYNAMIC_MAP, UNSIGNED_DYNAMIC_MAP } from './dynamic-map.js';
import { packCodes, unpackCodes } from './packing.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('the dynamic code maps', () => {
  it('are increasing from 0 to exactly 1, with the documented smallest magnitudes', () => {
    for (const [map, smallest, size] of [
      [SIGNED_DYNAMIC_MAP, 1e-6, 128],
      [UNSIGNED_DYNAMIC_MAP, 1e-7, 256],
    ] as const) {
      expect(map.magnitudes.length).toBe(size);
      expect(map.magnitudes[0]).toBe(0);
      expect(map.magnitudes[1]).toBe(Math.fround(smallest));
      expect(map.magnitudes[size - 1]).toBe(1);
      for (let b = 1; b < size; b++) expect(map.magnitudes[b] as number).toBeGreaterThan(map.magnitudes[b - 1] as number);
    }
  });

  it('encode each map value to its own code, and every value to the nearest one', () => {
    for (let c = 0; c < 256; c++) {
      if (c === 0x80) continue; // -0: never produced
      expect(encodeDynamic(decodeDynamic(c, SIGNED_DYNAMIC_MAP), SIGNED_DYNAMIC_MAP)).toBe(c);
      expect(encodeDynamic(decodeDynamic(c, UNSIGNED_DYNAMIC_MAP), UNSIGNED_DYNAMIC_MAP)).toBe(c);
    }
    const next = lcg(7);
    for (let i = 0; i < 500; i++) {
      const y = Math.fround((next() * 2 - 1) * 10 ** -Math.floor(next() * 8));
      const v = decodeDynamic(encodeDynamic(y, SIGNED_DYNAMIC_MAP), SIGNED_DYNAMIC_MAP);
      for (let c = 0; c < 256; c++) expect(Math.abs(y - v)).toBeLessThanOrEqual(Math.abs(y - decodeDynamic(c, SIGNED_DYNAMIC_MAP)));
    }
  });

  it('store negative values as 0 in the unsigned map and keep the sign in the signed one', () => {
    expect(encodeDynamic(-0.5, UNSIGNED_DYNAMIC_MAP)).toBe(0);
    expect(decodeDynamic(encodeDynamic(-1, SIGNED_DYNAMIC_MAP), SIGNED_DYNAMIC_MAP)).toBe(-1);
    expect(encodeDynamic(-1e-9, SIGNED_DYNAMIC_MAP)).toBe(0);
  });
});

describe('block-wise quantization', () => {
  it('stays within the documented bound (property test over random blocks)', () => {
    const next = lcg(2024);
    for (let trial = 0; trial < 200; trial++) {
      const signed = trial % 2 === 0;
      const map = signed ? SIGNED_DYNAMIC_MAP : UNSIGNED_DYNAMIC_MAP;
      const blockSize = [16, 64, 256, 100][trial % 4] as number;
      const n = 1 + Math.floor(next() * 700);
      const spread = 10 ** Math.floor(next() * 10); // magnitudes over up to ten decades
      const values = Float32Array.from({ length: n }, () => {
        const m = (next() / spread) ** next() * 10 ** (Math.floor(next() * 6) - 3);
        return signed && next() < 0.5 ? -m : m;
      });
      const q = quantizeBlockwise(values, blockSize, map);
      const out = dequantizeBlockwise(q, n, blockSize, map);
      for (let i = 0; i < n; i++) {
        const s = q.scales[Math.floor(i / blockSize)] as number;
        const x = values[i] as number;
        const bound = halfGapAt(Math.abs(x) / s, map) * s * (1 + 2 ** -20) + 2 * 2 ** -149;
        expect(Math.abs(x - (out[i] as number)), `trial ${trial}, element ${i}`).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('handles zeros, a partial last block, non-finite values and one huge value as documented', () => {
    const map = SIGNED_DYNAMIC_MAP;
    const values = new Float32Array(10);
    values.set([0, -0, 0, 0], 0); // block 0: all zero
    values.set([1, Number.NaN, 2, 3], 4); // block 1: NaN
    values.set([-Infinity, 5], 8); // block 2 (partial): -Infinity
    const q = quantizeBlockwise(values, 4, map);
    expect(Array.from(q.scales)).toEqual([0, Number.NaN, Number.NaN]);
    const out = dequantizeBlockwise(q, 10, 4, map);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    for (const v of out.subarray(4)) expect(Number.isNaN(v)).toBe(true);

    const huge = Float32Array.from([3e38, 1, -1e30, 2e32, 3.4e38]);
    const qh = quantizeBlockwise(huge, 8, map);
    expect(qh.scales[0]).toBe(Math.fround(3.4e38));
    const oh = dequantizeBlockwise(qh, 5, 8, map);
    expect(oh[4]).toBe(Math.fround(3.4e38)); // the absmax element is exact
    expect(oh[1]).toBe(0); // 1 / 3.4e38 is below the smallest magnitude
    expect(oh[2]).toBe(0);
    expect(Math.abs((oh[0] as number) - 3e38) / 3e38).toBeLessThan(0.01);

    const sub = Float32Array.from([1e-45, -2e-45, 3e-45]); // subnormals: scale is a subnormal, still exact at the absmax
    const os = dequantizeBlockwise(quantizeBlockwise(sub, 4, map), 3, 4, map);
    expect(os[2]).toBe(Math.fround(3e-45));
  });

  it('the partial last block is scaled by its own elements only', () => {
    const values = Float32Array.from([100, 1, 2, 0.5, 0.25]);
    const q = quantizeBlockwise(values, 4, UNSIGNED_DYNAMIC_MAP);
    expect(Array.from(q.scales)).toEqual([100, 0.25]);
    expect(dequantizeBlockwise(q, 5, 4, UNSIGNED_DYNAMIC_MAP)[4]).toBe(0.25);
  });
});

describe('packing', () => {
  it('puts element i at bits 8·(i mod 4) of word i / 4 (and 16·(i mod 2) for 16-bit codes), unused codes 0', () => {
    expect(Array.from(packCodes([0x01, 0x02, 0x03, 0xff, 0x05], 8))).toEqual([0xff030201 | 0, 0x05]);
    expect(Array.from(packCodes([0xbeef, 0xdead, 0x1234], 16))).toEqual([0xdeadbeef | 0, 0x1234]);
    const codes = Uint32Array.from({ length: 37 }, (_, i) => (i * 97) & 0xffff);
    expect(Array.from(unpackCodes(packCodes(codes, 16), 16, 37))).toEqual(Array.from(codes));
    const bytes = Uint32Array.from({ length: 37 }, (_, i) => (i * 53) & 0xff);
    expect(Array.from(unpackCodes(packCodes(bytes, 8), 8, 37))).toEqual(Array.from(bytes));
  });
});
