import { describe, expect, it } from 'vitest';
import { scheduleCosineOnecycle, scheduleLinearOnecycle } from './onecycle.js';
import { expectValues, range } from './test-utils/index.js';

describe('one-cycle schedules: optax OneCycleTest', () => {
  it('test_linear', () => {
    const s = scheduleLinearOnecycle({
      transitionSteps: 10,
      peakValue: 1000,
      pctStart: 0.3,
      pctFinal: 0.7,
      divFactor: 10,
      finalDivFactor: 100,
    });
    const want = [100, 400, 700, 1000, 775, 550, 325, 100, 67, 34, 1, 1];
    expectValues(s, range(12), want, { rtol: 1e-12 });
  });

  it('test_cosine', () => {
    const s = scheduleCosineOnecycle({ transitionSteps: 5, peakValue: 1000, pctStart: 0.4, divFactor: 10, finalDivFactor: 100 });
    expectValues(s, range(7), [100, 550, 1000, 750.25, 250.75, 1, 1], { rtol: 1e-12 });
  });

  it('test_nonpositive_transition_steps', () => {
    expect(() => scheduleCosineOnecycle({ transitionSteps: 0, peakValue: 5 })).toThrow(
      'scheduleCosineOnecycle: `transitionSteps` must be > 0, got 0',
    );
    expect(() => scheduleLinearOnecycle({ transitionSteps: 0, peakValue: 5 })).toThrow(
      'scheduleLinearOnecycle: `transitionSteps` must be > 0, got 0',
    );
  });
});

describe('one-cycle schedules: values printed by optax 0.2.8', () => {
  // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
  //   s = <the optax call in each comment>; [str(np.float32(s(c))) for c in counts]
  // Tolerance: rtol 1e-6 (float32 rounding), plus an atol of 1e-7 (about one
  // float32 ulp of peakValue) where a cosine part nears its end and float32's
  // 1 + cos(π t / T) keeps few digits.
  it('linear, defaults', () => {
    // optax.linear_onecycle_schedule(transition_steps=100, peak_value=1.0)
    expectValues(
      scheduleLinearOnecycle({ transitionSteps: 100, peakValue: 1 }),
      [0, 10, 29, 30, 31, 50, 84, 85, 86, 95, 99, 100, 150],
      [0.04, 0.35999998, 0.968, 1.0, 0.98254544, 0.65090907, 0.057454526, 0.04, 0.0373336, 0.013335999, 0.0026703998, 4e-6, 4e-6],
    );
  });

  it('linear, one step: the first two boundaries fall on step 0 and the later one wins', () => {
    // optax.linear_onecycle_schedule(transition_steps=1, peak_value=1.0)
    expectValues(
      scheduleLinearOnecycle({ transitionSteps: 1, peakValue: 1 }),
      [0, 0.5, 1, 2],
      [0.0016, 0.00080007996, 1.5999998e-7, 1.5999998e-7],
    );
  });

  it('linear, pctFinal 1: the last two boundaries coincide', () => {
    // optax.linear_onecycle_schedule(transition_steps=20, peak_value=2.0, pct_start=0.25, pct_final=1.0, div_factor=5.0, final_div_factor=3.0)
    expectValues(
      scheduleLinearOnecycle({ transitionSteps: 20, peakValue: 2, pctStart: 0.25, pctFinal: 1, divFactor: 5, finalDivFactor: 3 }),
      [0, 4, 5, 10, 19, 20, 25],
      [0.4, 1.6800001, 2.0, 1.5555556, 0.7555556, 0.6666667, 0.6666667],
    );
  });

  it('cosine, defaults', () => {
    // optax.cosine_onecycle_schedule(transition_steps=100, peak_value=1.0)
    expectValues(
      scheduleCosineOnecycle({ transitionSteps: 100, peakValue: 1 }),
      [0, 10, 29, 30, 31, 50, 65, 99, 100, 150],
      [0.04000002, 0.28000003, 0.99737054, 1.0, 0.9994965, 0.81174564, 0.50000197, 0.00050744857, 4e-6, 4e-6],
      { atol: 1e-7 },
    );
    // The same points from optax 0.2.8 in float64 (jax.config.update('jax_enable_x64', True)),
    // which gradtx's doubles match to rounding: the float32 gap above is optax's own.
    expectValues(scheduleCosineOnecycle({ transitionSteps: 100, peakValue: 1 }), [99, 100], [0.0005074647154757879, 4e-6], { rtol: 1e-12 });
  });

  it('cosine, options and a fractional transitionSteps (its last boundary is truncated)', () => {
    // optax.cosine_onecycle_schedule(transition_steps=7.5, peak_value=3.0, pct_start=0.5, div_factor=4.0, final_div_factor=2.0)
    expectValues(
      scheduleCosineOnecycle({ transitionSteps: 7.5, peakValue: 3, pctStart: 0.5, divFactor: 4, finalDivFactor: 2 }),
      [0, 1, 2, 3, 4, 5, 6, 7, 7.5, 8],
      [0.75, 1.3125, 2.4375, 3.0, 2.6155777, 1.6874999, 0.75942236, 0.375, 0.375, 0.375],
    );
  });
});

