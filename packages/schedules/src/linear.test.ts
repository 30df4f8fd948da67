import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scheduleLinear, schedulePolynomial } from './linear.js';
import { expectValues, range } from './test-utils/index.js';
import { resetWarnings } from './validate.js';

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  resetWarnings();
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => warn.mockRestore());

describe('schedulePolynomial / scheduleLinear: optax PolynomialTest', () => {
  it('test_linear: 10 -> 20 over 10 steps', () => {
    const s = schedulePolynomial({ initValue: 10, endValue: 20, power: 1, transitionSteps: 10 });
    expectValues(s, range(15), [...range(10).map((n) => 10 + n), 20, 20, 20, 20, 20], { rtol: 1e-12 });
  });

  it('test_zero_steps_schedule: transitionSteps -1 and 0 hold initValue, with one warning', () => {
    for (const transitionSteps of [-1, 0]) {
      const s = schedulePolynomial({ initValue: 10, endValue: 20, power: 1, transitionSteps });
      expectValues(s, range(15), new Array(15).fill(10), { rtol: 0 });
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/schedulePolynomial: `transitionSteps` = -1 is not positive.*constant at `initValue`/);
  });

  it('test_nonlinear: quadratic 25 -> 10', () => {
    const s = schedulePolynomial({ initValue: 25, endValue: 10, power: 2, transitionSteps: 10 });
    expectValues(s, range(15), [...range(10).map((n) => 10 + 15 * (1 - n / 10) ** 2), 10, 10, 10, 10, 10], { rtol: 1e-12 });
  });

  it('test_with_decay_begin: quadratic 30 -> 10 starting at step 4', () => {
    const s = schedulePolynomial({ initValue: 30, endValue: 10, power: 2, transitionSteps: 10, transitionBegin: 4 });
    const want = [30, 30, 30, 30, ...range(10).map((n) => 10 + 20 * (1 - n / 10) ** 2), 10, 10, 10, 10, 10, 10];
    expectValues(s, range(20), want, { rtol: 1e-12 });
  });
});

describe('schedulePolynomial / scheduleLinear: values printed by optax 0.2.8', () => {
  // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
  //   s = <the optax call in each comment>; [str(np.float32(s(c))) for c in counts]
  // Tolerance: rtol 1e-6 (float32 rounding).
  it('linear, with transitionBegin', () => {
    // optax.linear_schedule(init_value=1.0, end_value=0.01, transition_steps=100, transition_begin=5)
    expectValues(
      scheduleLinear({ initValue: 1, endValue: 0.01, transitionSteps: 100, transitionBegin: 5 }),
      [0, 4, 5, 6, 30, 52.5, 104, 105, 110],
      [1.0, 1.0, 1.0, 0.9901, 0.7525, 0.52975, 0.01989999, 0.01, 0.01],
    );
  });

  it('linear, increasing', () => {
    // optax.linear_schedule(init_value=0.0, end_value=2.0, transition_steps=7)
    expectValues(
      scheduleLinear({ initValue: 0, endValue: 2, transitionSteps: 7 }),
      [0, 1, 2, 3, 6, 7, 8],
      [0.0, 0.28571427, 0.57142854, 0.8571429, 1.7142857, 2.0, 2.0],
    );
  });

  it('quadratic, with transitionBegin', () => {
    // optax.polynomial_schedule(init_value=1.0, end_value=0.01, power=2, transition_steps=100, transition_begin=5)
    expectValues(
      schedulePolynomial({ initValue: 1, endValue: 0.01, power: 2, transitionSteps: 100, transitionBegin: 5 }),
      [0, 5, 6, 30, 52.5, 104, 105, 110],
      [1.0, 1.0, 0.98029906, 0.566875, 0.2828687, 0.010098999, 0.01, 0.01],
    );
  });

  it('square root, increasing', () => {
    // optax.polynomial_schedule(init_value=0.5, end_value=2.0, power=0.5, transition_steps=10)
    // (Under jax.jit, XLA on CPU returns NaN at counts 10 and 11, where frac = 0,
    // because it rewrites x ** 0.5; eager optax and the formula give 2.0.)
    expectValues(
      schedulePolynomial({ initValue: 0.5, endValue: 2, power: 0.5, transitionSteps: 10 }),
      [0, 1, 3, 5, 9, 10, 11],
      [0.5, 0.5769751, 0.7450099, 0.9393399, 1.5256584, 2.0, 2.0],
    );
  });

  it('a negative transitionBegin falls back to 0, with one warning', () => {
    // optax.polynomial_schedule(init_value=3.0, end_value=1.0, power=2, transition_steps=4, transition_begin=-2)
    const s = schedulePolynomial({ initValue: 3, endValue: 1, power: 2, transitionSteps: 4, transitionBegin: -2 });
    expectValues(s, [0, 1, 2, 3, 4, 5], [3.0, 2.125, 1.5, 1.125, 1.0, 1.0]);
    scheduleLinear({ initValue: 3, endValue: 1, transitionSteps: 4, transitionBegin: -1 });
    scheduleLinear({ initValue: 3, endValue: 1, transitionSteps: 4, transitionBegin: -5 });
    expect(warn).toHaveBeenCalledTimes(2); // once for schedulePolynomial, once for scheduleLinear
    expect(String(warn.mock.calls[0]![0])).toMatch(/schedulePolynomial: `transitionBegin` = -2 is negative; using 0/);
    expect(String(warn.mock.calls[1]![0])).toMatch(/scheduleLinear: `transitionBegin` = -1 is negative; using 0/);
  });
});

