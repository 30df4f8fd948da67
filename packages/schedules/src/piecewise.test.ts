import { describe, expect, it } from 'vitest';
import { schedulePiecewiseConstant, schedulePiecewiseInterpolate } from './piecewise.js';
import { expectValues, range } from './test-utils/index.js';

describe('schedulePiecewiseConstant: optax PiecewiseConstantTest', () => {
  it('test_positive', () => {
    const s = schedulePiecewiseConstant({ initValue: 0.1, boundariesAndScales: { 3: 2, 6: 0.5 } });
    expectValues(s, range(10), [0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], { rtol: 1e-15 });
  });

  it('test_negative', () => {
    const s = schedulePiecewiseConstant({ initValue: -0.1, boundariesAndScales: { 3: 2, 6: 0.5 } });
    expectValues(s, range(10), [-0.1, -0.1, -0.1, -0.2, -0.2, -0.2, -0.1, -0.1, -0.1, -0.1], { rtol: 1e-15 });
  });
});

describe('schedulePiecewiseInterpolate: optax PiecewiseInterpolateTest', () => {
  it('test_linear_piecewise', () => {
    const s = schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 200, boundariesAndScales: { 5: 1.5, 10: 0.25 } });
    const want = [200, 220, 240, 260, 280, 300, 255, 210, 165, 120, 75, 75, 75];
    expectValues(s, range(13), want, { rtol: 1e-12 });
  });

  it('test_cos_piecewise (keys out of order)', () => {
    const s = schedulePiecewiseInterpolate({ interpolateType: 'cosine', initValue: 400, boundariesAndScales: { 5: 1.2, 3: 0.6, 7: 1.0 } });
    expectValues(s, range(9), [400, 360, 280, 240, 264, 288, 288, 288, 288], { rtol: 1e-12 });
  });

  it('test_empty_dict and test_no_dict', () => {
    expectValues(
      schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 13, boundariesAndScales: {} }),
      range(5),
      [13, 13, 13, 13, 13],
    );
    expectValues(schedulePiecewiseInterpolate({ interpolateType: 'cosine', initValue: 17 }), range(3), [17, 17, 17]);
  });

  it('test_invalid_type', () => {
    expect(() => schedulePiecewiseInterpolate({ interpolateType: 'linar' as never, initValue: 13 })).toThrow(
      "schedulePiecewiseInterpolate: `interpolateType` must be 'linear' or 'cosine', got 'linar'",
    );
    expect(() => schedulePiecewiseInterpolate({ interpolateType: '' as never, initValue: 13, boundariesAndScales: { 5: 3 } })).toThrow(
      /`interpolateType`.*got ''/,
    );
    expect(() => schedulePiecewiseInterpolate({ interpolateType: null as never, initValue: 13, boundariesAndScales: {} })).toThrow(
      /`interpolateType`.*got null/,
    );
  });

  it('test_invalid_scale', () => {
    expect(() => schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 13, boundariesAndScales: { 5: -3 } })).toThrow(
      'schedulePiecewiseInterpolate: `boundariesAndScales[5]` must be a finite number >= 0 (optax expects non-negative scale factors), got -3',
    );
  });

  it('test_zero_interval_size: a boundary at step 0', () => {
    const s = schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 13, boundariesAndScales: { 0: 2, 5: 3 } });
    for (const c of range(6)) expect(Number.isFinite(s(c))).toBe(true);
    expect(s(0)).toBeCloseTo(26, 7);
    expect(s(5)).toBeCloseTo(78, 7);
  });
});

