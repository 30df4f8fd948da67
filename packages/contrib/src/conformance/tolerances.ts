/**
 * The float32 tolerances of the optax.contrib conformance suite, per family.
 *
 * All are core's `OPTAX_STEPS` (updates rtol 1e-5, atol 1e-6 of the tree's
 * scale; params rtol 1e-5, atol 1e-5 of the scale). The generator re-runs
 * every case in float64 and prints the largest |float32 - float64| in units of
 * these tolerances: the worst case per family is noted beside it.
 */
import { OPTAX_STEPS, type StepTolerances } from '@gradtx/core/testing';

/**
 * Prodigy and D-Adaptation from `d0 = 1e-6`: the step size grows by ~1e5
 * through estimates that feed back through the state, and float32 rounding
 * grows with it: optax's own float32 run is up to 5.3 × OPTAX_STEPS away from
 * its float64 run on these trajectories (dadaptAdamw with the defaults over
 * 30 steps; prodigy 2.2). Ten times OPTAX_STEPS, so the measured
 * amplification stays below 0.55 of the tolerance. DoG from its default
 * heuristic start (`r0 = 1e-6 (1 + |x0|)`) is the exception the float64
 * re-run cannot measure: its first steps are ~1e-6 on O(1) params, so
 * `|x - x0|` is formed from a float32 cancellation that float64 does not
 * have (109× and 469× OPTAX_STEPS for scaleByDog and dog over 60 steps);
 * gradtx forms the same difference of the same float32 values, and matches
 * optax's float32 run within this tolerance. Mechanic is the same kind of
 * case: `Δ = (x0 - x) / (Σs + eps)` divides a float32 cancellation by a
 * scale that starts at `numBetas · sInit` (6e-6), so optax's float32 run is
 * 53× (sgd base), 23× (adam) and 5.6× (lion) OPTAX_STEPS from its float64
 * run over 30 steps; gradtx forms the same differences of the same float32
 * values and matches the float32 run within this tolerance.
 */
export const PARAMETER_FREE: StepTolerances = {
  updates: { rtol: 1e-4, atol: 1e-5 },
  params: { rtol: 1e-4, atol: 1e-4 },
};

export const CONTRIB_FAMILIES: Record<string, StepTolerances> = {
  adopt: OPTAX_STEPS, // ≤ 0.33 (adopt with a warmup-cosine schedule)
  ademamix: OPTAX_STEPS, // ≤ 0.31 (b3 and alpha schedules)
  madgrad: OPTAX_STEPS, // ≤ 0.15
  acprop: OPTAX_STEPS, // ≤ 0.03
  cocob: OPTAX_STEPS, // ≤ 0.20 (24 steps)
  scheduleFree: OPTAX_STEPS, // ≤ 0.35 (scheduleFreeSgd with warmup and weight decay)
  plateau: OPTAX_STEPS, // ≤ 0.01 (the scale is exact: powers of the factor)
  momo: OPTAX_STEPS, // ≤ 0.69 (momoAdam with the adapted lower bound: the truncated Polyak step divides by <d, d / P>)
  sam: OPTAX_STEPS, // ≤ 0.12 (adam outer, no reset, sync period 3)
  muon: OPTAX_STEPS, // ≤ 0.45 (scaleByMuon with dimension numbers: a batch of transposed 4x3 matrices)
  privacy: OPTAX_STEPS, // ≤ 0.014 (noise multiplier 0: per-example clipping and the batch mean)
  sophia: OPTAX_STEPS, // ≤ 0.069
  galore: OPTAX_STEPS, // ≤ 0.075 (one projection: the sign of a singular vector cancels)
  complex: OPTAX_STEPS, // splitRealAndImaginary (its complex cases are not re-run in float64)
  parameterFree: PARAMETER_FREE,
};

/** The tolerance of a family (core's default for a family not listed). */
export function contribTolerance(family: string): StepTolerances {
  return CONTRIB_FAMILIES[family] ?? OPTAX_STEPS;
}
