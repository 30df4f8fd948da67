/**
 * The donating step shared by the two owners of params and state,
 * `createOptimizer` and `asTfOptimizer`: each step donates the params and the
 * state, so the fused engine updates them in place, and after a step that
 * wrote everything in place the next steps replay it (the fast path).
 *
 * @module
 */
import type { ExtraArgs, GradientTransformation, Params, Updates } from './base.js';
import { planLike } from './fused/compile.js';
import { currentDevice, runStep } from './fused/engine.js';
import { FastStep } from './fused/fast.js';
import { isFusedEnabled } from './fused/runtime.js';
import { lowerStep } from './lowering.js';

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
  private fast: FastStep | null = null;

  constructor(
    private readonly tx: GradientTransformation<S>,
    private readonly options: StepperOptions,
  ) {}

  /** One step: `tx.update(grads, state, params)` and `applyUpdates`, on the fast path when the last step allows it. */
  step(grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, S] {
    if (this.fast !== null) {
      const out = isFusedEnabled() && this.fast.on(currentDevice()) ? this.replay(this.fast, grads, state, params, extraArgs) : null;
      if (out !== null) return out as [Params, S];
      this.fast = null;
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
              this.fast = new FastStep(c);
            }
          : undefined,
      },
      fused,
    ) as [Params, S];
  }

  /** The step replayed by `fast`, through the lowering of a lowering combinator (a plan built for this step); null when it cannot replay. */
  private replay(fast: FastStep, grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, unknown] | null {
    const tx = this.tx as GradientTransformation;
    const low = lowerStep(tx, state, extraArgs);
    if (low === null) return null;
    if (low.tx === tx) return fast.step(grads, state, params);
    const out = fast.step(grads, low.state, params, planLike(low.tx, fast.plan));
    return out === null ? null : [out[0], low.finish(out[1], true)];
  }
}
