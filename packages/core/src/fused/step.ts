/**
 * One step on the fused path: the checks that decide the path (before any
 * side effect), the segments in order (fused runs as kernels, opaque stages as
 * their own `update`), then the results: params, state, and the consumption
 * of what was donated and not returned. Also the entry points `runStep` and
 * `fusedUpdate`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, LoweredStep, LoweringInputs, Params, Updates } from '../base.js';
import { checkElementwiseInputs } from '../elementwise.js';
import type { ElementwiseSpec } from '../lang/spec.js';
import { loweringInputs, lowerStep } from '../lowering.js';
import { isTensor, treeFlatten, treeUnflatten } from '../tree.js';
import { checkFloatTree } from '../validate.js';
import type { Device } from './device.js';
import { consume, type DonateOptions, donation, settleParam, tensorLeaves } from './donation.js';
import { checkedOrFallBack, FallBack } from './fall-back.js';
import { type PreparedSplit, prepareSplit, runGroups } from './grouped-step.js';
import { type Plan, planOf } from './plan.js';
import { referenceStep } from './reference-step.js';
import { currentDevice, isFusedEnabled } from './registry.js';
import type { StepRequest } from './request.js';
import { type ElementwiseStageState, runFusedSegment, type SegmentContext, slotArrays } from './segment.js';
import { buildState, splitState } from './state-layout.js';
import { fusedStats } from './stats.js';

/** Options of {@link fusedUpdate}. */
export interface FusedUpdateOptions {
  /**
   * Inputs the caller gives up (like JAX's `donate_argnums`): `true` donates
   * the params and the state, or pick with {@link DonateOptions}. Default
   * false (a pure step: no input is changed or disposed).
   */
  donate?: boolean | DonateOptions;
  /** Use the fused engine where it applies (default true); false runs the reference path. */
  fused?: boolean;
  /** Extra arguments forwarded to every transformation's `update` (optax's `**extra_args`). */
  extraArgs?: ExtraArgs;
}

/** The inputs of a step that passed the checks of the fused path. */
interface StepInputs {
  readonly us: tf.Tensor[];
  readonly ps: tf.Tensor[];
  readonly treedef: ReturnType<typeof treeFlatten>['treedef'];
  /** Per stage of the plan: its state as passed, and the element-wise view of it. */
  readonly stageState: unknown[];
  readonly stages: (ElementwiseStageState | null)[];
}

/** The per-leaf checks: same shapes, data on the device. */
function leavesFallBack(us: readonly tf.Tensor[], ps: readonly tf.Tensor[], device: Device): FallBack | null {
  for (let l = 0; l < us.length; l++) {
    const u = us[l] as tf.Tensor;
    const p = ps[l] as tf.Tensor;
    if (!tf.util.arraysEqual(u.shape, p.shape)) return new FallBack(`leaf ${l}: the update's shape differs from the param's`);
    if (!device.resident(u) || !device.resident(p)) return new FallBack(`leaf ${l}: the data does not live on the ${device.name} device`);
  }
  return null;
}

/** The element-wise view of stage `i`'s state, or why it cannot run fused. */
function stageInputs(
  req: StepRequest,
  device: Device,
  spec: ElementwiseSpec,
  st: Record<string, unknown>,
): ElementwiseStageState | FallBack {
  const invalid = checkedOrFallBack(() => checkElementwiseInputs(spec, req.updates, st as never, req.params));
  if (invalid) return invalid;
  const { slots, scales } = slotArrays(spec, st);
  for (const leaves of [...slots, ...scales])
    for (const t of leaves ?? [])
      if (!device.resident(t)) return new FallBack(`${spec.name}: a slot does not live on the ${device.name} device`);
  for (const name of spec.reductionsInState ?? []) {
    const t = st[name];
    if (!isTensor(t) || t.size !== 1 || t.dtype !== 'float32' || !device.resident(t)) {
      return new FallBack(`${spec.name}: state.${name} is not a float32 scalar on the ${device.name} device`);
    }
  }
  for (const { name } of spec.scalarState ?? []) {
    if (!device.readScalar) return new FallBack(`${spec.name}: the ${device.name} device cannot read its scalar state back`);
    if (!device.resident(st[name] as tf.Tensor))
      return new FallBack(`${spec.name}: state.${name} does not live on the ${device.name} device`);
  }
  return { count: spec.counted ? (st.count as number) : 0, slots, scales, state: st };
}

