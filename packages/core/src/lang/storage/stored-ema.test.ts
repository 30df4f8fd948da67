// What round-to-nearest storage does to an exponential moving average kept
// between steps, `v ← b·v + (1 − b)·x` with the stored value decoded before
// and encoded after each step (as every path does): the facts the guide's
// "Training quality" section explains the measured differences with. With
// Adam's b2 = 0.999 one step moves a second moment by at most 0.1 %, less
// than half of bfloat16's spacing (0.39 % to 0.78 %), so a bfloat16 second
// moment never decreases; an int8 element that is not its block's largest
// cannot follow its own small changes either, and moves with its block's
// scale instead.
import { describe, expect, it } from 'vitest';
import { rng } from '../../test-utils/fused.js';
import { decodeValues, encodeValues } from './host-codec.js';
import type { SlotStorage } from './slot-storage.js';

type Narrow = Exclude<SlotStorage, { dtype: 'float32' }>;
const f = Math.fround;

/** One EMA step of every element through `storage`: decode, `b·v + (1 − b)·x` in float32, encode; returns the decoded result. */
function storedEmaStep(stored: Float32Array, x: ArrayLike<number>, b: number, storage: Narrow): Float32Array {
  const next = Float32Array.from(stored, (v, i) => f(f(f(1 - b) * (x[i] as number)) + f(f(b) * v)));
  return decodeValues(encodeValues(next, storage), next.length, storage);
}

/** Values as `storage` stores them (decoded). */
const roundTrip = (values: Float32Array, storage: Narrow) => decodeValues(encodeValues(values, storage), values.length, storage);

describe('an EMA with b = 0.999 stored in bfloat16 (round to nearest even)', () => {
  const storage: Narrow = { dtype: 'bfloat16' };

  it('never decreases, whatever the new values below it', () => {
    const r = rng(1);
    const v0 = roundTrip(
      Float32Array.from({ length: 512 }, () => 10 ** (-8 + 6 * r())),
      storage,
    );
    // the new value anywhere from 0 to the stored value: the float32 EMA falls, by up to 0.1 %
    const x = Float32Array.from(v0, (v) => v * r());
    const v1 = storedEmaStep(v0, x, 0.999, storage);
    expect(v1).toEqual(v0);
    // and a thousand steps of zeros leave it where it was (float32 would fall to 0.999^1000 ≈ 37 %)
    let v = v0;
    for (let t = 0; t < 1000; t++) v = storedEmaStep(v, new Float32Array(v.length), 0.999, storage);
    expect(v).toEqual(v0);
  });

  it('rises only for new values several times the stored one', () => {
    const v0 = roundTrip(
      Float32Array.from({ length: 1000 }, (_, i) => 1 + i / 1000),
      storage,
    );
    // the smallest multiple k of the stored value that moves it: (k − 1)·0.1 % must pass half its spacing
    const moves = (k: number) =>
      storedEmaStep(
        v0,
        Float32Array.from(v0, (v) => k * v),
        0.999,
        storage,
      ).some((v, i) => v !== v0[i]);
    expect(moves(2)).toBe(false);
    expect(moves(6)).toBe(true);
  });

  it('a first moment with b1 = 0.9 follows a decay to zero', () => {
    const v0 = roundTrip(
      Float32Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? 1 : -1) * (1 + i / 1000)),
      storage,
    );
    const v1 = storedEmaStep(v0, new Float32Array(v0.length), 0.9, storage);
    const worst = Math.max(...Array.from(v1, (v, i) => Math.abs(v / (v0[i] as number) - 0.9)));
    expect(worst).toBeLessThan(0.004); // within bfloat16's half spacing of the float32 EMA's 0.9
  });
});

describe('an EMA with b = 0.999 stored in float16 as its square root', () => {
  it('decreases in steps of a whole spacing: more than float32 at some values, not at all at others', () => {
    const storage: Narrow = { dtype: 'float16', root: true };
    const v0 = roundTrip(
      Float32Array.from({ length: 1000 }, (_, i) => (1 + i / 1000) ** 2),
      storage,
    );
    // new values a quarter of the stored ones: the float32 EMA falls by 0.075 %, its square root by 0.0375 %
    const v1 = storedEmaStep(
      v0,
      Float32Array.from(v0, (v) => v / 4),
      0.999,
      storage,
    );
    const ratios = Array.from(v1, (v, i) => v / (v0[i] as number));
    const fell = ratios.filter((q) => q < 1);
    expect(fell.length).toBeGreaterThan(100); // some fall ...
    expect(fell.length).toBeLessThan(900); // ... others stay
    expect(ratios.every((q) => q <= 1)).toBe(true);
    expect(Math.max(...fell)).toBeLessThan(0.99925); // and those that fall, fall by more than the float32 EMA's 0.075 %
  });
});

describe('an EMA with b = 0.999 stored in int8 (block-wise, as a square root)', () => {
  it("moves an element that is not the block's largest with the block's scale, not with its own inputs", () => {
    const storage: Narrow = { dtype: 'int8', signed: false, blockSize: 256, root: true };
    // element 0 is the block's largest; the others hold values from 1e-4 to 1e-1 of it
    const r = rng(2);
    const v0 = roundTrip(
      Float32Array.from({ length: 256 }, (_, i) => (i === 0 ? 1 : 10 ** (-4 + 3 * r()))),
      storage,
    );
    // the largest gets zeros (its float32 EMA decays); every other element gets its own value (its float32 EMA stays)
    const x = Float32Array.from(v0, (v, i) => (i === 0 ? 0 : v));
    let v = v0;
    for (let t = 0; t < 500; t++) v = storedEmaStep(v, x, 0.999, storage);
    const decay = f(0.999) ** 500; // ≈ 0.61
    expect(Math.abs((v[0] as number) / decay - 1)).toBeLessThan(1e-3); // the largest: exact, as in float32
    const ratios = Array.from(v, (x, i) => x / (v0[i] as number)).slice(1);
    const median = ratios.sort((a, b) => a - b)[ratios.length >> 1] as number;
    // the others fell with the scale although their float32 EMA did not move
    expect(median).toBeLessThan(0.8);
    expect(median).toBeGreaterThan(0.4);
  });
});
