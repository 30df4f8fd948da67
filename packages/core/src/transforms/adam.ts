/**
 * Adam: `scaleByAdam` (optax `scale_by_adam`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { biasCorrection, f32 } from '../fused/spec.js';
import { checkBoolean, checkDecay, checkNonNegative } from '../validate.js';

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.999), in [0, 1). */
  b2?: number;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: number;
  /** Added to the second moment inside the square root (default 0). */
  epsRoot?: number;
  /** Use Nesterov momentum, as in NAdam (Dozat 2016) (default false). */
  nesterov?: boolean;
}

/**
 * Rescales updates by Adam's bias-corrected moment estimates.
 *
 * With `t = count + 1`:
 * ```
 * mu = (1 - b1) g + b1 mu          nu = (1 - b2) g² + b2 nu
 * mû = mu / (1 - b1^t)              nû = nu / (1 - b2^t)
 * u  = mû / (sqrt(nû + epsRoot) + eps)
 * ```
 * With `nesterov`, `mû = b1 mu / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t)`.
 *
 * State `{ count, mu, nu }`. Defaults: `b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0`.
 * Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015);
 * optax `scale_by_adam`.
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByAdam';
  const b1 = checkDecay(fn, 'b1', options.b1 ?? 0.9);
  const b2 = checkDecay(fn, 'b2', options.b2 ?? 0.999);
  const eps = checkNonNegative(fn, 'eps', options.eps ?? 1e-8);
  const epsRoot = checkNonNegative(fn, 'epsRoot', options.epsRoot ?? 0);
  const nesterov = checkBoolean(fn, 'nesterov', options.nesterov ?? false);
  return elementwise({
    name: fn,
    key: nesterov ? 'scaleByAdam/nesterov' : 'scaleByAdam',
    slots: [
      { name: 'mu', init: 0 },
      { name: 'nu', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => ({
      b1,
      b2,
      omb1: f32(1 - b1),
      omb2: f32(1 - b2),
      bc1: biasCorrection(b1, count + 1),
      bc1Next: biasCorrection(b1, count + 2),
      bc2: biasCorrection(b2, count + 1),
      eps,
      epsRoot,
    }),
    body(m, { u, mu, nu }, k) {
      const mu1 = m.add(m.mul(k.omb1, u), m.mul(k.b1, mu));
      const nu1 = m.add(m.mul(k.omb2, m.square(u)), m.mul(k.b2, nu));
      const muHat = nesterov
        ? m.add(m.mul(k.b1, m.div(mu1, k.bc1Next)), m.mul(k.omb1, m.div(u, k.bc1)))
        : m.div(mu1, k.bc1);
      const nuHat = m.div(nu1, k.bc2);
      return { u: m.div(muHat, m.add(m.sqrt(m.add(nuHat, k.epsRoot)), k.eps)), mu: mu1, nu: nu1 };
    },
  });
}