/** The checks that decide the path, before any side effect: the inputs, or why the step cannot run fused. */
function checkStep(req: StepRequest, device: Device, plan: Plan): StepInputs | FallBack {
  const invalid = checkedOrFallBack(() => {
    checkFloatTree(req.by, 'updates', req.updates);
    checkFloatTree(req.by, 'params', req.params);
  });
  if (invalid) return invalid;
  const { leaves: us, treedef } = treeFlatten<tf.Tensor>(req.updates);
  const pf = treeFlatten<tf.Tensor>(req.params);
  if (JSON.stringify(pf.treedef) !== JSON.stringify(treedef)) return new FallBack('the updates and the params have different structures');
  const leaves = leavesFallBack(us, pf.leaves, device);
  if (leaves) return leaves;
  const stageState: unknown[] = [];
  if (!splitState(plan.layout, req.state, stageState)) return new FallBack("the state does not have the transformation's structure");
  const stages: (ElementwiseStageState | null)[] = plan.stages.map(() => null);
  for (const seg of plan.segments) {
    if (seg.kind !== 'fused') continue;
    if (!device.prepare(seg.ir))
      return new FallBack(`no kernel can be generated on the ${device.name} device (code generation is blocked)`);
    for (const i of seg.stages) {
      const got = stageInputs(req, device, plan.stages[i]?.spec as ElementwiseSpec, stageState[i] as Record<string, unknown>);
      if (got instanceof FallBack) return got;
      stages[i] = got;
    }
  }
  return { us, ps: pf.leaves, treedef, stageState, stages };
}

/** Buffers that appear more than once among the inputs must not be overwritten: a count of uses per buffer. */
function bufferUses(inputs: StepInputs, plan: Plan): Map<object, number> {
  const uses = new Map<object, number>();
  const note = (t: tf.Tensor) => uses.set(t.dataId, (uses.get(t.dataId) ?? 0) + 1);
  inputs.us.forEach(note);
  inputs.ps.forEach(note);
  plan.stages.forEach((stage, i) => {
    const s = inputs.stages[i];
    if (!s) return;
    for (const leaves of [...s.slots, ...s.scales]) leaves?.forEach(note);
    for (const name of stage.spec?.reductionsInState ?? []) note(s.state[name] as tf.Tensor);
  });
  return uses;
}

/** The segment's outgoing updates become the next one's incoming updates; the step's own intermediates are disposed. */
function passOn(ctx: SegmentContext, next: tf.Tensor[]): void {
  if (ctx.curOwned) {
    const kept = new Set(next);
    for (const t of ctx.cur)
      if (!kept.has(t)) {
        ctx.created.delete(t);
        t.dispose();
      }
  }
  ctx.cur = next;
  ctx.curOwned = true;
}

/** Runs an opaque stage as its own `update`; throws {@link FallBack} when its output cannot feed a kernel. */
function runOpaque(stage: number, req: StepRequest, device: Device, plan: Plan, inputs: StepInputs, flow: StepFlow): void {
  const { ctx } = flow;
  const tx = (plan.stages[stage] as { tx: GradientTransformation }).tx;
  const st = inputs.stageState[stage];
  const [u2, s2] =
    req.extraArgs === undefined ? tx.update(flow.curTree, st, req.params) : tx.update(flow.curTree, st, req.params, req.extraArgs);
  for (const t of tensorLeaves(s2)) if (!flow.inputSet.has(t)) ctx.created.add(t);
  const flat = treeFlatten<tf.Tensor>(u2);
  const fits =
    !flat.leaves.some((t) => flow.inputSet.has(t)) &&
    flat.leaves.length === inputs.us.length &&
    JSON.stringify(flat.treedef) === JSON.stringify(inputs.treedef) &&
    flat.leaves.every(
      (t, l) =>
        isTensor(t) && t.dtype === 'float32' && tf.util.arraysEqual(t.shape, (inputs.us[l] as tf.Tensor).shape) && device.resident(t),
    );
  if (!fits) throw new FallBack(`the updates of the opaque stage ${stage} cannot feed a kernel on the ${device.name} device`);
  passOn(ctx, flat.leaves);
  flow.curTree = u2;
  ctx.newStage[stage] = s2;
}

/** What the segments of a step pass along. */
interface StepFlow {
  readonly ctx: SegmentContext;
  curTree: Updates;
  newParams: tf.Tensor[] | null;
  readonly inputSet: Set<tf.Tensor>;
}

/** Runs every segment in order; on any error the tensors the step made are disposed. */
function runSegments(req: StepRequest, device: Device, plan: Plan, inputs: StepInputs): StepFlow {
  const uses = bufferUses(inputs, plan);
  const inPlace = req.inPlace !== false;
  const ctx: SegmentContext = {
    cur: inputs.us,
    curOwned: false,
    ps: inputs.ps,
    stages: inputs.stages,
    writable: (t, donated) => inPlace && donated && uses.get(t.dataId) === 1 && device.exclusive(t),
    created: new Set(),
    newStage: plan.stages.map(() => undefined),
    runs: [],
  };
  const flow: StepFlow = {
    ctx,
    curTree: req.updates,
    newParams: null,
    inputSet: new Set<tf.Tensor>([...inputs.us, ...inputs.ps, ...tensorLeaves(req.state)]),
  };
  try {
    for (const seg of plan.segments) {
      if (seg.kind === 'opaque') {
        runOpaque(seg.stage, req, device, plan, inputs, flow);
        continue;
      }
      const out = runFusedSegment(seg, req, device, plan, ctx);
      if (out.params) flow.newParams = out.params;
      if (out.u) {
        passOn(ctx, out.u);
        flow.curTree = treeUnflatten(inputs.treedef, ctx.cur);
      }
    }
  } catch (e) {
    for (const t of ctx.created) t.dispose();
    throw e;
  }
  return flow;
}

