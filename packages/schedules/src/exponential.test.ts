import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scheduleExponentialDecay } from './exponential.js';
import { expectValues, range } from './test-utils/index.js';
import { resetWarnings } from './validate.js';

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  resetWarnings();
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => warn.mockRestore());

describe('scheduleExponentialDecay: optax ExponentialTest', () => {
  for (const staircase of [false, true]) {
    it(`test_constant_schedule (staircase ${staircase}): decayRate 1`, () => {
      const s = scheduleExponentialDecay({ initValue: 1, transitionSteps: 15, decayRate: 1, staircase });
      expectValues(s, range(15), new Array(15).fill(1), { rtol: 0 });
      expect(warn).not.toHaveBeenCalled();
    });

    it(`test_nonvalid_transition_steps (staircase ${staircase}): constant initValue, one warning`, () => {
      for (const transitionSteps of [-1, 0]) {
        const s = scheduleExponentialDecay({ initValue: 1, transitionSteps, decayRate: 1, staircase });
        expectValues(s, range(15), new Array(15).fill(1), { rtol: 0 });
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(
        /scheduleExponentialDecay: `transitionSteps` = -1 is not positive.*constant at `initValue`/,
      );
    });

    it(`test_nonvalid_decay_rate (staircase ${staircase}): decayRate 0 gives constant initValue, one warning`, () => {
      const s = scheduleExponentialDecay({ initValue: 1, transitionSteps: 2, decayRate: 0, staircase, endValue: 5 });
      expectValues(s, range(15), new Array(15).fill(1), { rtol: 0 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/scheduleExponentialDecay: `decayRate` is 0/);
    });
  }

  /** optax's expected values: `init · rate^(p)` with `p = n / T`, floored when staircase. */
  const closedForm = (n: number, transitionSteps: number, rate: number, staircase: boolean) => {
    const p = n / transitionSteps;
    return rate ** (staircase ? Math.floor(p) : p);
  };

  for (const [staircase, transitionBegin] of [
    [false, 0],
    [true, 0],
    [false, 5],
    [true, 5],
  ] as const) {
    it(`test_exponential (staircase ${staircase}, transitionBegin ${transitionBegin})`, () => {
      const s = scheduleExponentialDecay({ initValue: 1, transitionSteps: 2, decayRate: 2, transitionBegin, staircase });
      const want = [...new Array(transitionBegin).fill(1), ...range(15).map((n) => closedForm(n, 2, 2, staircase))];
      expectValues(s, range(15 + transitionBegin), want, { rtol: 1e-12 });
    });
  }

  for (const [decayRate, endValue, staircase] of [
    [0.2, 0.1, false],
    [1.0, 0.1, false],
    [2.0, 3.0, false],
    [0.2, 0.1, true],
    [1.0, 0.1, true],
    [2.0, 3.0, true],
  ] as const) {
    it(`test_end_value_with_staircase (decayRate ${decayRate}, endValue ${endValue}, staircase ${staircase})`, () => {
      const s = scheduleExponentialDecay({ initValue: 1, transitionSteps: 2, decayRate, transitionBegin: 3, staircase, endValue });
      const clip = decayRate < 1 ? Math.max : Math.min;
      const want = [1, 1, 1, ...range(11).map((n) => closedForm(n, 2, decayRate, staircase))].map((v) => clip(v, endValue));
      expectValues(s, range(14), want, { rtol: 1e-12 });
    });
  }

  it('test_immutable_count: halves each step', () => {
    const s = scheduleExponentialDecay({ initValue: 32, transitionSteps: 1, decayRate: 0.5 });
    expectValues(s, range(5), [32, 16, 8, 4, 2], { rtol: 0 });
  });
});

describe('scheduleExponentialDecay: values printed by optax 0.2.8', () => {
  // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
  //   s = <the optax call in each comment>; [str(np.float32(s(c))) for c in counts]
  // Tolerance: rtol 1e-6 (float32 rounding).
  it('continuous', () => {
    // optax.exponential_decay(init_value=1.0, transition_steps=10, decay_rate=0.5)
    expectValues(
      scheduleExponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 }),
      [0, 1, 5, 10, 15, 25, 100],
      [1.0, 0.933033, 0.70710677, 0.5, 0.35355338, 0.17677669, 0.0009765625],
    );
  });

  it('staircase with transitionBegin', () => {
    // optax.exponential_decay(init_value=1.0, transition_steps=10, decay_rate=0.5, transition_begin=5, staircase=True)
    expectValues(
      scheduleExponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, transitionBegin: 5, staircase: true }),
      [0, 5, 6, 14, 15, 16, 25, 30.5],
      [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25],
    );
  });

  it('endValue as a lower bound (decayRate < 1)', () => {
    // optax.exponential_decay(init_value=2.0, transition_steps=4, decay_rate=0.3, transition_begin=2, end_value=0.1)
    expectValues(
      scheduleExponentialDecay({ initValue: 2, transitionSteps: 4, decayRate: 0.3, transitionBegin: 2, endValue: 0.1 }),
      [0, 2, 3, 6, 10, 14, 30],
      [2.0, 2.0, 1.4801656, 0.6, 0.18, 0.1, 0.1],
    );
  });

  it('endValue as an upper bound (decayRate >= 1), staircase', () => {
    // optax.exponential_decay(init_value=1.0, transition_steps=3, decay_rate=1.5, staircase=True, end_value=3.0)
    expectValues(
      scheduleExponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 1.5, staircase: true, endValue: 3 }),
      [0, 2, 3, 6, 8, 9, 20],
      [1.0, 1.0, 1.5, 2.25, 2.25, 3.0, 3.0],
    );
  });

  it('endValue also bounds initValue, from count 0', () => {
    // optax.exponential_decay(init_value=1.0, transition_steps=2, decay_rate=0.5, end_value=2.0)
    expectValues(scheduleExponentialDecay({ initValue: 1, transitionSteps: 2, decayRate: 0.5, endValue: 2 }), [0, 1, 4], [2.0, 2.0, 2.0]);
  });

  it('a negative transitionBegin falls back to 0, with one warning', () => {
    // optax.exponential_decay(init_value=3.0, transition_steps=4, decay_rate=0.5, transition_begin=-2)
    const s = scheduleExponentialDecay({ initValue: 3, transitionSteps: 4, decayRate: 0.5, transitionBegin: -2 });
    expectValues(s, [0, 1, 2, 4, 8], [3.0, 2.5226893, 2.1213202, 1.5, 0.75]);
    scheduleExponentialDecay({ initValue: 3, transitionSteps: 4, decayRate: 0.5, transitionBegin: -7 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/`transitionBegin` = -2 is negative; using 0/);
  });
});

