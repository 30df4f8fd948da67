/**
 * ADOPT: `scaleByAdopt` and `adopt` (optax `contrib.scale_by_adopt`,
 * `contrib.adopt`).
 *
 * @module
 */
import {
  chain,
  checkBoolean,
  checkDecay,
  checkNonNegative,
  checkScalarOrSchedule,
  checkScheduleValue,
  type ElementwiseState,
  elementwise,
  f32,
  type GradientTransformation,
  resolveOptions,
  type ScalarOrSchedule,
  scaleByLearningRate,
} from './core-api.js';

/** Options of {@link scaleByAdopt} and {@link adopt}. */
export interface ScaleByAdoptOptions {
  /** Decay of the first moment (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the second moment (default 0.9999), in [0, 1). */
  b2?: number;
  /** Lower bound of `sqrt(nu)` in the denominator (default 1e-6), ≥ 0. */
  eps?: number;
  /** Apply the first-moment update once more, as Nesterov momentum (default false). */
  nesterov?: boolean;
  /** Clip the normalised gradient to `±clipValueFn(count)` (default true). */
  useClipping?: boolean;
  /** The clipping bound as a function of the step count (default `count ** 0.25`). */
  clipValueFn?: (count: number) => number;
}

const DEFAULTS: Required<ScaleByAdoptOptions> = {
  b1: 0.9,
  b2: 0.9999,
  eps: 1e-6,
  nesterov: false,
  useClipping: true,
  clipValueFn: (count) => count ** 0.25,
};

/**
 * Rescales updates by ADOPT: the gradient is normalised by the second moment
 * of the *previous* steps (so it is independent of the current gradient), then
 * averaged into the first moment; the second moment is updated afterwards.
 *
 * $$
 * v = \frac{g}{\max(\sqrt{\nu}, \epsilon)}, \qquad \mu \leftarrow (1 - b_1)\, v + b_1 \mu, \qquad u = \mu, \qquad \nu \leftarrow (1 - b_2)\, g^2 + b_2 \nu
 * $$
 *
 * With `c = count` (0 at the first update):
 * ```
 * b1' = c > 0 ? b1 : 1          b2' = c > 0 ? b2 : 0
 * v   = clip(g / max(sqrt(nu), eps), -clipValueFn(c), clipValueFn(c))   (no clip without useClipping)
 * mu  = (1 - b1') v + b1' mu     nu = (1 - b2') g² + b2' nu   (nu after v)
 * u   = mu                        (nesterov: (1 - b1') v + b1' mu, with the new mu)
 * ```
 * The first update is 0 (it only initialises `nu = g²`). No bias correction.
 *
 * State `{ count, mu, nu }`. Defaults: `b1 = 0.9, b2 = 0.9999, eps = 1e-6,
 * nesterov = false, useClipping = true, clipValueFn = c => c ** 0.25`.
 * Element-wise: fuses on every backend. Reference: Taniguchi et al., "ADOPT:
 * Modified Adam Can Converge with Any β2 with the Optimal Rate" (NeurIPS
 * 2024); optax `contrib.scale_by_adopt` (`mu_dtype` is not offered: state is
 * float32).
 */
export function scaleByAdopt(options?: ScaleByAdoptOptions): GradientTransformation<ElementwiseState> {
  const fn = 'scaleByAdopt';
  const o = resolveOptions(fn, options, DEFAULTS);
  const b1 = checkDecay(fn, 'b1', o.b1);
  const b2 = checkDecay(fn, 'b2', o.b2);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const nesterov = checkBoolean(fn, 'nesterov', o.nesterov);
  const useClipping = checkBoolean(fn, 'useClipping', o.useClipping);
  if (typeof o.clipValueFn !== 'function') {
    throw new Error(`${fn}: \`clipValueFn\` must be a function of the step count, got ${String(o.clipValueFn)}`);
  }
  const clipValueFn = o.clipValueFn;
  return elementwise({
    name: fn,
    key: `${fn}/${nesterov ? 'nesterov' : 'plain'}/${useClipping ? 'clip' : 'noclip'}`,
    slots: [
      { name: 'mu', init: 0 },
      { name: 'nu', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: (count) => {
      // optax selects the decays with jnp.where (float32), then forms 1 - decay in float32
      const d1 = f32(count > 0 ? b1 : 1);
      const d2 = f32(count > 0 ? b2 : 0);
      const clip = useClipping ? f32(checkScheduleValue(fn, 'clipValueFn', clipValueFn(count), count)) : 0;
      return { b1: d1, omb1: f32(1 - d1), b2: d2, omb2: f32(1 - d2), eps, clip, negClip: -clip };
    },
    body(m, { u, mu, nu }, k) {
      let v = m.div(u, m.max(m.sqrt(nu), k.eps));
      if (useClipping) v = m.min(m.max(v, k.negClip), k.clip);
      const mu1 = m.add(m.mul(k.omb1, v), m.mul(k.b1, mu));
      const nu1 = m.add(m.mul(k.omb2, m.square(u)), m.mul(k.b2, nu));
      const out = nesterov ? m.add(m.mul(k.omb1, v), m.mul(k.b1, mu1)) : mu1;
      return { u: out, mu: mu1, nu: nu1 };
    },
  });
}

/**
 * ADOPT as an optimizer: `chain(scaleByAdopt(options), scaleByLearningRate(learningRate))`.
 * Defaults as {@link scaleByAdopt}. Fuses. Reference: Taniguchi et al. (2024);
 * optax `contrib.adopt`.
 *
 * $$
 * v = \frac{g}{\max(\sqrt{\nu_{\mathrm{prev}}}, \epsilon)}, \qquad \mu \leftarrow (1 - b_1)\, v + b_1 \mu, \qquad u = -\eta\, \mu
 * $$
 */
export function adopt(learningRate: ScalarOrSchedule, options?: ScaleByAdoptOptions): GradientTransformation {
  const fn = 'adopt';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  return chain(scaleByAdopt(resolveOptions(fn, options, DEFAULTS)), scaleByLearningRate(learningRate));
}
