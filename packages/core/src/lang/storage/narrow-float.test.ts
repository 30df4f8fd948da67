import { describe, expect, it } from 'vitest';
import { float16Bits } from './host-codec.js';
import { BFLOAT16, decodeNarrowFloat, encodeNarrowFloat, FLOAT16 } from './narrow-float.js';

const f32bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0] as number;
const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0] as number;

/** bfloat16 by bit manipulation (the textbook formula), an independent check of the generic encoder. */
function bf16ByBits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const b = f32bits(x);
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

describe('bfloat16', () => {
  it('encodes edge values as IEEE round-to-nearest-even does', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3f80],
      [-2, 0xc000],
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [Number.NaN, 0x7fc0],
      [fromBits(0x3f808000), 0x3f80], // a tie: to even (down)
      [fromBits(0x3f818000), 0x3f82], // a tie: to even (up)
      [fromBits(0x3f808001), 0x3f81], // just above the tie
      [fromBits(0x7f7fffff), 0x7f80], // the largest float32 rounds to Infinity
      [fromBits(0x7f7f7fff), 0x7f7f], // just below the boundary stays finite: the largest bfloat16
      [fromBits(0x00000001), 0x0000], // the smallest subnormal rounds to 0
      [fromBits(0x00008000), 0x0000], // a subnormal tie rounds to even 0
      [fromBits(0x00018000), 0x0002], // a subnormal tie rounds up to even
      [fromBits(0x807fffff), 0x8080], // the largest negative subnormal rounds to the smallest normal
    ];
    for (const [x, code] of cases) expect(encodeNarrowFloat(x, BFLOAT16), `x = ${x}`).toBe(code);
  });

  it('agrees with the bit formula on random float32 bit patterns', () => {
    let s = 12345;
    for (let i = 0; i < 20000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const x = fromBits(s);
      expect(encodeNarrowFloat(x, BFLOAT16)).toBe(bf16ByBits(x));
    }
  });

  it('decodes every code to the float32 with its bits in the upper half', () => {
    for (let c = 0; c < 0x10000; c++) {
      const v = decodeNarrowFloat(c, BFLOAT16);
      if ((c & 0x7fff) > 0x7f80) expect(Number.isNaN(v)).toBe(true);
      else expect(f32bits(v)).toBe((c << 16) >>> 0);
    }
  });
});

describe('float16', () => {
  it('encodes edge values as IEEE binary16 round-to-nearest-even does', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [65504, 0x7bff], // the largest finite
      [65519.99609375, 0x7bff], // just below the rounding boundary
      [65520, 0x7c00], // the boundary, a tie to even: Infinity
      [1e9, 0x7c00],
      [-Infinity, 0xfc00],
      [Number.NaN, 0x7e00],
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -25, 0x0000], // half of it: a tie to even 0
      [3 * 2 ** -25, 0x0002], // 1.5 units: a tie to even 2
      [2 ** -14, 0x0400], // the smallest normal
      [1 + 2 ** -11, 0x3c00], // a tie below: even
      [1 + 3 * 2 ** -11, 0x3c02], // a tie: up to even
      [-1e-10, 0x8000], // underflows to -0
    ];
    for (const [x, code] of cases) expect(encodeNarrowFloat(x, FLOAT16), `x = ${x}`).toBe(code);
  });

  it('decodes every code, and encoding a decoded finite value gives its code back', () => {
    for (let c = 0; c < 0x10000; c++) {
      const v = decodeNarrowFloat(c, FLOAT16);
      if ((c & 0x7fff) > 0x7c00) expect(Number.isNaN(v)).toBe(true);
      else {
        expect(Math.fround(v)).toBe(v);
        expect(encodeNarrowFloat(v, FLOAT16)).toBe(c);
      }
    }
  });

  it('the bit formula of the host codec agrees with the generic encoder on edge values and random bit patterns', () => {
    const edges = [
      0,
      -0,
      65504,
      65519.99609375,
      65520,
      -65520,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -25,
      2 ** -14,
      2 ** -15,
      1 + 2 ** -11,
      Infinity,
    ];
    for (const x of edges) expect(float16Bits(f32bits(x)), `x = ${x}`).toBe(encodeNarrowFloat(x, FLOAT16));
    let s = 777;
    for (let i = 0; i < 40000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      // half the patterns from float16's range, where the branches are
      const b = i % 2 === 0 ? s : (0x33000000 + (s % 0x15000000)) | (s & 0x80000000);
      expect(float16Bits(b >>> 0)).toBe(encodeNarrowFloat(fromBits(b >>> 0), FLOAT16));
    }
  });

  it('rounds to the nearer neighbour: never more than half a unit away', () => {
    let s = 99;
    for (let i = 0; i < 20000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const x = Math.fround(((s / 2 ** 32) * 2 - 1) * 2 ** ((s % 40) - 28));
      const c = encodeNarrowFloat(x, FLOAT16);
      const v = decodeNarrowFloat(c, FLOAT16);
      const up = decodeNarrowFloat(c + 1, FLOAT16); // one unit further from 0
      const down = (c & 0x7fff) === 0 ? v : decodeNarrowFloat(c - 1, FLOAT16);
      const half = Math.max(Math.abs(up - v), Math.abs(v - down)) / 2;
      expect(Math.abs(x - v)).toBeLessThanOrEqual(half);
    }
  });
});
