/**
 * COCOB-Backprop: `scaleByCocob` and `cocob` (optax `contrib.scale_by_cocob`,
 * `contrib.cocob`).
 *
 * @module
 */

import type { WeightDecayOptions } from './alias.js';
import {
  addDecayedWeights,
  chain,
  checkNonNegative,
  checkPositive,
  checkScalarOrSchedule,
  type ElementwiseState,
  elementwise,
  f32,
  type GradientTransformation,
  resolveOptions,
  type ScalarOrSchedule,
  scaleByLearningRate,
} from './core-api.js';

/** Options of {@link scaleByCocob}. */
export interface ScaleByCocobOptions {
  /** Bounds the bet in the first steps, `max(G + L, alpha L)` (default 100), > 0. */
  alpha?: number;
  /** The initial estimate of the gradients' scale `L` (default 1e-8), ≥ 0. */
  eps?: number;
}

const DEFAULTS: Required<ScaleByCocobOptions> = { alpha: 100, eps: 1e-8 };

/**
 * Rescales updates by COCOB-Backprop (continuous coin betting): a
 * learning-rate-free method that bets a fraction of its accumulated reward
 * on the direction of the summed negative gradients. It returns the whole
 * step: `u = x - p`.
 *
 * $$
 * x = x_0 + \frac{C\, (L + R)}{L \max(G + L, \alpha L)}, \qquad u = x - p
 * $$
 *
 * Per element, with `x0` the params at `init`:
 * ```
 * L = max(L, |g|)          G = G + |g|          R = max(R - g (p - x0), 0)          C = C - g
 * x = x0 + C / (L max(G + L, alpha L)) (L + R)
 * u = -p + x
 * ```
 *
 * State `{ initParticles, cumulativeGradients, scale, subgradients, reward }`
 * (`x0, C, L, G, R`; `L` starts at `eps`). Defaults: `alpha = 100,
 * eps = 1e-8`. Needs `params`. Element-wise: fuses on every backend.
 * Reference: Orabona & Tommasi, "Training Deep Networks without Learning
 * Rates Through Coin Betting" (NeurIPS 2017); optax `contrib.scale_by_cocob`.
 */
export function scaleByCocob(options?: ScaleByCocobOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByCocob';
  const o = resolveOptions(fn, options, DEFAULTS);
  const alpha = checkPositive(fn, 'alpha', o.alpha);
  const eps = f32(checkNonNegative(fn, 'eps', o.eps));
  return elementwise({
    name: fn,
    key: fn,
    slots: [
      { name: 'initParticles', init: 'params' },
      { name: 'cumulativeGradients', init: 0 },
      { name: 'scale', init: eps },
      { name: 'subgradients', init: 0 },
      { name: 'reward', init: 0 },
    ],
    counted: false,
    needsParams: true,
    scalars: () => ({ alpha }),
    body(m, { u, p, initParticles: x0, cumulativeGradients, scale, subgradients, reward }, k) {
      const L = m.max(scale, m.abs(u));
      const G = m.add(subgradients, m.abs(u));
      const R = m.max(m.sub(reward, m.mul(u, m.sub(p, x0))), m.c(0));
      const C = m.sub(cumulativeGradients, u);
      const bet = m.mul(m.div(C, m.mul(L, m.max(m.add(G, L), m.mul(k.alpha, L)))), m.add(L, R));
      return { u: m.add(m.neg(p), m.add(x0, bet)), cumulativeGradients: C, scale: L, subgradients: G, reward: R };
    },
  });
}

/** Options of {@link cocob}: those of {@link scaleByCocob} and weight decay. */
export type CocobOptions = ScaleByCocobOptions & WeightDecayOptions;

const ALIAS_DEFAULTS: CocobOptions = { ...DEFAULTS, weightDecay: 0, mask: null };

/**
 * COCOB as an optimizer: `chain(addDecayedWeights(weightDecay, { mask }),
 * scaleByLearningRate(learningRate, { flipSign: false }), scaleByCocob({ alpha, eps }))`:
 * the (usually 1) learning rate scales the gradients COCOB sees. Defaults:
 * `learningRate = 1, alpha = 100, eps = 1e-8, weightDecay = 0`. Fuses.
 * Reference: Orabona & Tommasi (2017); optax `contrib.cocob`.
 *
 * $$
 * \tilde g = \mathrm{lr}\, (g + \lambda p), \qquad u = x_0 + \frac{C\, (L + R)}{L \max(G + L, \alpha L)} - p \quad \text{(COCOB on } \tilde g\text{)}
 * $$
 */
export function cocob(learningRate: ScalarOrSchedule = 1, options?: CocobOptions): GradientTransformation {
  const fn = 'cocob';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const { weightDecay, mask, ...rest } = resolveOptions(fn, options, ALIAS_DEFAULTS);
  return chain(
    addDecayedWeights(weightDecay ?? 0, { mask: mask ?? undefined }),
    scaleByLearningRate(learningRate, { flipSign: false }),
    scaleByCocob(rest),
  );
}
