/**
 * The float32 tolerances of the conformance suite, per family of cases.
 *
 * Every comparison is element-wise `|actual - expected| <= atol' + rtol·|expected|`
 * with `atol' = atol · max(1, largest |expected| in the compared tree)` (see
 * `Tolerance` in loader.ts): an element that cancels to near zero is held to
 * the rounding of the values it came from, not to its own size.
 *
 * How these were chosen: `fixtures/generate_optax.py` re-runs every optax
 * case in float64 (with the same float32 bias corrections optax uses) and
 * prints, per case, the largest |float32 - float64| in units of these
 * tolerances. That is the rounding a float32 implementation cannot avoid;
 * gradtx and optax are two float32 implementations with different operation
 * orders, so they are expected to differ by about as much. Every optax case
 * stays below 0.35 of these tolerances. Cases that were ill-conditioned in
 * float32 were changed rather than given a looser tolerance (see
 * fixtures/README.md: e.g. RAdam with b2 = 0.999 past its threshold, where
 * optax's float32 rho_t amplifies 1-ulp differences of XLA's pow ~400-fold).
 * No family needs a looser tolerance than the default.
 */
import type { StepTolerances, Tolerance } from './loader.js';

/**
 * Updates and params of an optax case after 5-10 steps. Updates: rtol 1e-5
 * (a few dozen float32 ulps after several steps of moments, square roots and
 * divisions), atol 1e-6 of the tree's scale. Params: they are O(1) (standard
 * normal init) and sum every step's updates, so an element that cancels to
 * near zero carries the absolute rounding of O(1) values: atol 1e-5 of the
 * scale (the updates themselves are held to the tighter bound at every step).
 */
export const OPTAX_STEPS: StepTolerances = {
  updates: { rtol: 1e-5, atol: 1e-6 },
  params: { rtol: 1e-5, atol: 1e-5 },
};

/**
 * Per family: all use OPTAX_STEPS. The largest float32-vs-float64 deviation
 * measured by the generator is noted for each (in units of OPTAX_STEPS).
 */
export const OPTAX_FAMILIES: Record<string, StepTolerances> = {
  adam: OPTAX_STEPS, // ≤ 0.16 (RAdam across its threshold with b2 = 0.9)
  rms: OPTAX_STEPS, // ≤ 0.13 (scaleByStddev with bias correction)
  factored: OPTAX_STEPS, // ≤ 0.03
  sign: OPTAX_STEPS, // ≤ 0.02; sign outputs are exact ±1/0, a mismatch is a real difference
  momentum: OPTAX_STEPS, // ≤ 0.05
  scale: OPTAX_STEPS, // ≤ 0.01
  trust: OPTAX_STEPS, // ≤ 0.02
  rprop: OPTAX_STEPS, // ≤ 0.01
  decay: OPTAX_STEPS, // ≤ 0.03
  clip: OPTAX_STEPS, // ≤ 0.05
  combinators: OPTAX_STEPS, // ≤ 0.35 (injectHyperparams and the warmup-cosine chain)
};

/**
 * Schedules: one float32 value per count, computed by optax in float32 and
 * by gradtx in doubles; rtol 1e-6 is ~8 float32 ulps, atol 1e-7 of the
 * schedule's peak. Measured float32-vs-float64 deviation ≤ 0.32 of this.
 */
export const SCHEDULES: Tolerance = { rtol: 1e-6, atol: 1e-7 };

/**
 * torch params after each step (torch records no updates). torch and optax
 * order their float32 operations differently (and torch computes its bias
 * corrections in float64): `fixtures/check_torch.py` measures optax's twin of
 * every case against torch at ≤ 0.1 of this. Tighter than OPTAX_STEPS.params
 * because here the params are the only thing compared.
 */
export const TORCH: StepTolerances = {
  updates: { rtol: 2e-6, atol: 2e-6 },
  params: { rtol: 2e-6, atol: 2e-6 },
};

/** The tolerance of a family (the default for a family not listed). */
export function optaxTolerance(family: string): StepTolerances {
  return OPTAX_FAMILIES[family] ?? OPTAX_STEPS;
}
