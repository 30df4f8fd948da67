/**
 * What the Adam-like contrib methods (AdEMAMix, simplified AdEMAMix, AdaCProp)
 * share: the checks of their two decays and two epsilons, the per-step
 * scalars made from them, and the root denominator
 * `sqrt(nu / bc2 + epsRoot) + eps`.
 *
 * @module
 */
import { checkDecay, checkNonNegative, f32, type Ops } from './core-api.js';

/** Two moment decays and the two epsilons around the square root. */
export interface MomentHyperparams {
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly epsRoot: number;
}

/** Checks `b1`, `b2` (decays in [0, 1)) and `eps`, `epsRoot` (≥ 0) of `fn`'s resolved options. */
export function checkMomentHyperparams(fn: string, o: MomentHyperparams): MomentHyperparams {
  return {
    b1: checkDecay(fn, 'b1', o.b1),
    b2: checkDecay(fn, 'b2', o.b2),
    eps: checkNonNegative(fn, 'eps', o.eps),
    epsRoot: checkNonNegative(fn, 'epsRoot', o.epsRoot),
  };
}

/** The per-step scalars of the hyperparameters: `b1`, `omb1 = 1 - b1`, `b2`, `omb2 = 1 - b2`, `eps`, `epsRoot`. */
export function momentScalars(h: MomentHyperparams): Record<string, number> {
  return { b1: h.b1, omb1: f32(1 - h.b1), b2: h.b2, omb2: f32(1 - h.b2), eps: h.eps, epsRoot: h.epsRoot };
}

/** `sqrt(nu / k.bc2 + k.epsRoot) + k.eps`, the denominator of the bias-corrected second moment. */
export function rootDenominator<V>(m: Ops<V>, nu: V, k: Readonly<Record<string, V>>): V {
  return m.add(m.sqrt(m.add(m.div(nu, k.bc2 as V), k.epsRoot as V)), k.eps as V);
}
