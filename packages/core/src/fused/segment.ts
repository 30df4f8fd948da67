/**
 * One fused segment of a step: its scalars, where each output goes (in place
 * over a donated, exclusive buffer, or a fresh one), the kernel launch, and
 * the new state of each of its stages.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { safeIncrement } from '../base.js';
import { isScalesName, scaledName } from '../lang/packed-columns.js';
import type { ElementwiseSpec } from '../lang/spec.js';
import { isPacked, type PackedSlot } from '../lang/storage/slot-storage.js';
import { treeFlatten, treeLeaves, treeUnflatten } from '../tree.js';
import type { Device, LaunchReductions } from './device.js';
import { isVariable } from './donation.js';
import type { FusedSegment, Plan } from './plan.js';
import type { CapturedRun, StepRequest } from './request.js';
import { runScalarPrelude, type ScalarPrelude } from './scalar-prelude.js';
import { deviceReductions, segmentScalars, stateReduction } from './scalars.js';

/**
 * The state of an element-wise stage as a step reads it: its count, its
 * slots' leaves (a packed slot's code words), the block scales of its int8
 * slots, the state object itself.
 */
export interface ElementwiseStageState {
  count: number;
  slots: tf.Tensor[][];
  /** Per slot: its block scales (int8 slots), else undefined. */
  scales: (tf.Tensor[] | undefined)[];
  /** The stage's state object, as the caller passed it. */
  state: Record<string, unknown>;
}

/** What the segments of one step share. */
export interface SegmentContext {
  /** The segment's incoming updates, and whether the step made them (so it may dispose or overwrite them). */
  cur: tf.Tensor[];
  curOwned: boolean;
  ps: tf.Tensor[];
  /** Per stage of the plan: its state, for element-wise stages. */
  stages: (ElementwiseStageState | null)[];
  writable: (t: tf.Tensor, donated: boolean) => boolean;
  /** Tensors made during the step (disposed if it fails). */
  created: Set<tf.Tensor>;
  /** Per stage of the plan: its new state. */
  newStage: unknown[];
  /** The fused runs so far with their launches, for the optimizer's replayed steps. */
  readonly runs: CapturedRun[];
}

/** What a segment hands on: the new params (the last segment) or its outgoing updates. */
export interface SegmentResult {
  readonly params?: tf.Tensor[];
  readonly u?: tf.Tensor[];
}

function specOf(plan: Plan, stage: number): ElementwiseSpec {
  return plan.stages[stage]?.spec as ElementwiseSpec;
}

/** The arrays of a stage's slots in its state: each slot's leaves (a packed slot's code words) and an int8 slot's block scales. */
export function slotArrays(spec: ElementwiseSpec, st: Record<string, unknown>): Pick<ElementwiseStageState, 'slots' | 'scales'> {
  const slots = spec.slots.map((s) => treeFlatten<tf.Tensor>(isPacked(s.storage) ? (st[s.name] as PackedSlot).codes : st[s.name]).leaves);
  const scales = spec.slots.map((s) =>
    s.storage?.dtype === 'int8' ? treeLeaves<tf.Tensor>((st[s.name] as { scales: unknown }).scales) : undefined,
  );
  return { slots, scales };
}

/** The tensors an IR input reads, one per leaf: the run's updates, the params, a stage's slot (or its block scales). */
function inputColumn(name: string, seg: FusedSegment, plan: Plan, ctx: SegmentContext): tf.Tensor[] {
  if (name === 'u') return ctx.cur;
  if (name === 'p') return ctx.ps;
  const scales = isScalesName(name);
  const slotName = scales ? scaledName(name) : name;
  const colon = slotName.indexOf(':');
  const i = seg.stages[Number(slotName.slice(1, colon))] as number;
  const slot = slotName.slice(colon + 1);
  const st = ctx.stages[i] as ElementwiseStageState;
  const k = specOf(plan, i).slots.findIndex((s) => s.name === slot);
  return (scales ? st.scales[k] : st.slots[k]) as tf.Tensor[];
}

