/**
 * The chain compiler: splits a transformation into stages, groups the
 * element-wise ones into maximal fusible runs, traces each run into a kernel
 * IR, and caches the result.
 *
 * A run is split by a stage that is not element-wise (it runs on the
 * reference path, as its own `update`) and before a stage whose reduction
 * reads its incoming updates when those are an intermediate of the run (the
 * reduction needs the whole intermediate tree before the body can run).
 * Reductions over the run's input updates or over the params run as a short
 * prelude pass and reach the kernel as per-step scalars; so do a stage's
 * expression reductions and scalar state (`scalar-prelude.ts`), which also
 * start a new run. The last run ends
 * with the param update `p + u`.
 *
 * Kernels are cached by the run's shape (spec keys, slots, reductions), never
 * by hyperparameter values: every number reaches a kernel as a scalar
 * argument of the step.
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { storageKey } from '../lang/packed-columns.js';
import type { ElementwiseSpec, ReductionSpec } from '../lang/spec.js';
import { type KernelIR, TraceError, traceRun } from '../lang/trace.js';
import { preludeIR } from './scalar-prelude.js';

/** One stage of a flattened transformation: an element-wise spec, or an opaque transformation run as it is. */
export interface Stage {
  readonly tx: GradientTransformation;
  /** The spec when the stage is element-wise and traceable; `null` for a stage run by its own `update`. */
  readonly spec: ElementwiseSpec | null;
}

/** Where the stages keep their state in the transformation's state: a tree that mirrors the chain nesting. */
export type StateLayout =
  | { readonly kind: 'stage'; readonly stage: number }
  | { readonly kind: 'node'; readonly array: boolean; readonly children: readonly (readonly [number | string, StateLayout])[] };

/** A step of a plan: a fused run of element-wise stages, or one opaque stage. */
export type Segment =
  | { readonly kind: 'opaque'; readonly stage: number }
  | {
      readonly kind: 'fused';
      /** Indices into the plan's stages, in order. */
      readonly stages: readonly number[];
      /** Whether the run ends with `p + u` (the last segment). */
      readonly apply: boolean;
      readonly ir: KernelIR;
      /** Whether no opaque stage follows (outputs may then overwrite donated buffers: a later failure cannot leave them half-updated). */
      readonly last: boolean;
    };

/** A fused run of a plan. */
export type FusedSegment = Extract<Segment, { kind: 'fused' }>;

/** How a transformation runs on the fused path. */
export interface Plan {
  readonly stages: readonly Stage[];
  readonly layout: StateLayout;
  readonly segments: readonly Segment[];
}

const plans = new WeakMap<GradientTransformation, Plan>();
const traces = new Map<string, KernelIR | TraceError>();

/** Shape of a spec: everything but the hyperparameter values (the slots' storage included). */
function specShape(spec: ElementwiseSpec): string {
  const red = (spec.reductions ?? []).map((r) => `${r.name}/${r.of}/${r.op}/${r.scope}`).join(',');
  const slots = spec.slots.map((s) => `${s.name}/${storageKey(s.storage)}`).join(',');
  return `${spec.key}\u0001${slots}\u0001${spec.needsParams ? 'p' : ''}\u0001${red}`;
}

/** The traced IR of a run of specs, cached by the run's shape. Throws {@link TraceError} for an untraceable body. */
export function traceCached(specs: readonly ElementwiseSpec[], apply: boolean): KernelIR {
  const key = `${specs.map(specShape).join('\u0002')}\u0003${apply ? 'apply' : 'u'}`;
  let ir = traces.get(key);
  if (ir === undefined) {
    try {
      ir = traceRun(specs, apply);
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
      ir = e;
    }
    traces.set(key, ir);
  }
  if (ir instanceof TraceError) throw ir;
  return ir;
}

function traceable(spec: ElementwiseSpec): boolean {
  try {
    traceCached([spec], false);
    if ((spec.expressionReductions ?? []).length > 0) preludeIR(spec);
    return true;
  } catch {
    return false;
  }
}

/** Collects the stages of `tx` (chains followed down to their members) and returns the layout of its state. */
function collectStages(tx: GradientTransformation, stages: Stage[]): StateLayout {
  const f = tx.fusion;
  if (f?.kind === 'chain') {
    const array = f.children.every(([key]) => typeof key === 'number');
    return { kind: 'node', array, children: f.children.map(([key, child]) => [key, collectStages(child, stages)] as const) };
  }
  const spec = f?.kind === 'elementwise' && traceable(f.spec) ? f.spec : null;
  stages.push({ tx, spec });
  return { kind: 'stage', stage: stages.length - 1 };
}

