import { describe, expect, it } from 'vitest';
import { scheduleSgdr } from './sgdr.js';
import { expectValues } from './test-utils/index.js';

describe('scheduleSgdr', () => {
  for (const [name, lr0, lr1, lr2] of [
    ['with step decay', 1.6, 0.8, 0.4],
    ['without step_decay', 1.6, 1.6, 1.6],
  ] as const) {
    it(`optax SGDRTest.test_limits (${name})`, () => {
      const cycles = (
        [
          [2000, lr0],
          [3000, lr1],
          [5000, lr2],
        ] as const
      ).map(([decaySteps, peakValue]) => ({ decaySteps, peakValue, initValue: 0, endValue: 0, warmupSteps: 500 }));
      const s = scheduleSgdr(cycles);
      expectValues(s, [500, 2500, 5500], [lr0, lr1, lr2], { rtol: 1e-7 });
    });
  }

  it('matches optax 0.2.8 over three cycles', () => {
    // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
    //   s = optax.sgdr_schedule([
    //     dict(init_value=0.0, peak_value=1.6, warmup_steps=5, decay_steps=20, end_value=0.1),
    //     dict(init_value=0.1, peak_value=0.8, warmup_steps=2, decay_steps=10),
    //     dict(init_value=0.0, peak_value=0.4, warmup_steps=3, decay_steps=15, end_value=0.01, exponent=2.0)])
    //   [str(np.float32(s(c))) for c in counts]
    // Tolerance: rtol 1e-6 (float32 rounding), plus an atol of 1e-7 (about one
    // float32 ulp of the peak values) for the ends of the cosine cycles, where
    // float32's 1 + cos(π t / T) keeps few digits.
    const s = scheduleSgdr([
      { initValue: 0, peakValue: 1.6, warmupSteps: 5, decaySteps: 20, endValue: 0.1 },
      { initValue: 0.1, peakValue: 0.8, warmupSteps: 2, decaySteps: 10 },
      { initValue: 0, peakValue: 0.4, warmupSteps: 3, decaySteps: 15, endValue: 0.01, exponent: 2 },
    ]);
    expectValues(
      s,
      [0, 3, 5, 12, 19, 20, 21, 22, 26, 29, 30, 31, 33, 40, 44, 45, 60],
      [
        0.0, 0.96000004, 1.6, 0.92839634, 0.116389275, 0.100000024, 0.45000002, 0.8, 0.39999998, 0.030448152, 0.0, 0.13333336, 0.4,
        0.06356154, 0.010113202, 0.010000001, 0.010000001,
      ],
      { atol: 1e-7 },
    );
    // The same points from optax 0.2.8 in float64 (jax.config.update('jax_enable_x64', True)),
    // which gradtx's doubles match to rounding: the float32 gap above is optax's own.
    expectValues(s, [29, 44], [0.030448186995485307, 0.010113202308123069], { rtol: 1e-12 });
  });

  it('matches optax 0.2.8 with one cycle and no warmup', () => {
    // optax.sgdr_schedule([dict(init_value=1.0, peak_value=2.0, warmup_steps=0, decay_steps=4)]) at counts [0, 2, 4, 10]
    // Tolerance: rtol 1e-6, atol 1e-7 (the cosine's end, where float32 keeps few digits).
    const s = scheduleSgdr([{ initValue: 1, peakValue: 2, warmupSteps: 0, decaySteps: 4 }]);
    expectValues(s, [0, 2, 4, 10], [2.0, 0.99999994, 0.0, 0.0], { atol: 1e-7 });
  });

  it('rejects an empty or non-array cosineKwargs', () => {
    expect(() => scheduleSgdr([])).toThrow(
      'scheduleSgdr: `cosineKwargs` must be a non-empty array of scheduleWarmupCosine options, got an array of length 0',
    );
    expect(() => scheduleSgdr({ initValue: 0 } as never)).toThrow(
      /`cosineKwargs` must be a non-empty array.*got an object with keys \{initValue\}/,
    );
  });

  it('checks each cycle as scheduleWarmupCosine does, naming the cycle', () => {
    const ok = { initValue: 0, peakValue: 1, warmupSteps: 2, decaySteps: 10 };
    expect(() => scheduleSgdr([ok, { ...ok, decaySteps: 2 }])).toThrow(
      /scheduleSgdr: `cosineKwargs\[1\]\.decaySteps` must be greater than `cosineKwargs\[1\]\.warmupSteps` \(2\).*got 2/,
    );
    expect(() => scheduleSgdr([ok, { ...ok, peakValue: Number.NaN }])).toThrow(
      'scheduleSgdr: `cosineKwargs[1].peakValue` must be a finite number, got NaN',
    );
    expect(() => scheduleSgdr([{ initValue: 0, peakValue: 1, warmupSteps: 2 } as never])).toThrow(
      'scheduleSgdr: `cosineKwargs[0].decaySteps` must be a finite number, got undefined',
    );
    expect(() => scheduleSgdr([{ ...ok, decay_steps: 3 } as never])).toThrow(
      /scheduleSgdr: unknown option `decay_steps` in `cosineKwargs\[0\]`/,
    );
    expect(() => scheduleSgdr([ok, null as never])).toThrow('scheduleSgdr: `cosineKwargs[1]` must be an options object, got null');
  });

  it('rejects a negative count', () => {
    expect(() => scheduleSgdr([{ initValue: 0, peakValue: 1, warmupSteps: 2, decaySteps: 10 }])(-1)).toThrow(
      'scheduleSgdr: `count` must be a finite number >= 0, got -1',
    );
  });
});