/**
 * Whether the step can be replayed (see `ReplayedStep`): every output written
 * in place by one fused run, or by two whose first run's output (the
 * intermediate updates a reduction of the second reads) is the only tensor
 * the step made. Returns the tensors the replayed step keeps between steps
 * (none, or that intermediate), or null when the step is not replayable.
 */
function replayScratch(
  req: StepRequest,
  plan: Plan,
  ctx: SegmentContext,
  outParams: readonly tf.Tensor[],
  ps: readonly tf.Tensor[],
  returned: ReadonlySet<tf.Tensor>,
): tf.Tensor[] | null {
  if (!req.capture || !req.reuse || !outParams.every((t, l) => t === ps[l])) return null;
  const runs = plan.segments.length;
  if (runs > 2 || ctx.runs.length !== runs) return null;
  const scratch = runs === 2 && ctx.curOwned ? ctx.cur : [];
  if (ctx.created.size !== scratch.length || !scratch.every((t) => ctx.created.has(t) && !returned.has(t))) return null;
  return scratch;
}

/** The step's results: params and state; consumes what was donated and not returned; offers a replayable step. */
function settle(req: StepRequest, device: Device, plan: Plan, inputs: StepInputs, flow: StepFlow): [Params, unknown] {
  const { ps, us } = inputs;
  const { ctx } = flow;
  const { donate } = req;
  const outParams = (flow.newParams as tf.Tensor[]).map((n, l) => settleParam(ps[l] as tf.Tensor, n, donate.params));
  const outState = buildState(plan.layout, ctx.newStage, req.state);
  const returned = new Set<tf.Tensor>([...outParams, ...tensorLeaves(outState)]);
  if (donate.params) for (const t of ps) if (!returned.has(t)) consume(t, req.by);
  if (donate.state) for (const t of tensorLeaves(req.state)) if (!returned.has(t)) consume(t, req.by);
  if (donate.updates) for (const t of us) if (!returned.has(t)) consume(t, req.by);
  const outTree = treeUnflatten<Params>(inputs.treedef, outParams);
  const scratch = replayScratch(req, plan, ctx, outParams, ps, returned);
  if (ctx.curOwned) for (const t of ctx.cur) if (scratch !== ctx.cur && !returned.has(t) && !t.isDisposed) t.dispose();
  if (req.capture && scratch !== null) {
    // the scratch outlives an enclosing tf.tidy: the replayed step owns it (and disposes it)
    for (const t of scratch) tf.keep(t);
    req.capture({
      device,
      plan,
      runs: ctx.runs,
      scratch,
      ps,
      treedef: inputs.treedef,
      params: outTree,
      state: outState,
      stageStates: ctx.newStage as Record<string, unknown>[],
    });
  }
  return [outTree, outState];
}

/**
 * Runs one step on the fused path. Returns a {@link FallBack}, having changed
 * nothing, when the step cannot run there (the caller then runs the reference
 * path, which also raises the canonical error for bad inputs); any other
 * error is thrown.
 */
export function fusedStep(req: StepRequest, device: Device, plan: Plan): [Params, unknown] | FallBack {
  const inputs = checkStep(req, device, plan);
  if (inputs instanceof FallBack) return inputs;
  let flow: StepFlow;
  try {
    flow = runSegments(req, device, plan, inputs);
  } catch (e) {
    if (e instanceof FallBack) return e;
    throw e;
  }
  fusedStats.fused++;
  return settle(req, device, plan, inputs, flow);
}

/**
 * {@link fusedStep} of the request's step lowered (see `lowerStep`): a
 * lowering combinator's step runs as the step of the plain transformation it
 * lowers to, and its new state is finished from that one's (a step that
 * cannot be lowered runs the combinator as an opaque stage). A captured
 * lowered step holds the plain transformation's stage states: the
 * optimizer replays it through the lowering of each later step.
 */
function loweredFusedStep(req: StepRequest, device: Device, low: LoweredStep | null): [Params, unknown] | FallBack {
  if (low === null || low.tx === req.tx) return fusedStep(req, device, planOf(req.tx));
  const out = fusedStep({ ...req, tx: low.tx, state: low.state }, device, planOf(low.tx));
  return out instanceof FallBack ? out : [out[0], low.finish(out[1], req.donate.state)];
}