describe('schedulePolynomial / scheduleLinear: behaviour', () => {
  it('scheduleLinear is schedulePolynomial with power 1', () => {
    const a = scheduleLinear({ initValue: 0.3, endValue: -0.7, transitionSteps: 13, transitionBegin: 3 });
    const b = schedulePolynomial({ initValue: 0.3, endValue: -0.7, power: 1, transitionSteps: 13, transitionBegin: 3 });
    for (const c of [0, 2, 3, 4, 7.5, 15, 16, 17, 100]) expect(a(c)).toBe(b(c));
  });

  it('scheduleLinear with transitionSteps 0 holds initValue and warns once under its own name', () => {
    const s = scheduleLinear({ initValue: 4, endValue: 1, transitionSteps: 0 });
    expect([s(0), s(1), s(1e6)]).toEqual([4, 4, 4]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^scheduleLinear: `transitionSteps` = 0/);
  });
});

describe('schedulePolynomial / scheduleLinear: errors', () => {
  const base = { initValue: 1, endValue: 0, power: 2, transitionSteps: 10 };

  it('rejects non-finite or missing arguments, naming them', () => {
    expect(() => schedulePolynomial({ ...base, initValue: Number.NaN })).toThrow(
      'schedulePolynomial: `initValue` must be a finite number, got NaN',
    );
    expect(() => schedulePolynomial({ ...base, endValue: Number.POSITIVE_INFINITY })).toThrow(/`endValue`.*Infinity/);
    expect(() => schedulePolynomial({ ...base, power: Number.NaN })).toThrow(/`power`.*NaN/);
    expect(() => schedulePolynomial({ ...base, transitionSteps: Number.NaN })).toThrow(/`transitionSteps`.*NaN/);
    expect(() => schedulePolynomial({ ...base, transitionBegin: Number.NEGATIVE_INFINITY })).toThrow(/`transitionBegin`.*-Infinity/);
    expect(() => scheduleLinear({ initValue: 1, transitionSteps: 3 } as never)).toThrow(
      'scheduleLinear: `endValue` must be a finite number, got undefined',
    );
  });

  it('rejects unknown options and a missing options object', () => {
    expect(() => scheduleLinear({ init_value: 1, endValue: 0, transitionSteps: 3 } as never)).toThrow(
      /scheduleLinear: unknown option `init_value` in `opts`; the options are `initValue`, /,
    );
    expect(() => scheduleLinear({ initValue: 1, endValue: 0, transitionSteps: 3, power: 2 } as never)).toThrow(/unknown option `power`/);
    expect(() => schedulePolynomial(undefined as never)).toThrow('schedulePolynomial: `opts` must be an options object, got undefined');
  });

  it('rejects a negative or non-finite count', () => {
    const s = schedulePolynomial(base);
    expect(() => s(-0.5)).toThrow('schedulePolynomial: `count` must be a finite number >= 0, got -0.5');
    expect(() => scheduleLinear({ initValue: 1, endValue: 0, transitionSteps: 3 })(Number.NaN)).toThrow(/scheduleLinear: `count`.*NaN/);
  });
});