/** Whether a stage reduces over its incoming updates (so they must be the run's input, not an intermediate of it). */
function readsWholeUpdates(spec: ElementwiseSpec): boolean {
  return (spec.reductions ?? []).some((r) => r.of === 'u') || (spec.expressionReductions ?? []).length > 0;
}

/** Builds (or returns the cached) plan of `tx`. */
export function planOf(tx: GradientTransformation): Plan {
  let plan = plans.get(tx);
  if (plan) return plan;
  const stages: Stage[] = [];
  const layout = collectStages(tx, stages);
  const segments: Segment[] = [];
  let run: number[] = [];
  const flush = (apply: boolean): void => {
    if (run.length === 0 && !apply) return;
    const specs = run.map((i) => (stages[i] as Stage).spec as ElementwiseSpec);
    segments.push({ kind: 'fused', stages: run, apply, ir: traceCached(specs, apply), last: false });
    run = [];
  };
  stages.forEach((stage, i) => {
    if (stage.spec === null) {
      flush(false);
      segments.push({ kind: 'opaque', stage: i });
      return;
    }
    if (run.length > 0 && readsWholeUpdates(stage.spec)) flush(false);
    run.push(i);
  });
  flush(true);
  const lastOpaque = segments.map((s) => s.kind).lastIndexOf('opaque');
  const final = segments.map((s, i) => (s.kind === 'fused' && i > lastOpaque ? { ...s, last: true } : s));
  plan = { stages, layout, segments: final };
  plans.set(tx, plan);
  return plan;
}

/** Whether two specs have the same shape (everything but the hyperparameter values: the same kernel and state), compared without building keys. */
function sameShape(a: ElementwiseSpec, b: ElementwiseSpec): boolean {
  if (a === b) return true;
  if (a.key !== b.key || a.counted !== b.counted || a.needsParams !== b.needsParams || a.slots.length !== b.slots.length) return false;
  if (!a.slots.every((s, i) => s.name === b.slots[i]?.name && storageKey(s.storage) === storageKey(b.slots[i]?.storage))) return false;
  const ra = a.reductions ?? [];
  const rb = b.reductions ?? [];
  if (ra.length !== rb.length) return false;
  for (let i = 0; i < ra.length; i++) {
    const x = ra[i] as ReductionSpec;
    const y = rb[i] as ReductionSpec;
    if (x.name !== y.name || x.of !== y.of || x.op !== y.op || x.scope !== y.scope) return false;
  }
  const ka = a.reductionsInState ?? [];
  const kb = b.reductionsInState ?? [];
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** Collects the stages of `tx` into `out` if it has the structure of `layout` with stages of `plan`'s shapes; false otherwise. */
function stagesLike(tx: GradientTransformation, layout: StateLayout, plan: Plan, out: Stage[]): boolean {
  const f = tx.fusion;
  if (layout.kind === 'node') {
    if (f?.kind !== 'chain' || f.children.length !== layout.children.length) return false;
    for (let i = 0; i < f.children.length; i++) {
      const [key, child] = f.children[i] as readonly [number | string, GradientTransformation];
      const [k, sub] = layout.children[i] as readonly [number | string, StateLayout];
      if (key !== k || !stagesLike(child, sub, plan, out)) return false;
    }
    return true;
  }
  const old = (plan.stages[layout.stage] as Stage).spec;
  if (old === null || f?.kind !== 'elementwise' || !sameShape(f.spec, old)) return false;
  out.push({ tx, spec: f.spec });
  return true;
}

/**
 * The plan of `tx` when it has the shape of `plan` (a lowering combinator
 * builds a new transformation for a step, of the same shape as the last
 * one): `plan`'s segments, kernels and layout with the stages of `tx`, found
 * without tracing or building keys. Otherwise `planOf(tx)`.
 */
export function planLike(tx: GradientTransformation, plan: Plan): Plan {
  const cached = plans.get(tx);
  if (cached !== undefined) return cached;
  const stages: Stage[] = [];
  if (!stagesLike(tx, plan.layout, plan, stages) || stages.length !== plan.stages.length) return planOf(tx);
  const like: Plan = { ...plan, stages };
  plans.set(tx, like);
  return like;
}
