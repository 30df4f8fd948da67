/**
 * Weight decay: `addDecayedWeights` (optax `add_decayed_weights`).
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import { type Mask, type MaskedState, masked } from '../combinators/masked.js';
import { elementwise } from '../elementwise.js';
import { checkFinite, checkScheduleValue, type OptionDefaults, resolveOptions } from '../validate.js';

/**
 * The state of {@link addDecayedWeights}: `{ count }` with a schedule, `{}`
 * with a constant, inside a {@link MaskedState} when a mask is given.
 */
export type AddDecayedWeightsState = { count?: number } | MaskedState<{ count?: number }>;

/** Options of {@link addDecayedWeights}. */
export interface AddDecayedWeightsOptions {
  /**
   * Which params get weight decay: a tree of booleans with the params'
   * structure (or a prefix of it), or a function from the params to one;
   * `true` marks the leaves to decay. Default: every leaf. With a mask the
   * transformation is wrapped in {@link masked}, so its state is
   * `{ innerState }`.
   */
  mask?: Mask | null;
}

/** The defaults of {@link addDecayedWeights}'s options (`undefined`: no default). */
export const addDecayedWeightsDefaults: OptionDefaults<AddDecayedWeightsOptions, 'mask'> = Object.freeze({ mask: undefined });

/**
 * Adds the params scaled by a weight-decay rate to the updates (decoupled
 * weight decay, as in AdamW):
 * $$
 * u = g + \lambda\, p, \qquad \lambda = \mathrm{weightDecay}
 * $$
 * `weightDecay` is a finite number (default 0) or a schedule
 * `(count) => number`. A constant gives a stateless transformation (`{}`); a schedule
 * gives state `{ count }`, and step `count` (0 at the first update) uses
 * `weightDecay(count)`, as optax does. A constant 0 passes the updates
 * through unchanged. Needs `params`.
 * Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization"
 * (2019); optax `add_decayed_weights`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(scaleByAdam(), addDecayedWeights(1e-2), scaleByLearningRate(1e-3)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function addDecayedWeights(
  weightDecay: ScalarOrSchedule = 0,
  options: AddDecayedWeightsOptions = {},
): GradientTransformation<AddDecayedWeightsState> {
  const fn = 'addDecayedWeights';
  const o = resolveOptions(fn, options, addDecayedWeightsDefaults);
  const scheduled = typeof weightDecay === 'function';
  if (!scheduled) checkFinite(fn, 'weightDecay', weightDecay);
  const zero = weightDecay === 0;
  const inner = elementwise({
    name: fn,
    key: zero ? `${fn}/zero` : fn,
    slots: [],
    counted: scheduled,
    needsParams: true,
    scalars: (count) => ({
      weightDecay: scheduled ? checkScheduleValue(fn, 'weightDecay', weightDecay(count), count) : weightDecay,
    }),
    body: (m, { u, p }, k) => ({ u: zero ? u : m.add(u, m.mul(k.weightDecay, p)) }),
  });
  const mask = o.mask;
  if (mask === undefined || mask === null) return inner;
  return masked(inner, mask);
}
