import { describe, expect, it } from 'vitest';
import { scheduleConstant } from './constant.js';
import { expectValues, range } from './test-utils/index.js';

describe('scheduleConstant', () => {
  it('optax ConstantTest.test_constant: value 10 for 15 steps', () => {
    expectValues(scheduleConstant(10), range(15), new Array(15).fill(10), { rtol: 0 });
  });

  it('matches optax 0.2.8', () => {
    // optax 0.2.8, eager, printed as float32:
    //   s = optax.constant_schedule(0.5); [s(c) for c in [0, 1, 1000]]
    expectValues(scheduleConstant(0.5), [0, 1, 1000], [0.5, 0.5, 0.5]);
  });

  it('accepts fractional counts and returns the same number', () => {
    expect(scheduleConstant(-3.25)(2.5)).toBe(-3.25);
  });

  it('rejects a non-finite or non-number value', () => {
    expect(() => scheduleConstant(Number.NaN)).toThrow('scheduleConstant: `value` must be a finite number, got NaN');
    expect(() => scheduleConstant(Number.POSITIVE_INFINITY)).toThrow(/`value`.*Infinity/);
    expect(() => scheduleConstant('1' as unknown as number)).toThrow(/`value`.*'1'/);
  });

  it('rejects a negative, non-finite or non-number count', () => {
    const s = scheduleConstant(1);
    expect(() => s(-1)).toThrow('scheduleConstant: `count` must be a finite number >= 0, got -1');
    expect(() => s(Number.NaN)).toThrow(/`count`.*NaN/);
    expect(() => s(Number.POSITIVE_INFINITY)).toThrow(/`count`.*Infinity/);
    expect(() => s('3' as unknown as number)).toThrow(/`count`.*'3'/);
  });
});
