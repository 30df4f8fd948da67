/**
 * Adadelta: `scaleByAdadelta` (optax `scale_by_adadelta`).
 *
 * @module
 */

import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { updateMoment } from '../lang/moments.js';
import { f32 } from '../lang/spec.js';
import { checkDecay, checkNonNegative, type OptionDefaults, resolveOptions } from '../validate.js';

/** Options of {@link scaleByAdadelta}. */
export interface ScaleByAdadeltaOptions {
  /** Decay of the running averages of squared gradients and squared updates (default 0.9), in [0, 1). */
  rho?: number;
  /** Added inside both square roots for numerical stability (default 1e-6), ≥ 0. */
  eps?: number;
}

/** The defaults of {@link scaleByAdadelta}'s options (`undefined`: no default). */
export const scaleByAdadeltaDefaults: OptionDefaults<ScaleByAdadeltaOptions> = Object.freeze({ rho: 0.9, eps: 1e-6 });

/**
 * Rescales updates by the ratio of the RMS of past updates to the RMS of
 * past gradients (Adadelta):
 * $$
 * \begin{aligned}
 * E[g^2] &\leftarrow (1 - \rho)\, g^2 + \rho\, E[g^2], \\
 * u &= \frac{\sqrt{E[\Delta x^2] + \epsilon}}{\sqrt{E[g^2] + \epsilon}}\, g \quad (E[\Delta x^2] \text{ from the previous step}), \\
 * E[\Delta x^2] &\leftarrow (1 - \rho)\, u^2 + \rho\, E[\Delta x^2].
 * \end{aligned}
 * $$
 * State `{ eG, eX }`. Defaults: `rho = 0.9, eps = 1e-6`.
 * Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012);
 * optax `scale_by_adadelta`.
 */
export function scaleByAdadelta(options: ScaleByAdadeltaOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByAdadelta';
  const o = resolveOptions(fn, options, scaleByAdadeltaDefaults);
  const rho = checkDecay(fn, 'rho', o.rho);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'eG', init: 0 },
      { name: 'eX', init: 0 },
    ],
    counted: false,
    needsParams: false,
    scalars: () => ({ rho, omr: f32(1 - rho), eps }),
    body(m, { u, eG, eX }, k) {
      const eG1 = updateMoment(m, u, eG, k.rho, k.omr, 2);
      const out = m.mul(m.div(m.sqrt(m.add(eX, k.eps)), m.sqrt(m.add(eG1, k.eps))), u);
      const eX1 = updateMoment(m, out, eX, k.rho, k.omr, 2);
      return { u: out, eG: eG1, eX: eX1 };
    },
  });
}