describe('piecewise schedules: values printed by optax 0.2.8', () => {
  // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
  //   s = <the optax call in each comment>; [str(np.float32(s(c))) for c in counts]
  // Tolerance: rtol 1e-6 (float32 rounding).
  it('constant', () => {
    // optax.piecewise_constant_schedule(init_value=0.1, boundaries_and_scales={3: 2.0, 6: 0.5})
    expectValues(
      schedulePiecewiseConstant({ initValue: 0.1, boundariesAndScales: { 3: 2, 6: 0.5 } }),
      [0, 2, 3, 4, 5.5, 6, 9],
      [0.1, 0.1, 0.2, 0.2, 0.2, 0.1, 0.1],
    );
  });

  it('constant, keys out of order', () => {
    // optax.piecewise_constant_schedule(init_value=1.0, boundaries_and_scales={5000: 0.1, 1000: 0.1})
    expectValues(
      schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: { 5000: 0.1, 1000: 0.1 } }),
      [0, 999, 1000, 4999, 5000, 100000],
      [1.0, 1.0, 0.1, 0.1, 0.010000001, 0.010000001],
    );
  });

  it('constant, a negative step and no steps', () => {
    // optax.piecewise_constant_schedule(init_value=8.0, boundaries_and_scales={-2: 0.5, 4: 2.0})
    expectValues(schedulePiecewiseConstant({ initValue: 8, boundariesAndScales: { '-2': 0.5, 4: 2 } }), [0, 3, 4, 5], [4.0, 4.0, 8.0, 8.0]);
    // optax.piecewise_constant_schedule(init_value=8.0, boundaries_and_scales={})
    expectValues(schedulePiecewiseConstant({ initValue: 8, boundariesAndScales: {} }), [0, 3], [8.0, 8.0]);
    expectValues(schedulePiecewiseConstant({ initValue: 8 }), [0, 3], [8.0, 8.0]);
  });

  it('linear interpolation', () => {
    // optax.piecewise_interpolate_schedule('linear', 1.0, {4: 0.1, 8: 0.01})
    expectValues(
      schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 1, boundariesAndScales: { 4: 0.1, 8: 0.01 } }),
      [0, 1, 2, 3.5, 4, 6, 7, 8, 10],
      [1.0, 0.775, 0.55, 0.21250004, 0.1, 0.0505, 0.025750004, 0.001, 0.001],
    );
  });

  it('cosine interpolation, keys out of order', () => {
    // optax.piecewise_interpolate_schedule('cosine', 400.0, {5: 1.2, 3: 0.6, 7: 1.0})
    expectValues(
      schedulePiecewiseInterpolate({ interpolateType: 'cosine', initValue: 400, boundariesAndScales: { 5: 1.2, 3: 0.6, 7: 1.0 } }),
      [0, 1, 2, 2.5, 3, 4, 5, 6, 7, 8],
      [400.0, 360.0, 280.0, 250.71799, 240.00002, 264.00003, 288.00003, 288.00003, 288.00003, 288.00003],
    );
  });

  it('cosine interpolation, a boundary at step 0', () => {
    // optax.piecewise_interpolate_schedule('cosine', 13.0, {0: 2.0, 5: 3.0})
    expectValues(
      schedulePiecewiseInterpolate({ interpolateType: 'cosine', initValue: 13, boundariesAndScales: { 0: 2, 5: 3 } }),
      [0, 1, 2, 4, 5, 6],
      [26.0, 30.96556, 43.96556, 73.03445, 78.0, 78.0],
    );
  });

  it('linear interpolation, a negative step', () => {
    // optax.piecewise_interpolate_schedule('linear', 8.0, {-2: 0.5, 4: 2.0})
    expectValues(
      schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 8, boundariesAndScales: { '-2': 0.5, 4: 2 } }),
      [0, 1, 2, 3, 4, 5],
      [5.3333335, 6.0, 6.666667, 7.333333, 8.0, 8.0],
    );
  });
});

describe('piecewise schedules: errors', () => {
  it('schedulePiecewiseConstant rejects a negative scale, as optax does', () => {
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: { 3: 0.5, 6: -0.5 } })).toThrow(
      'schedulePiecewiseConstant: `boundariesAndScales[6]` must be a finite number >= 0 (optax expects non-negative scale factors), got -0.5',
    );
  });

  it('rejects non-finite scales and initValue', () => {
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: { 3: Number.NaN } })).toThrow(
      /`boundariesAndScales\[3\]`.*NaN/,
    );
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: { 3: Number.POSITIVE_INFINITY } })).toThrow(/Infinity/);
    expect(() => schedulePiecewiseConstant({ initValue: Number.NaN })).toThrow(
      'schedulePiecewiseConstant: `initValue` must be a finite number, got NaN',
    );
    expect(() => schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: Number.POSITIVE_INFINITY })).toThrow(
      /`initValue`.*Infinity/,
    );
  });

  it('rejects keys that are not step numbers, and two keys for the same step', () => {
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: { abc: 0.5 } })).toThrow(
      "schedulePiecewiseConstant: the keys of `boundariesAndScales` must be finite step numbers, got 'abc'",
    );
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: { '': 0.5 } })).toThrow(/got ''/);
    expect(() =>
      schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 1, boundariesAndScales: { 10: 0.5, '1e1': 2 } }),
    ).toThrow("schedulePiecewiseInterpolate: the keys '10' and '1e1' of `boundariesAndScales` name the same step 10");
  });

  it('rejects a boundariesAndScales that is not a plain object', () => {
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: [0.5] as never })).toThrow(
      'schedulePiecewiseConstant: `boundariesAndScales` must be a plain object keyed by step, such as { 1000: 0.1 }, got an array of length 1',
    );
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundariesAndScales: new Map([[3, 0.5]]) as never })).toThrow(/plain object/);
    expect(() => schedulePiecewiseInterpolate({ interpolateType: 'cosine', initValue: 1, boundariesAndScales: 3 as never })).toThrow(
      /plain object.*got 3/,
    );
  });

  it('rejects unknown options and a negative count', () => {
    expect(() => schedulePiecewiseConstant({ initValue: 1, boundaries_and_scales: {} } as never)).toThrow(
      /unknown option `boundaries_and_scales`/,
    );
    expect(() => schedulePiecewiseInterpolate({ interpolate_type: 'linear', initValue: 1 } as never)).toThrow(
      /unknown option `interpolate_type`/,
    );
    expect(() => schedulePiecewiseConstant({ initValue: 1 })(-1)).toThrow(
      'schedulePiecewiseConstant: `count` must be a finite number >= 0, got -1',
    );
    expect(() => schedulePiecewiseInterpolate({ interpolateType: 'linear', initValue: 1 })(Number.NaN)).toThrow(
      'schedulePiecewiseInterpolate: `count` must be a finite number >= 0, got NaN',
    );
  });
});
