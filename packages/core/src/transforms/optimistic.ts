/**
 * Optimistic gradients: `scaleByOptimisticGradient` (optax
 * `scale_by_optimistic_gradient`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { checkFinite, type OptionDefaults, resolveOptions } from '../validate.js';

/** Options of {@link scaleByOptimisticGradient}. */
export interface ScaleByOptimisticGradientOptions {
  /** Coefficient of the generalized optimistic step (default 1), a finite number. */
  alpha?: number;
  /** Coefficient of the negative momentum on the previous gradient (default 1), a finite number. */
  beta?: number;
}

/** The defaults of {@link scaleByOptimisticGradient}'s options (`undefined`: no default). */
export const scaleByOptimisticGradientDefaults: OptionDefaults<ScaleByOptimisticGradientOptions> = Object.freeze({ alpha: 1, beta: 1 });

/**
 * Extrapolates from the previous gradient (optimistic / negative-momentum
 * gradient descent, for min-max games):
 * $$
 * u = (\alpha + \beta)\, g_t - \beta\, g_{t-1}
 * $$
 * At the first update there is no previous gradient and `g_{t-1} = g_t`, so
 * `u = alpha · g` (optax issue #1082). State `{ count, previousGradient }`:
 * optax keeps an `is_initial_step` flag, which here is `count === 0`.
 * Defaults `alpha = 1, beta = 1`.
 * Reference: Mokhtari et al., "A Unified Analysis of Extra-gradient and
 * Optimistic Gradient Methods for Saddle Point Problems" (2020); optax
 * `scale_by_optimistic_gradient`.
 */
export function scaleByOptimisticGradient(options: ScaleByOptimisticGradientOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByOptimisticGradient';
  const o = resolveOptions(fn, options, scaleByOptimisticGradientDefaults);
  const alpha = checkFinite(fn, 'alpha', o.alpha);
  const beta = checkFinite(fn, 'beta', o.beta);
  return elementwise({
    name: fn,
    key: fn,
    slots: [{ name: 'previousGradient', init: 0 }],
    counted: true,
    needsParams: false,
    scalars: (count) => ({ alphaPlusBeta: alpha + beta, beta, first: count === 0 ? 1 : 0 }),
    body(m, { u, previousGradient }, k) {
      const prev = m.select(m.gt(k.first, m.c(0)), u, previousGradient);
      return { u: m.sub(m.mul(k.alphaPlusBeta, u), m.mul(k.beta, prev)), previousGradient: u };
    },
  });
}
