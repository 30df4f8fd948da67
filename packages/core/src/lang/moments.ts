/**
 * Shared pieces of per-element bodies: the exponential moving average of a
 * moment and its bias-corrected value, written once (optax's
 * `tree_update_moment`, `tree_update_moment_per_elem_norm` and
 * `tree_bias_correction`) for every transform that keeps moments.
 *
 * @module
 */
import type { Ops } from './spec.js';

/**
 * The moment update `(1 - decay) · uᵒʳᵈᵉʳ + decay · moment` (optax's
 * `update_moment` for order 1, `update_moment_per_elem_norm` for order 2,
 * where `uᵒʳᵈᵉʳ` is `u²`), with `oneMinusDecay` the per-step scalar `1 - decay`.
 */
export function updateMoment<V>(m: Ops<V>, u: V, moment: V, decay: V, oneMinusDecay: V, order: 1 | 2 = 1): V {
  return m.add(m.mul(oneMinusDecay, order === 2 ? m.square(u) : u), m.mul(decay, moment));
}

/** The per-step scalars {@link correctedFirstMoment} reads. */
export interface FirstMomentScalars<V> {
  /** The first moment's decay `b1` and `1 - b1`. */
  readonly b1: V;
  readonly omb1: V;
  /** The bias corrections `1 - b1^t` at this step and at the next one (Nesterov). */
  readonly bc1: V;
  readonly bc1Next: V;
}

/**
 * The bias-corrected first moment `mu1 / (1 - b1^t)` (optax's
 * `bias_correction`), or with `nesterov` the look-ahead
 * `b1 · mu1 / (1 - b1^(t+1)) + (1 - b1) · u / (1 - b1^t)` of NAdam.
 */
export function correctedFirstMoment<V>(
  m: Ops<V>,
  mu1: V,
  u: V,
  k: Readonly<Record<string, V>> | FirstMomentScalars<V>,
  nesterov: boolean,
): V {
  const s = k as FirstMomentScalars<V>;
  return nesterov ? m.add(m.mul(s.b1, m.div(mu1, s.bc1Next)), m.mul(s.omb1, m.div(u, s.bc1))) : m.div(mu1, s.bc1);
}

/**
 * Adam's update from the bias-corrected moments, `muHat / (sqrt(nuHat + epsRoot) + eps)`
 * (optax's `scale_by_adam`), shared by the variants that change how the moments are kept.
 */
export function adamUpdate<V>(m: Ops<V>, muHat: V, nuHat: V, eps: V, epsRoot: V): V {
  return m.div(muHat, m.add(m.sqrt(m.add(nuHat, epsRoot)), eps));
}

/**
 * One step of Adam's two moments and their bias-corrected values:
 * `mu1 = (1 - b1) u + b1 mu`, `nu1 = (1 - b2) u² + b2 nu`,
 * `muHat` as {@link correctedFirstMoment}, `nuHat = nu1 / (1 - b2^t)`
 * (optax's `scale_by_adam` before the update), from the scalars
 * `b1`, `omb1`, `b2`, `omb2`, `bc1`, `bc1Next`, `bc2`.
 */
export function adamMoments<V>(
  m: Ops<V>,
  u: V,
  mu: V,
  nu: V,
  k: Readonly<Record<string, V>>,
  nesterov: boolean,
): { mu1: V; nu1: V; muHat: V; nuHat: V } {
  const mu1 = updateMoment(m, u, mu, k.b1 as V, k.omb1 as V);
  const nu1 = updateMoment(m, u, nu, k.b2 as V, k.omb2 as V, 2);
  return { mu1, nu1, muHat: correctedFirstMoment(m, mu1, u, k, nesterov), nuHat: m.div(nu1, k.bc2 as V) };
}
