import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectValues, range } from './test-utils/index.js';
import { resetWarnings } from './validate.js';
import { scheduleWarmupConstant, scheduleWarmupCosine, scheduleWarmupExponential } from './warmup.js';

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  resetWarnings();
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => warn.mockRestore());

describe('scheduleWarmupCosine: optax WarmupCosineDecayTest', () => {
  for (const [name, initValue, peakValue, endValue] of [
    ['with end value', 10, 0.5, 1e-4],
    ['without end value', 5, 3, 0.0],
  ] as const) {
    it(`test_limits (${name})`, () => {
      const s = scheduleWarmupCosine({ initValue, peakValue, warmupSteps: 100, decaySteps: 1000, endValue });
      expect(s(0)).toBeCloseTo(initValue, 12);
      expect(s(100)).toBeCloseTo(peakValue, 12);
      expect(Math.abs(s(1000) - endValue)).toBeLessThanOrEqual(1e-3 * endValue + 1e-15);
    });
  }

  it('test_with_exponent (optax float32 values)', () => {
    const s = scheduleWarmupCosine({ initValue: 0.2, peakValue: 1.21, endValue: -3, warmupSteps: 50, decaySteps: 100, exponent: 2 });
    const want = [0.20000004768371582, 0.4020000100135803, 1.2100000381469727, -1.947500228881836, -3.000000238418579];
    expectValues(s, [0, 10, 50, 75, 100], want, { rtol: 1e-6, atol: 1e-8 });
  });

  it('test_zero_peak_value', () => {
    const s = scheduleWarmupCosine({ initValue: 0.2, peakValue: 0, endValue: -3, warmupSteps: 50, decaySteps: 100, exponent: 2 });
    expectValues(s, [0, 10, 50, 75, 100], [0.2, 0.16, 0.0, 0.0, 0.0], { rtol: 1e-6, atol: 1e-8 });
  });

  it('test_monotonicity_and_exponent_ordering', () => {
    const opts = { initValue: 0, peakValue: 1, warmupSteps: 5, decaySteps: 25, endValue: 0.1 };
    const regular = scheduleWarmupCosine({ ...opts, exponent: 1 });
    const steep = scheduleWarmupCosine({ ...opts, exponent: 2 });
    const vals = range(26).map(regular);
    const vals2 = range(26).map(steep);
    for (let t = 0; t < 5; t++) expect(vals[t]!).toBeLessThan(vals[t + 1]!);
    expect(vals[5]).toBeCloseTo(1, 6);
    for (let t = 5; t < 25; t++) expect(vals[t]!).toBeGreaterThanOrEqual(vals[t + 1]!);
    expect(vals[25]).toBeCloseTo(0.1, 6);
    for (let t = 5; t <= 25; t++) expect(vals2[t]!).toBeLessThanOrEqual(vals[t]! + 1e-12);
  });

  it('test_raises_when_decay_equals_warmup', () => {
    expect(() => scheduleWarmupCosine({ initValue: 0.2, peakValue: 1.2, warmupSteps: 10, decaySteps: 10, endValue: 0 })).toThrow(
      'scheduleWarmupCosine: `decaySteps` must be greater than `warmupSteps` (10); the cosine part lasts decaySteps - warmupSteps steps, got 10',
    );
  });
});

