import { describe, expect, it } from 'vitest';
import { scheduleCosineDecay } from './cosine.js';
import { expectValues, range } from './test-utils/index.js';

/** ½(1 + cos(π·x)), the closed form optax's tests compare against. */
const halfCos = (x: number) => 0.5 + 0.5 * Math.cos(Math.PI * x);

describe('scheduleCosineDecay: optax CosineDecayTest', () => {
  it('test_decay_count_smaller_count', () => {
    const s = scheduleCosineDecay({ initValue: 0.1, decaySteps: 10, alpha: 0 });
    expectValues(
      s,
      range(10),
      range(10).map((n) => 0.1 * halfCos(n / 10)),
      { rtol: 1e-12 },
    );
  });

  it('test_decay_count_greater_count: holds the end value after decaySteps', () => {
    const s = scheduleCosineDecay({ initValue: 0.1, decaySteps: 5, alpha: 0 });
    const want = range(12).map((n) => 0.1 * halfCos(Math.min(n, 5) / 5));
    // The value at and after count 5 is 0.1 · ½(1 + cos π) = 0 up to double rounding.
    expectValues(s, range(12), want, { rtol: 1e-12, atol: 1e-17 });
  });

  it('test_decay_count_greater_count_with_alpha', () => {
    const s = scheduleCosineDecay({ initValue: 0.1, decaySteps: 5, alpha: 0.1 });
    const want = range(12).map((n) => 0.1 * (0.9 * halfCos(Math.min(n, 5) / 5) + 0.1));
    expectValues(s, range(12), want, { rtol: 1e-12 });
  });

  it('test_with_exponent (optax float32 values)', () => {
    const s = scheduleCosineDecay({ initValue: 0.1, decaySteps: 100, alpha: 0, exponent: 2 });
    expectValues(s, [0, 10, 50, 75, 100], [0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0], { rtol: 1e-6, atol: 1e-8 });
  });

  it('test_with_giant_int_steps: decaySteps 1e10', () => {
    const s = scheduleCosineDecay({ initValue: 1000, decaySteps: 1e10, alpha: 0, exponent: 1 });
    expectValues(s, [1e9], [975.52826]);
  });
});

describe('scheduleCosineDecay: values printed by optax 0.2.8', () => {
  // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
  //   s = <the optax call in each comment>; [str(np.float32(s(c))) for c in counts]
  // Tolerance: rtol 1e-6, plus, where the value nears 0, an atol of 1e-7 of
  // initValue (about one float32 ulp of it): near count = decaySteps,
  // float32's 1 + cos(π t / T) keeps only a few digits (at count 99 optax's
  // value is off by 1.4e-9, 5.5e-5 relative).
  it('default alpha and exponent', () => {
    // optax.cosine_decay_schedule(init_value=0.1, decay_steps=100)
    expectValues(
      scheduleCosineDecay({ initValue: 0.1, decaySteps: 100 }),
      [0, 1, 10, 25, 33.3, 50, 75, 99, 100, 150],
      [0.1, 0.099975325, 0.09755283, 0.08535534, 0.07504534, 0.049999997, 0.014644662, 2.4673343e-5, 0.0, 0.0],
      { atol: 1e-8 },
    );
    // The same points from optax 0.2.8 in float64 (jax.config.update('jax_enable_x64', True)),
    // which gradtx's doubles match to rounding: the float32 gap above is optax's own.
    expectValues(scheduleCosineDecay({ initValue: 0.1, decaySteps: 100 }), [99, 100], [2.467198171342e-5, 0.0], { rtol: 1e-12 });
  });

  it('alpha', () => {
    // optax.cosine_decay_schedule(init_value=0.1, decay_steps=100, alpha=0.1)
    expectValues(
      scheduleCosineDecay({ initValue: 0.1, decaySteps: 100, alpha: 0.1 }),
      [0, 10, 50, 75, 99, 100, 150],
      [0.1, 0.09779754, 0.054999996, 0.023180196, 0.010022206, 0.010000001, 0.010000001],
    );
  });

  it('alpha and exponent', () => {
    // optax.cosine_decay_schedule(init_value=2.0, decay_steps=30, alpha=0.25, exponent=3.0)
    expectValues(
      scheduleCosineDecay({ initValue: 2, decaySteps: 30, alpha: 0.25, exponent: 3 }),
      [0, 5, 10, 15, 20, 29, 30, 40],
      [2.0, 1.7182992, 1.1328125, 0.6875, 0.5234375, 0.50000006, 0.5, 0.5],
    );
  });

  it('counts beyond int32', () => {
    // optax.cosine_decay_schedule(init_value=1000.0, decay_steps=int(1e10)), counts [int(1e9), 5e9, 1e10, 2e10]
    expectValues(scheduleCosineDecay({ initValue: 1000, decaySteps: 1e10 }), [1e9, 5e9, 1e10, 2e10], [975.52826, 499.99997, 0.0, 0.0], {
      atol: 1e-4,
    });
  });
});

describe('scheduleCosineDecay: errors', () => {
  it('rejects decaySteps <= 0, as optax does', () => {
    expect(() => scheduleCosineDecay({ initValue: 1, decaySteps: 0 })).toThrow('scheduleCosineDecay: `decaySteps` must be > 0, got 0');
    expect(() => scheduleCosineDecay({ initValue: 1, decaySteps: -3 })).toThrow('scheduleCosineDecay: `decaySteps` must be > 0, got -3');
  });

  it('rejects non-finite or missing arguments and unknown options', () => {
    expect(() => scheduleCosineDecay({ initValue: 1, decaySteps: Number.NaN })).toThrow(/`decaySteps` must be a finite number, got NaN/);
    expect(() => scheduleCosineDecay({ initValue: Number.NaN, decaySteps: 3 })).toThrow(/`initValue`.*NaN/);
    expect(() => scheduleCosineDecay({ initValue: 1, decaySteps: 3, alpha: Number.POSITIVE_INFINITY })).toThrow(/`alpha`.*Infinity/);
    expect(() => scheduleCosineDecay({ initValue: 1, decaySteps: 3, exponent: Number.NaN })).toThrow(/`exponent`.*NaN/);
    expect(() => scheduleCosineDecay({ decaySteps: 3 } as never)).toThrow(
      'scheduleCosineDecay: `initValue` must be a finite number, got undefined',
    );
    expect(() => scheduleCosineDecay({ initValue: 1, decay_steps: 3 } as never)).toThrow(/unknown option `decay_steps`/);
  });

  it('rejects a negative count', () => {
    expect(() => scheduleCosineDecay({ initValue: 1, decaySteps: 3 })(-1)).toThrow(
      'scheduleCosineDecay: `count` must be a finite number >= 0, got -1',
    );
  });
});
