/**
 * Gradient accumulation: `applyEvery` (optax `apply_every`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { checkInteger } from '../validate.js';

/**
 * Accumulates the gradients over `k` steps and emits their sum on every
 * `k`-th step, zeros on the others. With `c = count mod k`:
 * $$
 * a \leftarrow [c \ne 0]\, a + g, \qquad u = [c = k - 1]\, a, \qquad c = \mathrm{count} \bmod k
 * $$
 * (the selections are multiplications by 0 or 1, as in optax, so a
 * non-finite value in a discarded accumulator propagates as NaN exactly as
 * there). State `{ count, gradAcc }`; `count` counts every step (optax keeps
 * `count mod k`; the updates are the same). `k` an integer ≥ 1 (default 1).
 * Fuses: yes (element-wise). Reference: optax `apply_every` (superseded
 * there by `MultiSteps`, gradtx's {@link multiSteps}).
 */
export function applyEvery(k = 1): GradientTransformation<ElementwiseState> {
  const fn = 'applyEvery';
  checkInteger(fn, 'k', k, 1);
  return elementwise({
    name: fn,
    key: fn,
    slots: [{ name: 'gradAcc', init: 0 }],
    counted: true,
    needsParams: false,
    scalars: (count) => ({ keep: count % k !== 0 ? 1 : 0, emit: count % k === k - 1 ? 1 : 0 }),
    body(m, { u, gradAcc }, s) {
      const acc = m.add(m.mul(s.keep, gradAcc), u);
      return { u: m.mul(s.emit, acc), gradAcc: acc };
    },
  });
}