describe('warmup schedules: values printed by optax 0.2.8', () => {
  // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
  //   s = <the optax call in each comment>; [str(np.float32(s(c))) for c in counts]
  // Tolerance: rtol 1e-6, plus an atol of 1e-7 (about one float32 ulp of
  // peakValue) where the value nears 0 (the end of a cosine decay, where
  // float32's 1 + cos(π t / T) keeps few digits).
  it('warmup cosine, defaults', () => {
    // optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=100)
    expectValues(
      scheduleWarmupCosine({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 100 }),
      [0, 1, 5, 9, 10, 11, 40, 55, 99, 100, 120],
      [0.0, 0.100000024, 0.5, 0.9, 1.0, 0.9996954, 0.75, 0.49999997, 0.00030457973, 0.0, 0.0],
      { atol: 1e-7 },
    );
    // The same points from optax 0.2.8 in float64 (jax.config.update('jax_enable_x64', True)),
    // which gradtx's doubles match to rounding: the float32 gap above is optax's own.
    const s = scheduleWarmupCosine({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 100 });
    expectValues(s, [99, 100], [0.00030458649045211894, 0.0], { rtol: 1e-12 });
  });

  it('warmup cosine, endValue and exponent', () => {
    // optax.warmup_cosine_decay_schedule(init_value=0.2, peak_value=1.21, warmup_steps=50, decay_steps=100, end_value=-3.0, exponent=2.0)
    expectValues(
      scheduleWarmupCosine({ initValue: 0.2, peakValue: 1.21, warmupSteps: 50, decaySteps: 100, endValue: -3, exponent: 2 }),
      [0, 10, 25, 49, 50, 51, 75, 99, 100, 101],
      [0.20000005, 0.402, 0.70500004, 1.1898, 1.21, 1.2016965, -1.9475002, -2.9999962, -3.0000002, -3.0000002],
    );
  });

  it('warmup cosine, no warmup (and no warning)', () => {
    // optax.warmup_cosine_decay_schedule(init_value=0.5, peak_value=2.0, warmup_steps=0, decay_steps=40, end_value=0.1)
    expectValues(
      scheduleWarmupCosine({ initValue: 0.5, peakValue: 2, warmupSteps: 0, decaySteps: 40, endValue: 0.1 }),
      [0, 1, 10, 20, 39, 40, 50],
      [2.0, 1.9970714, 1.7217515, 1.05, 0.102928504, 0.1, 0.1],
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('warmup exponential, defaults', () => {
    // optax.warmup_exponential_decay_schedule(init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5, decay_rate=0.5)
    expectValues(
      scheduleWarmupExponential({ initValue: 0, peakValue: 1, warmupSteps: 10, transitionSteps: 5, decayRate: 0.5 }),
      [0, 3, 9, 10, 11, 15, 20, 40],
      [0.0, 0.3, 0.9, 1.0, 0.8705506, 0.5, 0.25, 0.015625],
    );
  });

  it('warmup exponential, every option', () => {
    // optax.warmup_exponential_decay_schedule(init_value=0.1, peak_value=1.0, warmup_steps=4, transition_steps=5,
    //   decay_rate=0.5, transition_begin=3, staircase=True, end_value=0.2)
    expectValues(
      scheduleWarmupExponential({
        initValue: 0.1,
        peakValue: 1,
        warmupSteps: 4,
        transitionSteps: 5,
        decayRate: 0.5,
        transitionBegin: 3,
        staircase: true,
        endValue: 0.2,
      }),
      [0, 2, 4, 6, 7, 8, 11, 12, 13, 17, 30],
      [0.100000024, 0.55, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.2],
    );
  });

  it('warmup exponential, transitionSteps 0: peakValue after the warmup, one warning', () => {
    // optax.warmup_exponential_decay_schedule(init_value=0.0, peak_value=1.0, warmup_steps=4, transition_steps=0, decay_rate=0.5)
    expectValues(
      scheduleWarmupExponential({ initValue: 0, peakValue: 1, warmupSteps: 4, transitionSteps: 0, decayRate: 0.5 }),
      [0, 2, 4, 5, 100],
      [0.0, 0.5, 1.0, 1.0, 1.0],
    );
    scheduleWarmupExponential({ initValue: 0, peakValue: 1, warmupSteps: 4, transitionSteps: -2, decayRate: 0.5 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /scheduleWarmupExponential: `transitionSteps` = 0 is not positive, so the value after the warmup is constant at `peakValue`/,
    );
  });

  it('warmup exponential, a negative transitionBegin falls back to 0, with a warning', () => {
    // optax.warmup_exponential_decay_schedule(init_value=0.0, peak_value=1.0, warmup_steps=4, transition_steps=2, decay_rate=0.5, transition_begin=-3)
    expectValues(
      scheduleWarmupExponential({ initValue: 0, peakValue: 1, warmupSteps: 4, transitionSteps: 2, decayRate: 0.5, transitionBegin: -3 }),
      [0, 2, 4, 5, 6, 8],
      [0.0, 0.5, 1.0, 0.70710677, 0.5, 0.25],
    );
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/scheduleWarmupExponential: `transitionBegin` = -3 is negative; using 0/);
  });

  it('warmup exponential, decayRate 0: peakValue after the warmup, one warning', () => {
    const s = scheduleWarmupExponential({ initValue: 0, peakValue: 1, warmupSteps: 4, transitionSteps: 2, decayRate: 0 });
    expectValues(s, [0, 2, 4, 50], [0, 0.5, 1, 1], { rtol: 1e-15 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/scheduleWarmupExponential: `decayRate` is 0/);
  });

  it('warmup constant', () => {
    // optax.warmup_constant_schedule(init_value=0.0, peak_value=1.0, warmup_steps=10)
    expectValues(
      scheduleWarmupConstant({ initValue: 0, peakValue: 1, warmupSteps: 10 }),
      [0, 1, 5, 9, 10, 11, 1000],
      [0.0, 0.100000024, 0.5, 0.9, 1.0, 1.0, 1.0],
    );
  });

  it('warmup constant, warmupSteps 0: the constant initValue (not peakValue), one warning', () => {
    // optax.warmup_constant_schedule(init_value=0.1, peak_value=1.0, warmup_steps=0)
    expectValues(scheduleWarmupConstant({ initValue: 0.1, peakValue: 1, warmupSteps: 0 }), [0, 1, 10], [0.1, 0.1, 0.1]);
    scheduleWarmupConstant({ initValue: 0.1, peakValue: 1, warmupSteps: -1 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /scheduleWarmupConstant: `warmupSteps` = 0 is not positive, so the schedule is constant at `initValue`/,
    );
  });
});

describe('warmup schedules: errors', () => {
  const cos = { initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 100 };
  const exp = { initValue: 0, peakValue: 1, warmupSteps: 10, transitionSteps: 5, decayRate: 0.5 };

  it('scheduleWarmupCosine rejects decaySteps <= warmupSteps, as optax does', () => {
    expect(() => scheduleWarmupCosine({ ...cos, decaySteps: 5 })).toThrow(
      /scheduleWarmupCosine: `decaySteps` must be greater than `warmupSteps` \(10\).*got 5/,
    );
    expect(() => scheduleWarmupCosine({ ...cos, warmupSteps: 0, decaySteps: 0 })).toThrow(
      /`decaySteps` must be greater than `warmupSteps` \(0\)/,
    );
  });

  it('rejects non-finite or missing arguments, naming them', () => {
    expect(() => scheduleWarmupCosine({ ...cos, peakValue: Number.NaN })).toThrow(
      'scheduleWarmupCosine: `peakValue` must be a finite number, got NaN',
    );
    expect(() => scheduleWarmupCosine({ ...cos, warmupSteps: Number.POSITIVE_INFINITY })).toThrow(/`warmupSteps`.*Infinity/);
    expect(() => scheduleWarmupCosine({ ...cos, endValue: Number.NaN })).toThrow(/`endValue`.*NaN/);
    expect(() => scheduleWarmupCosine({ ...cos, exponent: Number.NaN })).toThrow(/`exponent`.*NaN/);
    expect(() => scheduleWarmupExponential({ ...exp, decayRate: Number.NaN })).toThrow(
      'scheduleWarmupExponential: `decayRate` must be a finite number, got NaN',
    );
    expect(() => scheduleWarmupExponential({ ...exp, initValue: undefined } as never)).toThrow(/`initValue`.*undefined/);
    expect(() => scheduleWarmupExponential({ ...exp, transitionBegin: Number.NaN })).toThrow(/`transitionBegin`.*NaN/);
    expect(() => scheduleWarmupExponential({ ...exp, endValue: Number.NEGATIVE_INFINITY })).toThrow(/`endValue`.*-Infinity/);
    expect(() => scheduleWarmupExponential({ ...exp, staircase: 'no' as never })).toThrow(
      "scheduleWarmupExponential: `staircase` must be a boolean, got 'no'",
    );
    expect(() => scheduleWarmupConstant({ initValue: 0, peakValue: 1, warmupSteps: Number.NaN })).toThrow(
      'scheduleWarmupConstant: `warmupSteps` must be a finite number, got NaN',
    );
  });

  it('rejects unknown options', () => {
    expect(() => scheduleWarmupCosine({ ...cos, warmup_steps: 3 } as never)).toThrow(/scheduleWarmupCosine: unknown option `warmup_steps`/);
    expect(() => scheduleWarmupExponential({ ...exp, alpha: 0 } as never)).toThrow(/scheduleWarmupExponential: unknown option `alpha`/);
    expect(() => scheduleWarmupConstant({ initValue: 0, peakValue: 1, warmupSteps: 3, decaySteps: 4 } as never)).toThrow(
      /unknown option `decaySteps`/,
    );
  });

  it('rejects a negative count', () => {
    expect(() => scheduleWarmupCosine(cos)(-1)).toThrow('scheduleWarmupCosine: `count` must be a finite number >= 0, got -1');
    expect(() => scheduleWarmupExponential(exp)(-1)).toThrow('scheduleWarmupExponential: `count` must be a finite number >= 0, got -1');
    expect(() => scheduleWarmupConstant({ initValue: 0, peakValue: 1, warmupSteps: 3 })(-1)).toThrow(
      'scheduleWarmupConstant: `count` must be a finite number >= 0, got -1',
    );
  });
});
