/**
 * Element-wise transforms written only for the fused-engine tests: between
 * them they use every operation of the per-element language, so each code
 * generator is checked op by op against the reference path, including on
 * NaN, ±Infinity, ±0 and subnormal inputs.
 */
import type { GradientTransformation } from '../base.js';
import { elementwise } from '../elementwise.js';

/** Arithmetic, min/max, abs/neg/sqrt/square, with a slot and two scalars. */
export function arithSpec(): GradientTransformation {
  return elementwise({
    name: 'arithTest',
    key: 'arithTest',
    slots: [{ name: 'acc', init: 0.5 }],
    counted: true,
    needsParams: true,
    scalars: (count) => ({ a: 0.3 + count, b: -1.7 }),
    body(m, { u, p, acc }, k) {
      const s = m.sub(m.mul(k.a, u), m.div(acc, m.add(m.abs(p), m.c(0.25))));
      const q = m.max(m.min(s, m.square(u)), m.neg(m.sqrt(m.abs(acc))));
      return { u: m.add(q, m.mul(k.b, m.c(0.1))), acc: m.add(acc, m.square(s)) };
    },
  });
}

/** Comparisons, masks (and/or/not), select, sign, isNaN, isFinite and masks used as numbers. */
export function maskSpec(): GradientTransformation {
  return elementwise({
    name: 'maskTest',
    key: 'maskTest',
    slots: [],
    counted: false,
    needsParams: true,
    scalars: () => ({ t: 0.2 }),
    body(m, { u, p }, k) {
      const big = m.gt(m.abs(u), k.t);
      const keep = m.or(m.and(big, m.not(m.isNaN(u))), m.le(p, m.c(0)));
      const picked = m.select(keep, m.sign(u), m.mul(u, m.c(3)));
      const flags = m.add(
        m.select(m.isFinite(u), m.c(1), m.c(-1)),
        m.add(m.select(m.eq(u, p), m.c(10), m.c(0)), m.select(m.ge(u, m.c(0)), m.c(0.5), m.c(0))),
      );
      return { u: m.add(picked, m.add(flags, m.select(m.lt(u, p), m.c(0.25), m.c(0)))) };
    },
  });
}

/** `exp` and `log` (no SIMD instruction: the JS kernel runs these). */
export function expLogSpec(): GradientTransformation {
  return elementwise({
    name: 'expLogTest',
    key: 'expLogTest',
    slots: [{ name: 'm', init: 0 }],
    counted: false,
    needsParams: false,
    scalars: () => ({ d: 0.9 }),
    body(m, { u, m: s }, k) {
      const s1 = m.add(m.mul(k.d, s), m.log(m.add(m.abs(u), m.c(1))));
      return { u: m.sub(m.exp(m.neg(m.abs(s1))), m.c(0.5)), m: s1 };
    },
  });
}

/** Per-leaf and global reductions of both `u` and `p`, of every kind, one of them kept in the state. */
export function reduceSpec(): GradientTransformation {
  return elementwise({
    name: 'reduceTest',
    key: 'reduceTest',
    slots: [],
    counted: false,
    needsParams: true,
    reductions: [
      { name: 'gl2', of: 'u', op: 'l2', scope: 'global' },
      { name: 'lsum', of: 'u', op: 'sum', scope: 'leaf' },
      { name: 'pmax', of: 'p', op: 'maxAbs', scope: 'leaf' },
      { name: 'psq', of: 'p', op: 'sumSq', scope: 'global' },
      { name: 'gmax', of: 'u', op: 'maxAbs', scope: 'global' },
    ],
    reductionsInState: ['gl2'],
    scalars: () => ({ e: 1e-3 }),
    body(m, { u }, k) {
      const d = m.add(m.add(k.gl2, k.pmax), k.e);
      return { u: m.add(m.div(u, d), m.mul(m.c(1e-3), m.add(m.add(k.lsum, k.psq), k.gmax))) };
    },
  });
}
