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
  /**
   * The captured steps it replays: at most {@link MAX_REPLAYS}, of different
   * shapes (a lowering combinator may alternate between two, as
   * `multiSteps` does between accumulating and emitting mini-steps).
   */
  private fasts: FastStep[] = [];

  constructor(
    private readonly tx: GradientTransformation<S>,
    private readonly options: StepperOptions,
  ) {}

  /** One step: `tx.update(grads, state, params)` and `applyUpdates`, replayed when a captured step has this step's shape. */
  step(grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, S] {
    if (this.fasts.length > 0) {
      const out = isFusedEnabled() ? this.replay(grads, state, params, extraArgs) : null;
      if (out !== null) return out as [Params, S];
      if (!isFusedEnabled()) this.dropFast();
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
              this.fasts.push(new FastStep(c));
              if (this.fasts.length > MAX_REPLAYS) this.fasts.shift()?.dispose();
            }
          : undefined,
      },
      fused,
    ) as [Params, S];
  }

  /** Frees what the replayed steps own (their scratch buffers); the params and state stay the caller's. */
  dispose(): void {
    this.dropFast();
  }

  private dropFast(): void {
    for (const f of this.fasts) f.dispose();
    this.fasts = [];
  }

  /**
   * This step replayed by the captured step of its shape (through the
   * lowering of a lowering combinator: a plan built for this step); null
   * when none has its shape (the general path then takes it, and captures
   * it) or when a check fails (then every captured step is dropped).
   */
  private replay(grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, unknown] | null {
    const tx = this.tx as GradientTransformation;
    const device = currentDevice();
    const low = lowerStep(tx, state, extraArgs);
    const first = this.fasts[0] as FastStep;
    const plan = low === null ? null : low.tx === tx ? first.plan : planLike(low.tx, first.plan);
    const fast = plan === null ? undefined : this.fasts.find((f) => f.on(device) && f.accepts(plan));
    if (low === null || plan === null || fast === undefined) {
      if (low === null || !this.fasts.some((f) => f.on(device))) this.dropFast();
      return null;
    }
    const out = low.tx === tx ? fast.step(grads, state, params) : fast.step(grads, low.state, params, plan);
    if (out === null) {
      this.dropFast();
      return null;
    }
    return low.tx === tx ? out : [out[0], low.finish(out[1], true)];
  }
}

/** The most captured steps a stepper keeps. */
const MAX_REPLAYS = 2;