describe('one-cycle schedules: errors', () => {
  it('rejects a negative transitionSteps, as optax does', () => {
    expect(() => scheduleLinearOnecycle({ transitionSteps: -10, peakValue: 5 })).toThrow(/`transitionSteps` must be > 0, got -10/);
    expect(() => scheduleCosineOnecycle({ transitionSteps: -0.5, peakValue: 5 })).toThrow(/`transitionSteps` must be > 0, got -0.5/);
  });

  it('rejects a zero divFactor or finalDivFactor (optax divides by them in Python, which raises)', () => {
    expect(() => scheduleLinearOnecycle({ transitionSteps: 10, peakValue: 1, divFactor: 0 })).toThrow(
      'scheduleLinearOnecycle: `divFactor` must be non-zero, got 0',
    );
    expect(() => scheduleLinearOnecycle({ transitionSteps: 10, peakValue: 1, finalDivFactor: 0 })).toThrow(
      /`finalDivFactor` must be non-zero/,
    );
    expect(() => scheduleCosineOnecycle({ transitionSteps: 10, peakValue: 1, divFactor: 0 })).toThrow(
      /scheduleCosineOnecycle: `divFactor` must be non-zero/,
    );
    expect(() => scheduleCosineOnecycle({ transitionSteps: 10, peakValue: 1, finalDivFactor: 0 })).toThrow(
      /`finalDivFactor` must be non-zero/,
    );
  });

  it('rejects non-finite or missing arguments and unknown options', () => {
    expect(() => scheduleLinearOnecycle({ transitionSteps: Number.NaN, peakValue: 1 })).toThrow(
      'scheduleLinearOnecycle: `transitionSteps` must be a finite number, got NaN',
    );
    expect(() => scheduleLinearOnecycle({ transitionSteps: 10 } as never)).toThrow(/`peakValue` must be a finite number, got undefined/);
    expect(() => scheduleLinearOnecycle({ transitionSteps: 10, peakValue: 1, pctStart: Number.NaN })).toThrow(/`pctStart`.*NaN/);
    expect(() => scheduleLinearOnecycle({ transitionSteps: 10, peakValue: 1, pctFinal: Number.POSITIVE_INFINITY })).toThrow(
      /`pctFinal`.*Infinity/,
    );
    expect(() => scheduleCosineOnecycle({ transitionSteps: 10, peakValue: 1, divFactor: Number.NaN })).toThrow(/`divFactor`.*NaN/);
    expect(() => scheduleCosineOnecycle({ transitionSteps: 10, peakValue: 1, pctFinal: 0.9 } as never)).toThrow(
      /scheduleCosineOnecycle: unknown option `pctFinal`/,
    );
  });

  it('rejects a negative count', () => {
    expect(() => scheduleLinearOnecycle({ transitionSteps: 10, peakValue: 1 })(-1)).toThrow(
      'scheduleLinearOnecycle: `count` must be a finite number >= 0, got -1',
    );
    expect(() => scheduleCosineOnecycle({ transitionSteps: 10, peakValue: 1 })(-1)).toThrow(
      'scheduleCosineOnecycle: `count` must be a finite number >= 0, got -1',
    );
  });
});
