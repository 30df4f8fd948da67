/**
 * What Adam and its variants (AMSGrad, Adamax, RAdam, AdaBelief, Yogi,
 * NovoGrad) share before their bodies differ: the hyperparameters `b1`, `b2`,
 * `eps`, `epsRoot` checked once, the two moment slots, and the per-step
 * scalars with the bias corrections `1 - b^t`.
 *
 * @module
 */

import { biasCorrection, f32 } from '../lang/spec.js';
import type { SlotStorage } from '../lang/storage/slot-storage.js';
import { checkDecay, checkNonNegative, resolveOptions } from '../validate.js';
import { type MomentStorageOptions, momentStorages } from './state-dtype.js';

/** The hyperparameters shared by Adam's family, checked. */
export interface AdamHyperparams {
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly epsRoot: number;
}

/** Checks `b1`, `b2` (in [0, 1)), `eps` and `epsRoot` (≥ 0), in that order, naming `fn` and the option. */
export function checkAdamHyperparams(fn: string, o: { b1: number; b2: number; eps: number; epsRoot: number }): AdamHyperparams {
  return {
    b1: checkDecay(fn, 'b1', o.b1),
    b2: checkDecay(fn, 'b2', o.b2),
    eps: checkNonNegative(fn, 'eps', o.eps),
    epsRoot: checkNonNegative(fn, 'epsRoot', o.epsRoot),
  };
}

/**
 * The options of an Adam-style factory under the one option policy, and the
 * shared ones checked: the moment storage, then `b1`, `b2`, `eps`, `epsRoot`.
 */
export function resolveAdamOptions<D extends Readonly<Required<MomentStorageOptions>> & AdamHyperparams>(
  fn: string,
  options: unknown,
  defaults: D,
) {
  const o = resolveOptions(fn, options, defaults);
  return { o, storage: momentStorages(fn, o), hyperparams: checkAdamHyperparams(fn, o) };
}

/** The first and second moment slots `mu` and `nu`, starting at zero, stored as `storage` says. */
export function momentSlots(storage: { mu: SlotStorage; nu: SlotStorage }) {
  return [
    { name: 'mu', init: 0, storage: storage.mu },
    { name: 'nu', init: 0, storage: storage.nu },
  ] as const;
}

/**
 * The per-step scalars of an Adam-style body at step `t`: the decays and
 * `1 - b` (`omb1`, `omb2`), the bias corrections `1 - b1^t`, `1 - b1^tNext`
 * (Nesterov's look-ahead) and `1 - b2^t`, and the two epsilons.
 */
export function adamScalars({ b1, b2, eps, epsRoot }: AdamHyperparams, t: number, tNext: number) {
  return {
    b1,
    b2,
    omb1: f32(1 - b1),
    omb2: f32(1 - b2),
    bc1: biasCorrection(b1, t),
    bc1Next: biasCorrection(b1, tNext),
    bc2: biasCorrection(b2, t),
    eps,
    epsRoot,
  };
}
