/**
 * Lion: `scaleByLion` (optax `scale_by_lion`).
 *
 * @module
 */

import type { Exact, GradientTransformation, NoOptions } from '../base.js';
import { elementwise } from '../elementwise.js';
import { updateMoment } from '../lang/moments.js';
import { f32, type Ops } from '../lang/spec.js';
import { checkDecay, checkFinite, type OptionDefaults, resolveOptions, showValue } from '../validate.js';
import {
  type DtypeOf,
  type MomentStorageOptions,
  momentStorageDefaults,
  type StateDtype,
  type StoredSlot,
  slotStorages,
} from './state-dtype.js';

/**
 * `tanh(x)` from the ops the per-element language has, within a few float32
 * ulps of the correctly rounded value: `tanh|x| = -d / (2 + d)` with
 * `d = expm1(-2|x|)`, where `expm1(z) = (e - 1) z / log(e)` for `e = exp(z)`
 * (Kahan's formula, which stays accurate for small `|z|`); `|x| > 9` gives 1,
 * as float32 does.
 */
function tanhOf<V>(m: Ops<V>, x: V): V {
  const ax = m.abs(x);
  const z = m.mul(m.c(-2), ax);
  const e = m.exp(z);
  const d = m.select(m.eq(e, m.c(1)), z, m.div(m.mul(m.sub(e, m.c(1)), z), m.log(e)));
  const th = m.div(m.neg(d), m.add(m.c(2), d));
  return m.mul(m.sign(x), m.select(m.gt(ax, m.c(9)), m.c(1), th));
}

/** The sign variants of {@link scaleByLion}. */
export type LionMode = 'hard' | 'smooth' | 'refined';

/** Options of {@link scaleByLion}. */
export interface ScaleByLionOptions extends Pick<MomentStorageOptions, 'muDtype' | 'int8BlockSize'> {
  /** Weight of the momentum against the current gradient in the update direction (default 0.9), in [0, 1). */
  b1?: number;
  /** Decay of the momentum (default 0.99), in [0, 1). */
  b2?: number;
  /**
   * How the interpolation `c` becomes the update (default `'hard'`): `'hard'`
   * takes `sign(c)` (Lion as published); `'smooth'` takes
   * `tanh(smoothBeta · c)`; `'refined'` keeps `c` where `|c| < 1` and takes
   * `sign(c)` elsewhere.
   */
  mode?: LionMode;
  /** The slope of `tanh` in `'smooth'` mode (default 1), a finite number. */
  smoothBeta?: number;
}

/** The defaults of {@link scaleByLion}'s options (`undefined`: no default). */
export const scaleByLionDefaults: OptionDefaults<ScaleByLionOptions> = Object.freeze({
  b1: 0.9,
  b2: 0.99,
  mode: 'hard',
  smoothBeta: 1,
  muDtype: momentStorageDefaults.muDtype,
  int8BlockSize: momentStorageDefaults.int8BlockSize,
});

/** The state of {@link scaleByLion} (optax's `ScaleByLionState`), with the momentum stored as `D` (its `muDtype`). */
export interface ScaleByLionState<D extends StateDtype = 'float32'> {
  /** The number of updates so far. */
  count: number;
  /** The momentum: a tree with the params' structure, or its packed codes (see {@link StoredSlot}). */
  mu: StoredSlot<D>;
}

/**
 * Rescales updates by Lion (EvoLved Sign Momentum): the sign of an
 * interpolation between the momentum and the current gradient, with the
 * momentum updated at a different rate afterwards.
 *
 * $$
 * c = (1 - b_1)\, g + b_1 \mu, \qquad u = \operatorname{sign}(c), \qquad \mu \leftarrow (1 - b_2)\, g + b_2 \mu
 * $$
 *
 * ```
 * c  = (1 - b1) g + b1 mu
 * u  = sign(c)                    ('smooth': tanh(smoothBeta c); 'refined': |c| < 1 ? c : sign(c))
 * mu = (1 - b2) g + b2 mu         (after u, from the old mu)
 * ```
 * Every element of the update is ±1 (or 0) in `'hard'` mode, so Lion is used
 * with a smaller learning rate than Adam. No bias correction.
 *
 * State `{ count, mu }`. Defaults: `b1 = 0.9, b2 = 0.99, mode = 'hard',
 * smoothBeta = 1`. Reference: Chen et al., "Symbolic Discovery of
 * Optimization Algorithms" (2023); optax `scale_by_lion`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(scaleByLion(), addDecayedWeights(1e-2), scaleByLearningRate(1e-4)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function scaleByLion<const O extends ScaleByLionOptions = NoOptions>(
  options?: Exact<O, ScaleByLionOptions>,
): GradientTransformation<ScaleByLionState<DtypeOf<O, 'muDtype'>>>;
export function scaleByLion(options: ScaleByLionOptions = {}): GradientTransformation<ScaleByLionState<StateDtype>> {
  const fn = 'scaleByLion';
  const o = resolveOptions(fn, options, scaleByLionDefaults);
  const storage = slotStorages(fn, { muDtype: [o.muDtype, true] }, o.int8BlockSize).muDtype;
  const b1 = checkDecay(fn, 'b1', o.b1);
  const b2 = checkDecay(fn, 'b2', o.b2);
  const mode = o.mode;
  if (mode !== 'hard' && mode !== 'smooth' && mode !== 'refined') {
    throw new Error(`${fn}: \`mode\` must be 'hard', 'smooth' or 'refined', got ${showValue(mode)}`);
  }
  const smoothBeta = checkFinite(fn, 'smoothBeta', o.smoothBeta);
  return elementwise({
    name: fn,
    key: `${fn}/${mode}`,
    slots: [{ name: 'mu', init: 0, storage }],
    counted: true,
    needsParams: false,
    scalars: () => ({ b1, b2, omb1: f32(1 - b1), omb2: f32(1 - b2), smoothBeta }),
    body(m, { u, mu }, k) {
      const c = updateMoment(m, u, mu, k.b1, k.omb1);
      let out: typeof u;
      if (mode === 'hard') out = m.sign(c);
      else if (mode === 'smooth') out = tanhOf(m, m.mul(k.smoothBeta, c));
      else out = m.select(m.lt(m.abs(c), m.c(1)), c, m.sign(c));
      return { u: out, mu: updateMoment(m, u, mu, k.b2, k.omb2) };
    },
  });
}
