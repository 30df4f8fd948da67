/**
 * The donating step shared by the two owners of params and state,
 * `createOptimizer` and `asTfOptimizer`: each step donates the params and the
 * state, so the fused engine updates them in place, and after a step that
 * wrote everything in place the next steps replay it (`fused/replay.ts`).
 *
 * @module
 */
import type { ExtraArgs, GradientTransformation, Params, Updates } from './base.js';
import { currentDevice, isFusedEnabled } from './fused/registry.js';
import { ReplayedStep } from './fused/replay.js';
import { runStep } from './fused/step.js';

/** How a {@link DonatingStepper} steps. */
export interface StepperOptions {
  /** The name used in messages (`createOptimizer`, `asTfOptimizer(name).applyGradients`). */
  readonly by: string;
  /** Use the fused engine where it applies (false: the reference path on every step). */
  readonly fused: boolean;
  /** Let a step overwrite the donated buffers (false: every step writes fresh tensors and disposes the old ones). */
  readonly inPlace: boolean;
}

/**
 * Steps `tx` on params and state that the caller owns and gives up at every
 * step (donation, as JAX's `donate_argnums`): `step` returns the new params
 * (the same `tf.Variable` objects, or the same tensors where they were
 * written in place) and the new state; the old ones must not be used again.
 * Internal: the engine of `createOptimizer` and `asTfOptimizer`.
 */
export class DonatingStepper<S> {
  private replayed: ReplayedStep | null = null;

  constructor(
    private readonly tx: GradientTransformation<S>,
    private readonly options: StepperOptions,
  ) {}

  /** One step: `tx.update(grads, state, params)` and `applyUpdates`, replaying the last step when it allows it. */
  step(grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, S] {
    if (this.replayed !== null) {
      const out = isFusedEnabled() && this.replayed.on(currentDevice()) ? this.replayed.step(grads, state, params) : null;
      if (out !== null) return out as [Params, S];
      this.replayed = null;
    }
    const { by, fused, inPlace } = this.options;
    return runStep(
      {
        tx: this.tx as GradientTransformation,
        updates: grads,
        state,
        params,
        donate: { params: true, state: true, updates: false },
        reuse: true,
        inPlace,
        extraArgs,
        by,
        capture: inPlace
          ? (c) => {
              this.replayed = new ReplayedStep(c);
            }
          : undefined,
      },
      fused,
    ) as [Params, S];
  }
}
