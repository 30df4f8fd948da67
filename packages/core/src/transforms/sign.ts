/**
 * Sign of the updates: `scaleBySign` (optax `scale_by_sign`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';

/**
 * Replaces each update element by its sign: `u = sign(g)`, which is -1, 0 or
 * 1 (NaN stays NaN). Stateless (`{}`). Used by signSGD.
 * Reference: Bernstein et al., "signSGD: Compressed Optimisation for
 * Non-Convex Problems" (2018); optax `scale_by_sign`.
 *
 * $$
 * u = \operatorname{sign}(g)
 * $$
 */
export function scaleBySign(): GradientTransformation<ElementwiseState> {
  return elementwise({
    name: 'scaleBySign',
    key: 'scaleBySign',
    slots: [],
    counted: false,
    needsParams: false,
    scalars: () => ({}),
    body: (m, { u }) => ({ u: m.sign(u) }),
  });
}
