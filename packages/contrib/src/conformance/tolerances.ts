/**
 * The float32 tolerances of the optax.contrib conformance suite, per family.
 *
 * All are core's `OPTAX_STEPS` (updates rtol 1e-5, atol 1e-6 of the tree's
 * scale; params rtol 1e-5, atol 1e-5 of the scale). The generator re-runs
 * every case in float64 and prints the largest |float32 - float64| in units of
 * these tolerances: the worst case per family is noted beside it.
 */
import { OPTAX_STEPS, type StepTolerances } from '@gradtx/core/testing';

export const CONTRIB_FAMILIES: Record<string, StepTolerances> = {
  adopt: OPTAX_STEPS,
  ademamix: OPTAX_STEPS,
  madgrad: OPTAX_STEPS,
  acprop: OPTAX_STEPS,
  cocob: OPTAX_STEPS,
};

/** The tolerance of a family (core's default for a family not listed). */
export function contribTolerance(family: string): StepTolerances {
  return CONTRIB_FAMILIES[family] ?? OPTAX_STEPS;
}
