import { describe, expect, it } from 'vitest';
import { encodeDynamic, magnitudeField, SIGNED_DYNAMIC_MAP, UNSIGNED_DYNAMIC_MAP } from './dynamic-map.js';
import { bucketCode, bucketField, bucketsOfMap } from './map-buckets.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => {
  f32[0] = x;
  return u32[0] as number;
};
const fromBits = (b: number) => {
  u32[0] = b;
  return f32[0] as number;
};

/** Every midpoint, its float32 neighbours, the code values, 0, 1, the smallest floats, and a sweep of [0, 1]. */
function probes(midpoints: Float32Array, magnitudes: Float32Array): number[] {
  const xs = [0, 1, fromBits(1), fromBits(0x800000), 1e-9, 1e-7, 1e-6];
  for (const m of [...midpoints, ...magnitudes]) {
    const b = bitsOf(m);
    xs.push(m, fromBits(b + 1), b > 0 ? fromBits(b - 1) : 0);
  }
  for (let b = 0; b <= 0x3f800000; b += 0x1235) xs.push(fromBits(b));
  return xs.filter((x) => x <= 1);
}

describe('map buckets', () => {
  for (const map of [SIGNED_DYNAMIC_MAP, UNSIGNED_DYNAMIC_MAP]) {
    const name = map.signed ? 'signed' : 'unsigned';
    it(`${name} map: the bucket field is the binary search's field at every midpoint, its neighbours and a sweep of [0, 1]`, () => {
      const buckets = bucketsOfMap(map.signed);
      const xs = probes(map.midpoints, map.magnitudes);
      expect(xs.length).toBeGreaterThan(50_000);
      const wrong = xs.filter((a) => bucketField(a, bitsOf(a), buckets) !== magnitudeField(a, map));
      expect(wrong).toEqual([]);
    });

    it(`${name} map: bucketCode is encodeDynamic for both signs, ±0 included`, () => {
      const xs = probes(map.midpoints, map.magnitudes);
      const ys = [...xs, ...xs.map((x) => -x), -0];
      const wrong = ys.filter((y) => bucketCode(y, map.signed) !== encodeDynamic(y, map));
      expect(wrong).toEqual([]);
    });
  }
});