/** The lowering inputs of a step on `device`: finiteness checked by the device where every leaf lives there. */
export function deviceLoweringInputs(updates: Updates, device: Device): LoweringInputs {
  const finite = device.allFinite?.bind(device);
  if (finite === undefined) return loweringInputs(updates);
  return loweringInputs(updates, (leaves) =>
    leaves.every((t) => t.dtype === 'float32' && device.resident(t)) ? leaves.every(finite) : null,
  );
}

/** Why a step cannot run fused before any input is looked at, or null. */
function pathFallBack(fused: boolean): FallBack | null {
  if (!fused) return new FallBack('the caller asked for the reference path (fused: false)');
  if (!isFusedEnabled()) return new FallBack('the fused engine is off (setFusedEnabled(false))');
  return null;
}

/** The step of a grouping combinator (`masked`, `partition`): each group's step fused where it applies, or on the reference path. */
function groupedStep(req: StepRequest, low: LoweredStep, split: PreparedSplit): [Params, unknown] {
  const [params, state] = runGroups(split, req.donate.state, (g) =>
    fusedOrReferenceStep(
      {
        ...req,
        tx: g.group.tx,
        updates: g.updates,
        params: g.params,
        state: g.group.state,
        extraArgs: g.group.extraArgs,
        capture: undefined,
      },
      true,
    ),
  );
  return [params, low.finish(state, req.donate.state)];
}

/** Runs a step on the fused path where it applies, else on the reference path (noting why in `fusedStats.lastFallBack`). */
export function runStep(req: StepRequest, fused: boolean): [Params, unknown] {
  const out = fusedOrReferenceStep(req, fused);
  // The donated inputs are gone, so what the step made must outlive an enclosing tf.tidy.
  if (req.donate.params || req.donate.state) for (const t of tensorLeaves(out)) tf.keep(t);
  return out;
}

/** The fused step where it applies, else the reference step (noting why in `fusedStats.lastFallBack`). */
function fusedOrReferenceStep(req: StepRequest, fused: boolean): [Params, unknown] {
  let why = pathFallBack(fused);
  if (why === null) {
    const device = currentDevice();
    if (device === null) why = new FallBack(`no fused device for the '${tf.getBackend()}' backend`);
    else {
      const inputs = deviceLoweringInputs(req.updates, device);
      const low = lowerStep(req.tx, req.state, req.extraArgs, inputs);
      const split = low === null ? null : prepareSplit(low.tx, low.state, req.params, req.extraArgs, inputs);
      if (low !== null && split !== null) return groupedStep(req, low, split);
      const out = loweredFusedStep(req, device, low);
      if (!(out instanceof FallBack)) return out;
      why = out;
    }
  }
  fusedStats.lastFallBack = why.reason;
  return referenceStep(req);
}

/**
 * Runs one step: `tx.update(updates, state, params)` followed by
 * `applyUpdates`, returning `[newParams, newState]`. On a backend with a fused
 * device (`cpu` and `wasm` built in, others registered by packages such as
 * `@gradtx/webgpu`), the element-wise stages of `tx` run as fused kernels
 * (one pass over the data per run of stages, reductions as a short prelude);
 * other stages run as their own `update`; other backends run the reference
 * path (`fusedStats.lastFallBack` says why a step did).
 * Results agree with the reference path to float32 rounding.
 *
 * **Donation.** By default the step is pure: no input is changed or disposed.
 * With `donate` (`true`, or `{ params, state, updates }`), the caller gives
 * those inputs up: the step may write its results into their buffers (in
 * place, no new memory) and disposes every donated tensor it does not return;
 * a donated tensor must not be used afterwards (doing so raises an error that
 * says it was consumed). `tf.Variable` params are the exception: they are
 * assigned in place and returned as they are. Buffers shared with another
 * tensor (a `tf.clone`, a reshape, a variable made from a tensor that is still
 * alive) are never overwritten; those steps write fresh tensors instead. On
 * the `cpu` backend, a contiguous `tf.slice` of a tensor shares its memory
 * (tfjs does not count that as sharing): do not keep such a slice of a
 * donated tensor, clone it.
 *
 * @example
 * ```ts
 * let state = tx.init(params);
 * [params, state] = fusedUpdate(tx, grads, state, params, { donate: true });
 * ```
 */
export function fusedUpdate<S>(
  tx: GradientTransformation<S>,
  updates: Updates,
  state: S,
  params: Params,
  options: FusedUpdateOptions = {},
): [Params, S] {
  const req: StepRequest = {
    tx,
    updates,
    state,
    params,
    donate: donation(options.donate),
    reuse: false,
    extraArgs: options.extraArgs,
    by: 'fusedUpdate',
  };
  return runStep(req, options.fused !== false) as [Params, S];
}