/** A new tensor for `t` unless `t` may be overwritten; new ones are noted in `created`. */
function destination(t: tf.Tensor, reuse: boolean, device: Device, ctx: SegmentContext, shape: readonly number[] = t.shape): tf.Tensor {
  const out = reuse ? t : device.alloc(shape, t.dtype === 'int32' ? 'int32' : 'float32');
  if (out !== t) ctx.created.add(out);
  return out;
}

/** The output columns of a segment's kernel: over the inputs where they may be overwritten, fresh tensors elsewhere. */
function outputColumns(seg: FusedSegment, req: StepRequest, device: Device, plan: Plan, ctx: SegmentContext): tf.Tensor[][] {
  const inPlace = seg.last;
  return seg.ir.outputs.map((o) => {
    if (o.name === 'u') {
      const mayReuse = (s: tf.Tensor) => (ctx.curOwned ? device.exclusive(s) : inPlace && ctx.writable(s, req.donate.updates));
      return ctx.cur.map((s) => destination(s, mayReuse(s), device, ctx));
    }
    const donated = o.name === 'p' ? req.donate.params : req.donate.state;
    return inputColumn(o.name, seg, plan, ctx).map((s) => destination(s, inPlace && ctx.writable(s, donated), device, ctx));
  });
}

/**
 * The reductions of the launch, and the tensor that receives each reduction
 * kept in the state (`<stage>:<name>`): the old one when it may be
 * overwritten, else a new one.
 */
function launchReductions(
  seg: FusedSegment,
  req: StepRequest,
  device: Device,
  plan: Plan,
  ctx: SegmentContext,
): { reductions: LaunchReductions; targets: Map<string, tf.Tensor> } {
  const targets = new Map<string, tf.Tensor>();
  const list = deviceReductions(seg, plan);
  seg.stages.forEach((i, j) => {
    const spec = specOf(plan, i);
    for (const name of spec.reductionsInState ?? []) {
      const old = (ctx.stages[i] as ElementwiseStageState).state[name] as tf.Tensor;
      const t = destination(old, seg.last && ctx.writable(old, req.donate.state), device, ctx, []);
      targets.set(`${j}:${name}`, t);
      list.push(stateReduction(spec, name, t));
    }
  });
  return { reductions: { u: ctx.cur, p: ctx.ps, list }, targets };
}

/**
 * The tensor a step returns for an output written over `t`: the optimizer
 * keeps the object; fusedUpdate returns a new tensor on the same buffer (the
 * donated input is consumed later).
 */
function finalizer(req: StepRequest, device: Device, ctx: SegmentContext): (t: tf.Tensor) => tf.Tensor {
  return (t) => {
    if (req.reuse || ctx.created.has(t) || isVariable(t)) return t;
    device.backend.incRef(t.dataId);
    const w = tf.engine().makeTensorFromDataId(t.dataId, t.shape, t.dtype, device.backend);
    ctx.created.add(w);
    return w;
  };
}

