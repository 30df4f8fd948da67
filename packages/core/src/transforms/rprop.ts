/**
 * Rprop: `scaleByRprop` (optax `scale_by_rprop`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { checkNonNegative, checkPositive, type OptionDefaults, resolveOptions } from '../validate.js';

/** Options of {@link scaleByRprop}. */
export interface ScaleByRpropOptions {
  /** Factor applied to a step size when the gradient changes sign (default 0.5), > 0. */
  etaMinus?: number;
  /** Factor applied to a step size when the gradient keeps its sign (default 1.2), > 0. */
  etaPlus?: number;
  /** Smallest step size after a rescaling (default 1e-6), ≥ 0. */
  minStepSize?: number;
  /** Largest step size after a rescaling (default 50), ≥ `minStepSize`. */
  maxStepSize?: number;
}

/** The defaults of {@link scaleByRprop}'s options (`undefined`: no default). */
export const scaleByRpropDefaults: OptionDefaults<ScaleByRpropOptions> = Object.freeze({
  etaMinus: 0.5,
  etaPlus: 1.2,
  minStepSize: 1e-6,
  maxStepSize: 50,
});

/**
 * Resilient backpropagation: each element keeps its own step size, grown by
 * `etaPlus` while the gradient keeps its sign and shrunk by `etaMinus` when
 * it flips; the update is the step size times the sign of the gradient.
 *
 * $$
 * \Delta \leftarrow \operatorname{clip}\big(\Delta \cdot \eta_\pm, \Delta_{\min}, \Delta_{\max}\big), \qquad u = \begin{cases} 0 & g\, u_{\mathrm{prev}} < 0 \\ u_{\mathrm{prev}} & \text{otherwise} \end{cases}
 * $$
 *
 * With `prev` the stored previous update and `s = g · prev`:
 * ```
 * stepSizes = stepSizes                                                   where s = 0
 *           = clip(stepSizes · (s > 0 ? etaPlus : etaMinus), minStepSize, maxStepSize)   elsewhere
 * newPrev   = s < 0 ? 0 : stepSizes · sign(g)
 * u         = s < 0 ? 0 : prev
 * ```
 * As in optax 0.2.8, the update returned is the *previous* step's stored
 * update (`prev`, so the first update is 0), while `newPrev` is kept for the
 * next step. State `{ stepSizes, prevUpdates }`, with `stepSizes` starting at
 * `learningRate`. Defaults: `etaMinus = 0.5, etaPlus = 1.2, minStepSize = 1e-6,
 * maxStepSize = 50`. The sign of the result is not flipped: chain with
 * `scale(-1)` for descent, as optax's `rprop` does.
 * Reference: Riedmiller & Braun, "A Direct Adaptive Method for Faster
 * Backpropagation Learning: The RPROP Algorithm" (1993); optax `scale_by_rprop`.
 */
export function scaleByRprop(learningRate: number, options: ScaleByRpropOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByRprop';
  const o = resolveOptions(fn, options, scaleByRpropDefaults);
  const lr = checkNonNegative(fn, 'learningRate', learningRate);
  const etaMinus = checkPositive(fn, 'etaMinus', o.etaMinus);
  const etaPlus = checkPositive(fn, 'etaPlus', o.etaPlus);
  const minStepSize = checkNonNegative(fn, 'minStepSize', o.minStepSize);
  const maxStepSize = checkNonNegative(fn, 'maxStepSize', o.maxStepSize);
  if (maxStepSize < minStepSize) {
    throw new Error(`${fn}: \`maxStepSize\` must be >= minStepSize (${minStepSize}), got ${maxStepSize}`);
  }
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'stepSizes', init: lr },
      { name: 'prevUpdates', init: 0 },
    ],
    counted: false,
    needsParams: false,
    scalars: () => ({ etaMinus, etaPlus, minStepSize, maxStepSize }),
    body(m, { u, stepSizes, prevUpdates }, k) {
      const s = m.mul(u, prevUpdates);
      const zero = m.c(0);
      const factor = m.select(m.gt(s, zero), k.etaPlus, k.etaMinus);
      const rescaled = m.min(m.max(m.mul(stepSizes, factor), k.minStepSize), k.maxStepSize);
      const stepSizes1 = m.select(m.eq(s, zero), stepSizes, rescaled);
      const flipped = m.lt(s, zero);
      const prev1 = m.select(flipped, zero, m.mul(stepSizes1, m.sign(u)));
      return { u: m.select(flipped, zero, prevUpdates), stepSizes: stepSizes1, prevUpdates: prev1 };
    },
  });
}
