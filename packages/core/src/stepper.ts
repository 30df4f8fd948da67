/**
 * The donating step shared by the two owners of params and state,
 * `createOptimizer` and `asTfOptimizer`: each step donates the params and the
 * state, so the fused engine updates them in place, and after a step that
 * wrote everything in place the next steps replay it (`fused/replay.ts`).
 *
 * @module
 */
import type { ExtraArgs, GradientTransformation, LoweredStep, Params, Updates } from './base.js';
import type { Device } from './fused/device.js';
import { type PreparedSplit, prepareSplit, runGroups } from './fused/grouped-step.js';
import { planLike } from './fused/plan.js';
import { currentDevice, isFusedEnabled } from './fused/registry.js';
import { ReplayedStep } from './fused/replay.js';
import { deviceLoweringInputs, runStep } from './fused/step.js';
import { lowerStep } from './lowering.js';
import { reportedStep, type StepHook } from './step-report.js';

/** How a {@link DonatingStepper} steps. */
export interface StepperOptions {
  /** The name used in messages (`createOptimizer`, `asTfOptimizer(name).applyGradients`). */
  readonly by: string;
  /** Use the fused engine where it applies (false: the reference path on every step). */
  readonly fused: boolean;
  /** Let a step overwrite the donated buffers (false: every step writes fresh tensors and disposes the old ones). */
  readonly inPlace: boolean;
  /** Called after every step with its report (see {@link StepHook}). */
  readonly onStep?: StepHook;
  /** The transformation as the user gave it (before a precision wrapper), where the report looks for the learning rate. */
  readonly reportAs?: GradientTransformation;
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
   * shapes (a lowering combinator may cycle through a few: `multiSteps` runs
   * accumulating and emitting mini-steps as different plans, and divides by
   * the mini-step count or multiplies by its reciprocal when it is a power
   * of two).
   */
  private replays: ReplayedStep[] = [];
  /** The steppers of a grouping combinator's groups, by group. */
  private children: (DonatingStepper<unknown> | undefined)[] = [];
  private steps = 0;

  constructor(
    private readonly tx: GradientTransformation<S>,
    private readonly options: StepperOptions,
  ) {}

  /** One step: `tx.update(grads, state, params)` and `applyUpdates`, replayed when a captured step has this step's shape. */
  step(grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, S] {
    const { onStep, reportAs } = this.options;
    this.steps++;
    if (onStep === undefined) return this.run(grads, state, params, extraArgs);
    return reportedStep(onStep, reportAs ?? (this.tx as GradientTransformation), grads, this.steps, () =>
      this.run(grads, state, params, extraArgs),
    );
  }

  /** Frees what the replayed steps own (the scratch between two fused runs); the params and state stay the caller's. */
  dispose(): void {
    this.drop();
    for (const c of this.children) c?.dispose();
    this.children = [];
  }

  private drop(): void {
    for (const r of this.replays) r.dispose();
    this.replays = [];
  }

  /**
   * The steps of a grouping combinator (`masked`, `partition`): each group
   * stepped by a stepper of its own (so each group's step is replayed), the
   * params put back together and the state finished.
   */
  private grouped(low: LoweredStep, split: PreparedSplit): [Params, S] {
    const [params, state] = runGroups(split, true, (g, i) =>
      this.child(i, g.group.tx).step(g.updates, g.group.state, g.params, g.group.extraArgs),
    );
    return [params, low.finish(state, true) as S];
  }

  /** The stepper of group `i`, new when the group's transformation changed. */
  private child(i: number, tx: GradientTransformation): DonatingStepper<unknown> {
    let c = this.children[i];
    if (c === undefined || c.tx !== tx) {
      c?.dispose();
      c = new DonatingStepper(tx, { ...this.options, onStep: undefined, reportAs: undefined });
      this.children[i] = c;
    }
    return c;
  }

  private run(grads: Updates, state: S, params: Params, extraArgs?: ExtraArgs): [Params, S] {
    const device = isFusedEnabled() && this.options.fused ? currentDevice() : null;
    const inputs = device === null ? null : deviceLoweringInputs(grads, device);
    const low = inputs === null ? null : lowerStep(this.tx as GradientTransformation, state, extraArgs, inputs);
    const split = low === null || inputs === null ? null : prepareSplit(low.tx, low.state, params, extraArgs, inputs);
    if (low !== null && split !== null) return this.grouped(low, split);
    if (this.replays.length > 0) {
      const out = device === null ? null : this.replay(grads, params, low, device);
      if (out !== null) return out as [Params, S];
      if (device === null) this.drop();
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
              this.replays.push(new ReplayedStep(c));
              if (this.replays.length > MAX_REPLAYS) this.replays.shift()?.dispose();
            }
          : undefined,
      },
      fused,
    ) as [Params, S];
  }

  /**
   * This step replayed by the captured step of its shape (through the
   * lowering of a lowering combinator: a plan built for this step); null
   * when none has its shape (the general path then takes it, and captures
   * it) or when a check fails (then every captured step is dropped).
   */
  private replay(grads: Updates, params: Params, low: LoweredStep | null, device: Device): [Params, unknown] | null {
    const tx = this.tx as GradientTransformation;
    const first = this.replays[0] as ReplayedStep;
    const plan = low === null ? null : low.tx === tx ? first.plan : planLike(low.tx, first.plan);
    const replayed = plan === null ? undefined : this.replays.find((r) => r.on(device) && r.accepts(plan));
    if (low === null || plan === null || replayed === undefined) {
      if (low === null || !this.replays.some((r) => r.on(device))) this.drop();
      return null;
    }
    const out = replayed.step(grads, low.state, params, plan);
    if (out === null) {
      this.drop();
      return null;
    }
    return low.tx === tx ? out : [out[0], low.finish(out[1], true)];
  }
}

/** The most captured steps a stepper keeps. */
const MAX_REPLAYS = 3;
