import { describe, expect, it, vi } from 'vitest';
import type { Schedule } from './base.js';
import { scheduleConstant } from './constant.js';
import { scheduleCosineDecay } from './cosine.js';
import { scheduleJoin } from './join.js';
import { scheduleLinear } from './linear.js';
import { expectValues, range } from './test-utils/index.js';

describe('scheduleJoin', () => {
  it('optax JoinTest.test_join_schedules', () => {
    const s = scheduleJoin([scheduleConstant(1), scheduleConstant(2), scheduleConstant(1)], [3, 6]);
    expectValues(s, range(7), [1, 1, 1, 2, 2, 2, 1], { rtol: 0 });
  });

  it('matches optax 0.2.8: linear warmup, cosine decay, constant', () => {
    // Printed by optax 0.2.8 (jax 0.10.2, CPU), evaluated eagerly and printed as float32:
    //   s = optax.join_schedules([optax.linear_schedule(0.0, 1.0, 10),
    //         optax.cosine_decay_schedule(1.0, 20, alpha=0.1), optax.constant_schedule(0.05)], [10, 30])
    //   [str(np.float32(s(c))) for c in [0, 5, 9, 10, 11, 20, 29, 30, 31, 100]]
    // Tolerance: rtol 1e-6 (float32 rounding).
    const s = scheduleJoin(
      [
        scheduleLinear({ initValue: 0, endValue: 1, transitionSteps: 10 }),
        scheduleCosineDecay({ initValue: 1, decaySteps: 20, alpha: 0.1 }),
        scheduleConstant(0.05),
      ],
      [10, 30],
    );
    expectValues(s, [0, 5, 9, 10, 11, 20, 29, 30, 31, 100], [0.0, 0.5, 0.9, 1.0, 0.99445975, 0.54999995, 0.10554024, 0.05, 0.05, 0.05]);
  });

  it('matches optax 0.2.8 for unsorted and negative boundaries', () => {
    // optax.join_schedules([optax.constant_schedule(1.0), optax.constant_schedule(2.0), optax.constant_schedule(3.0)], [6, 3])
    //   at counts 0..8 (the last boundary reached, in list order, wins)
    const s = scheduleJoin([scheduleConstant(1), scheduleConstant(2), scheduleConstant(3)], [6, 3]);
    expectValues(s, range(9), [1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]);
    // optax.join_schedules([optax.constant_schedule(1.0), optax.linear_schedule(0.0, 1.0, 4)], [-2]) at counts 0..3
    const t = scheduleJoin([scheduleConstant(1), scheduleLinear({ initValue: 0, endValue: 1, transitionSteps: 4 })], [-2]);
    expectValues(t, range(4), [0.5, 0.75, 1.0, 1.0]);
  });

  it('calls only the schedule in effect, with the count since its boundary', () => {
    const a = vi.fn<Schedule>((c) => c);
    const b = vi.fn<Schedule>((c) => 100 + c);
    const s = scheduleJoin([a, b], [5]);
    expect(s(4)).toBe(4);
    expect(b).not.toHaveBeenCalled();
    expect(s(5)).toBe(100);
    expect(s(7.5)).toBe(102.5);
    expect(b.mock.calls.map((c) => c[0])).toEqual([0, 2.5]);
    expect(a.mock.calls.map((c) => c[0])).toEqual([4]);
  });

  it('with one schedule and no boundaries is that schedule', () => {
    const s = scheduleJoin([scheduleLinear({ initValue: 2, endValue: 0, transitionSteps: 4 })], []);
    expectValues(s, [0, 1, 4, 9], [2, 1.5, 0, 0], { rtol: 0 });
  });

  it('rejects empty or non-function schedules', () => {
    expect(() => scheduleJoin([], [])).toThrow(
      'scheduleJoin: `schedules` must be a non-empty array of schedules, got an array of length 0',
    );
    expect(() => scheduleJoin(undefined as never, [])).toThrow(/`schedules`.*got undefined/);
    expect(() => scheduleJoin([scheduleConstant(1), 0.5 as never], [3])).toThrow(
      'scheduleJoin: `schedules[1]` must be a schedule (count) => number, got 0.5',
    );
  });

  it('rejects boundaries of the wrong length or non-finite boundaries', () => {
    const two = [scheduleConstant(1), scheduleConstant(2)];
    expect(() => scheduleJoin(two, [])).toThrow(
      'scheduleJoin: `boundaries` must be an array of 1 step(s), one fewer than `schedules`, got an array of length 0',
    );
    expect(() => scheduleJoin(two, [1, 2])).toThrow(/`boundaries` must be an array of 1 step\(s\)/);
    expect(() => scheduleJoin(two, 3 as never)).toThrow(/`boundaries`.*got 3/);
    expect(() => scheduleJoin(two, [Number.NaN])).toThrow('scheduleJoin: `boundaries[0]` must be a finite number, got NaN');
  });

  it('rejects a negative count', () => {
    expect(() => scheduleJoin([scheduleConstant(1)], [])(-3)).toThrow('scheduleJoin: `count` must be a finite number >= 0, got -3');
  });
});