describe('scheduleExponentialDecay: errors', () => {
  const base = { initValue: 1, transitionSteps: 10, decayRate: 0.5 };

  it('rejects non-finite arguments, naming them', () => {
    expect(() => scheduleExponentialDecay({ ...base, initValue: Number.NaN })).toThrow(
      'scheduleExponentialDecay: `initValue` must be a finite number, got NaN',
    );
    expect(() => scheduleExponentialDecay({ ...base, transitionSteps: Number.POSITIVE_INFINITY })).toThrow(/`transitionSteps`.*Infinity/);
    expect(() => scheduleExponentialDecay({ ...base, decayRate: Number.NaN })).toThrow(/`decayRate`.*NaN/);
    expect(() => scheduleExponentialDecay({ ...base, transitionBegin: Number.NaN })).toThrow(/`transitionBegin`.*NaN/);
    expect(() => scheduleExponentialDecay({ ...base, endValue: Number.NaN })).toThrow(/`endValue`.*NaN/);
  });

  it('rejects a non-boolean staircase and unknown options', () => {
    expect(() => scheduleExponentialDecay({ ...base, staircase: 1 as never })).toThrow(
      'scheduleExponentialDecay: `staircase` must be a boolean, got 1',
    );
    expect(() => scheduleExponentialDecay({ ...base, decay_rate: 0.5 } as never)).toThrow(/unknown option `decay_rate`/);
  });

  it('rejects a negative count', () => {
    expect(() => scheduleExponentialDecay(base)(-2)).toThrow('scheduleExponentialDecay: `count` must be a finite number >= 0, got -2');
  });
});