/** The new state of each stage of the segment: count, slots (written or kept), the reductions kept in the state. */
function nextStageStates(
  seg: FusedSegment,
  req: StepRequest,
  plan: Plan,
  ctx: SegmentContext,
  run: { outs: tf.Tensor[][]; targets: Map<string, tf.Tensor>; preludes: readonly (ScalarPrelude | null)[] },
  finalize: (t: tf.Tensor) => tf.Tensor,
): void {
  const ir = seg.ir;
  seg.stages.forEach((i, j) => {
    const spec = specOf(plan, i);
    const old = ctx.stages[i] as ElementwiseStageState;
    const next: Record<string, unknown> = spec.counted ? { count: safeIncrement(old.count) } : {};
    spec.slots.forEach((s, si) => {
      const k = ir.outputs.findIndex((o) => o.name === `s${j}:${s.name}`);
      const keep = (t: tf.Tensor) => {
        if (req.donate.state) return finalize(t);
        const c = tf.clone(t);
        ctx.created.add(c);
        return c;
      };
      const leaves = k >= 0 ? (run.outs[k] as tf.Tensor[]) : (old.slots[si] as tf.Tensor[]).map(keep);
      if (!isPacked(s.storage)) {
        next[s.name] = treeUnflatten(treeFlatten(old.state[s.name]).treedef, leaves);
        return;
      }
      // a packed slot is always an output (codes, then an int8 slot's scales)
      const was = old.state[s.name] as PackedSlot;
      const codes = treeUnflatten(treeFlatten(was.codes).treedef, leaves);
      next[s.name] =
        was.dtype === 'int8'
          ? {
              dtype: 'int8',
              blockSize: was.blockSize,
              codes,
              scales: treeUnflatten(treeFlatten(was.scales).treedef, run.outs[k + 1] as tf.Tensor[]),
            }
          : { dtype: was.dtype, codes };
    });
    // a reduction kept in the state: the tensor the launch wrote it into
    for (const name of spec.reductionsInState ?? []) next[name] = finalize(run.targets.get(`${j}:${name}`) as tf.Tensor);
    for (const { name } of spec.scalarState ?? []) next[name] = run.preludes[j]?.state[name];
    ctx.newStage[i] = next;
  });
}

/** The scalar preludes of the segment's stages that have scalar state or expression reductions (null for the others). */
function scalarPreludes(seg: FusedSegment, device: Device, plan: Plan, ctx: SegmentContext): (ScalarPrelude | null)[] {
  return seg.stages.map((i) => {
    const spec = specOf(plan, i);
    if ((spec.scalarState ?? []).length === 0 && (spec.expressionReductions ?? []).length === 0) return null;
    const st = ctx.stages[i] as ElementwiseStageState;
    // the plan starts a run at a stage with expression reductions: its incoming updates are the segment's
    const alone: FusedSegment = { ...seg, stages: [i] };
    const prelude = runScalarPrelude(spec, st.count, device, ctx.cur, st.state, (name) => inputColumn(name, alone, plan, ctx));
    for (const t of Object.values(prelude.state)) ctx.created.add(t);
    return prelude;
  });
}

/** Runs one fused segment: reductions, scalars, destinations, the kernel, the new stage states. */
export function runFusedSegment(seg: FusedSegment, req: StepRequest, device: Device, plan: Plan, ctx: SegmentContext): SegmentResult {
  const ir = seg.ir;
  const counts = seg.stages.map((i) => (ctx.stages[i] as ElementwiseStageState).count);
  const preludes = scalarPreludes(seg, device, plan, ctx);
  const scalars = segmentScalars(
    seg,
    plan,
    counts,
    preludes.map((p) => p?.scalars),
  );
  // columns: the arrays each IR input reads and each output writes, per leaf
  const inputs = ir.inputs.map((name) => inputColumn(name, seg, plan, ctx));
  const outs = outputColumns(seg, req, device, plan, ctx);
  const { reductions, targets } = launchReductions(seg, req, device, plan, ctx);
  const launch = device.launch(ir, [...inputs, ...outs], reductions);
  // every tensor it writes was checked writable (or is new) just now
  if (!launch.run(scalars)) throw new Error('gradtx: internal error: a fused launch found a buffer it writes shared');
  ctx.runs.push({ seg, launch, readsGrads: !ctx.curOwned });
  const finalize = finalizer(req, device, ctx);
  ir.outputs.forEach((o, k) => {
    if (o.name !== 'u') outs[k] = (outs[k] as tf.Tensor[]).map(finalize);
  });
  nextStageStates(seg, req, plan, ctx, { outs, targets, preludes }, finalize);
  const pi = ir.outputs.findIndex((o) => o.name === 'p');
  const ui = ir.outputs.findIndex((o) => o.name === 'u');
  return { params: pi >= 0 ? outs[pi] : undefined, u: ui >= 0 ? outs[ui] : undefined };
}
