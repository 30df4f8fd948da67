/**
 * The step-size correction of the D-Adaptation family (Prodigy, D-Adapt
 * AdamW): `sqrt(1 - b2^t) / (1 - b1^t)`, in optax's float32 arithmetic.
 *
 * @module
 */
import { biasCorrection, f32 } from './core-api.js';

/** `sqrt(1 - b2^t) / (1 - b1^t)` with `t = count + 1`, every operation rounded to float32. */
export function adamStepCorrection(b1: number, b2: number, count: number): number {
  return f32(f32(Math.sqrt(biasCorrection(b2, count + 1))) / biasCorrection(b1, count + 1));
}
