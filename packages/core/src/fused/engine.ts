/**
 * The fused engine: runs one step of a transformation and the param update
 * (`tx.update` + `applyUpdates`) as compiled kernels, with donation.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ExtraArgs, type GradientTransformation, type Params, safeIncrement, type Updates } from '../base.js';
import { checkElementwiseInputs } from '../elementwise.js';
import { lowerStep } from '../lowering.js';
import { isTensor, treeFlatten, treeLeaves, treeUnflatten } from '../tree.js';
import { applyUpdates } from '../update.js';
import { checkFloatTree, showValue } from '../validate.js';
import { type Plan, planOf, type Segment, type Stage, type StateLayout } from './compile.js';
import { CpuDevice } from './cpu.js';
import { type Device, type DeviceReduction, isFusedEnabled, type Launch, type LaunchReductions } from './runtime.js';
import type { ElementwiseSpec, ReductionSpec } from './spec.js';
import { WasmDevice, wasmMemoryOf } from './wasm.js';

/** Which inputs of a step are donated (see {@link fusedUpdate}). */
export interface DonateOptions {
  /** The params (default false). `tf.Variable` params are assigned in place and returned, never consumed. */
  params?: boolean;
  /** Every tensor of the state (default false). */
  state?: boolean;
  /** The updates (gradients) (default false). */
  updates?: boolean;
}

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

const devices = new WeakMap<tf.KernelBackend, Device | null>();
const registry = new Map<string, (backend: tf.KernelBackend) => Device | null>();

/**
 * Registers the fused device of a tfjs backend: from then on, `fusedUpdate`
 * and `createOptimizer` run fused steps on `deviceOf(backend)` whenever
 * `backendName` is tfjs's current backend (`null` from `deviceOf`: no fused
 * path there). For backend packages such as `@gradtx/webgpu`; the `cpu` and
 * `wasm` devices are built in. A registration replaces an earlier one for
 * the same name.
 */
export function registerFusedDevice(backendName: string, deviceOf: (backend: tf.KernelBackend) => Device | null): void {
  if (typeof backendName !== 'string' || typeof deviceOf !== 'function') {
    throw new Error(
      `registerFusedDevice: expected a backend name and a function (backend) => Device | null, got ${showValue(backendName)}, ${String(deviceOf)}`,
    );
  }
  registry.set(backendName, deviceOf);
  registryVersion++;
}
let registryVersion = 0;
const deviceVersion = new WeakMap<tf.KernelBackend, number>();

/**
 * The fused device of tfjs's current backend: built in for `cpu` and `wasm`,
 * registered by a package for others (see {@link registerFusedDevice}), or
 * `null` when the backend has none (then steps run on the reference path).
 */
export function currentDevice(): Device | null {
  const name = tf.getBackend();
  const backend = tf.backend();
  let d = devices.get(backend);
  if (d === undefined || deviceVersion.get(backend) !== registryVersion) {
    const custom = registry.get(name);
    if (custom !== undefined) d = custom(backend);
    else if (name === 'cpu') d = typeof (backend as unknown as { data?: unknown }).data === 'object' ? new CpuDevice(backend) : null;
    else if (name === 'wasm') {
      const mem = wasmMemoryOf(backend);
      d = mem === null ? null : new WasmDevice(backend, mem);
    } else d = null;
    devices.set(backend, d);
    deviceVersion.set(backend, registryVersion);
  }
  return d;
}

/**
 * Counts of steps by path, for tests and diagnostics: `fused` (steps run by
 * the fused engine's general path), `fast` (repeated in-place steps of
 * `createOptimizer`), `reference` (steps run on the reference path).
 */
export const fusedStats: { fused: number; fast: number; reference: number } = { fused: 0, reference: 0, fast: 0 };

function isVariable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable;
}

/**
 * Disposes a donated tensor and marks it, so that any later use raises an
 * error that says why (rather than tfjs's bare "Tensor is disposed").
 */
export function consume(t: tf.Tensor, by: string): void {
  if (t.isDisposed || isVariable(t)) return;
  t.dispose();
  const message = `${by}: this tensor was donated to a step and has been consumed (disposed); use the params and state that the step returned`;
  Object.defineProperty(t, 'throwIfDisposed', {
    configurable: true,
    value: () => {
      throw new Error(message);
    },
  });
  Object.defineProperty(t, 'dataId', {
    configurable: true,
    get: () => {
      throw new Error(message);
    },
  });
}

function tensorLeaves(tree: unknown): tf.Tensor[] {
  return treeLeaves(tree).filter(isTensor) as tf.Tensor[];
}

/** Normalised donation flags. */
export interface Donation {
  readonly params: boolean;
  readonly state: boolean;
  readonly updates: boolean;
}

/** Normalises the `donate` option. */
export function donation(d: boolean | DonateOptions | undefined): Donation {
  if (d === true) return { params: true, state: true, updates: false };
  if (d === undefined || d === false) return { params: false, state: false, updates: false };
  return { params: d.params === true, state: d.state === true, updates: d.updates === true };
}

/** One step's request. */
export interface StepRequest {
  readonly tx: GradientTransformation;
  readonly updates: Updates;
  readonly state: unknown;
  readonly params: Params;
  readonly donate: Donation;
  /** Whether outputs written in place keep the input tensor objects (the optimizer) rather than new objects (fusedUpdate). */
  readonly reuse: boolean;
  /** Whether donated buffers may be overwritten (default true); false writes every output to a fresh tensor. */
  readonly inPlace?: boolean;
  readonly extraArgs?: ExtraArgs;
  /** The name used in messages. */
  readonly by: string;
  /** Called after a fused step that wrote every output in place, with what a later step needs to repeat it (the optimizer's fast path). */
  readonly capture?: (c: Captured) => void;
}

/** What a step that wrote everything in place leaves for {@link FastStep}-style repetition. */
export interface Captured {
  readonly device: Device;
  readonly plan: Plan;
  /**
   * The plan's fused runs, in order, each with its kernel launch: one, or
   * two when a reduction reads the first run's output (the second run reads
   * `scratch`).
   */
  readonly runs: readonly {
    readonly seg: Extract<Segment, { kind: 'fused' }>;
    readonly launch: Launch;
    /** Whether the run's input updates are the gradients (the first run's, and a later one's after a run that left them as they were), else `scratch`. */
    readonly readsGrads: boolean;
  }[];
  /** The first run's output updates when there are two runs: buffers the replayed step now owns (and disposes). */
  readonly scratch: readonly tf.Tensor[];
  /** The params leaves (also the params output) and their tree structure. */
  readonly ps: readonly tf.Tensor[];
  readonly treedef: unknown;
  /** The returned params tree and state. */
  readonly params: Params;
  readonly state: unknown;
  /** Per stage of the plan: its new state object (count, slot trees, reductions kept in the state). */
  readonly stageStates: readonly Record<string, unknown>[];
}

/** Assigns a fresh value into a donated Variable (or returns the fresh tensor when it is not one). */
function settleParam(old: tf.Tensor, fresh: tf.Tensor, donate: boolean): tf.Tensor {
  if (donate && isVariable(old) && fresh !== old) {
    (old as tf.Variable).assign(fresh);
    fresh.dispose();
    return old;
  }
  return fresh;
}

/** The reference step: `tx.update` with tfjs ops, then `applyUpdates`, then donation. */
export function referenceStep(req: StepRequest): [Params, unknown] {
  const { tx, updates, state, params, donate, extraArgs } = req;
  // a transformation breaking the purity contract could hand back an input: never dispose those
  // (collected first: reading a consumed input throws, and then nothing has been computed yet)
  const inputs = new Set<tf.Tensor>([...tensorLeaves(updates), ...tensorLeaves(params), ...tensorLeaves(state)]);
  const [u, s] = extraArgs === undefined ? tx.update(updates, state, params) : tx.update(updates, state, params, extraArgs);
  const fresh = (ts: tf.Tensor[]) => ts.filter((t) => !inputs.has(t));
  let p: Params;
  try {
    p = applyUpdates(params, u);
  } catch (e) {
    tf.dispose(fresh(tensorLeaves(s)));
    throw e;
  } finally {
    tf.dispose(fresh(tensorLeaves(u)));
  }
  fusedStats.reference++;
  const kept = new Set<tf.Tensor>([...tensorLeaves(p), ...tensorLeaves(s)]);
  if (donate.state) for (const t of tensorLeaves(state)) if (!kept.has(t)) consume(t, req.by);
  if (donate.updates) for (const t of tensorLeaves(updates)) if (!kept.has(t)) consume(t, req.by);
  if (donate.params) {
    const { leaves: olds, treedef } = treeFlatten<tf.Tensor>(params);
    const { leaves: news } = treeFlatten<tf.Tensor>(p);
    if (olds.length === news.length) {
      const settled = news.map((n, i) => (isTensor(n) && isTensor(olds[i]) ? settleParam(olds[i] as tf.Tensor, n, true) : n));
      const out = new Set(settled);
      for (const t of olds) if (isTensor(t) && !out.has(t)) consume(t, req.by);
      p = treeUnflatten(treedef, settled);
    }
  }
  return [p, s];
}

/** Reads the state of each stage out of the transformation's state into `out`; false when it does not have the layout's shape. */
export function stageStates(layout: StateLayout, state: unknown, out: unknown[]): boolean {
  if (layout.kind === 'stage') {
    out[layout.stage] = state;
    return true;
  }
  if (layout.children.length === 0) {
    if (state === null || typeof state !== 'object') return false;
  } else if (layout.array) {
    if (!Array.isArray(state) || state.length !== layout.children.length) return false;
  } else if (state === null || typeof state !== 'object' || Array.isArray(state)) return false;
  return layout.children.every(
    ([key, child]) => (layout.array || key in (state as object)) && stageStates(child, (state as never)[key], out),
  );
}

/** Builds the transformation's state from each stage's new state, with the containers of the old state. */
export function buildState(layout: StateLayout, stages: readonly unknown[], old: unknown): unknown {
  if (layout.kind === 'stage') return stages[layout.stage];
  if (Array.isArray(old)) return layout.children.map(([key, child]) => buildState(child, stages, old[key as number]));
  return Object.fromEntries(layout.children.map(([key, child]) => [key, buildState(child, stages, (old as Record<string, unknown>)[key])]));
}

/** Thrown inside a step when the fused path cannot continue and nothing donated has been touched yet. */
export class Abort extends Error {}

function combine(op: ReductionSpec['op'], partials: readonly number[], count: number): number {
  if (partials.length === 0) return op === 'meanSq' ? Number.NaN : 0;
  if (op === 'maxAbs') {
    let m = partials[0] as number;
    for (const x of partials) if (Number.isNaN(x) || x > m) m = x;
    return m;
  }
  let total = 0;
  for (const x of partials) total = Math.fround(total + x);
  if (op === 'meanSq') return Math.fround(total / count);
  if (op === 'l2') return Math.fround(Math.sqrt(total));
  return total;
}

function baseOp(op: ReductionSpec['op']): 'sumSq' | 'sum' | 'maxAbs' {
  return op === 'sum' ? 'sum' : op === 'maxAbs' ? 'maxAbs' : 'sumSq';
}

interface ElementwiseStageState {
  count: number;
  slots: tf.Tensor[][];
  raw: Record<string, unknown>;
}

/**
 * Runs one step on the fused path. Returns null, having changed nothing, when
 * the step cannot run there (the caller then runs the reference path, which
 * also raises the canonical error for bad inputs).
 */
export function fusedStep(req: StepRequest, device: Device, plan: Plan): [Params, unknown] | null {
  const { updates, params, donate } = req;
  // ---- checks that decide the path, before any side effect
  let us: tf.Tensor[];
  let ps: tf.Tensor[];
  let treedef: ReturnType<typeof treeFlatten>['treedef'];
  const stageState: unknown[] = [];
  const ew: (ElementwiseStageState | null)[] = plan.stages.map(() => null);
  try {
    checkFloatTree(req.by, 'updates', updates);
    checkFloatTree(req.by, 'params', params);
    ({ leaves: us, treedef } = treeFlatten<tf.Tensor>(updates));
    const pf = treeFlatten<tf.Tensor>(params);
    ps = pf.leaves;
    if (JSON.stringify(pf.treedef) !== JSON.stringify(treedef)) return null;
    for (let l = 0; l < us.length; l++) {
      const u = us[l] as tf.Tensor;
      const p = ps[l] as tf.Tensor;
      if (!tf.util.arraysEqual(u.shape, p.shape) || !device.resident(u) || !device.resident(p)) return null;
    }
    if (!stageStates(plan.layout, req.state, stageState)) return null;
    for (const seg of plan.segments) {
      if (seg.kind !== 'fused') continue;
      if (!device.prepare(seg.ir)) return null;
      for (const i of seg.stages) {
        const spec = plan.stages[i]?.spec as ElementwiseSpec;
        const st = stageState[i] as Record<string, unknown>;
        checkElementwiseInputs(spec, updates, st as never, params);
        const slots = spec.slots.map((s) => treeFlatten<tf.Tensor>(st[s.name]).leaves);
        for (const leaves of slots) for (const t of leaves) if (!device.resident(t)) return null;
        for (const name of spec.reductionsInState ?? []) {
          const t = st[name];
          if (!isTensor(t) || t.size !== 1 || t.dtype !== 'float32' || !device.resident(t)) return null;
        }
        ew[i] = { count: spec.counted ? (st.count as number) : 0, slots, raw: st };
      }
    }
  } catch {
    return null;
  }

  // buffers that appear more than once among the inputs must not be overwritten
  const uses = new Map<object, number>();
  const note = (t: tf.Tensor) => uses.set(t.dataId, (uses.get(t.dataId) ?? 0) + 1);
  us.forEach(note);
  ps.forEach(note);
  plan.stages.forEach((stage, i) => {
    const s = ew[i];
    if (!s) return;
    for (const leaves of s.slots) leaves.forEach(note);
    for (const name of stage.spec?.reductionsInState ?? []) note(s.raw[name] as tf.Tensor);
  });
  const inPlace = req.inPlace !== false;
  const writable = (t: tf.Tensor, donated: boolean) => inPlace && donated && uses.get(t.dataId) === 1 && device.exclusive(t);

  const created = new Set<tf.Tensor>(); // tensors made during the step (cleaned up if it fails)
  const inputSet = new Set<tf.Tensor>([...us, ...ps, ...tensorLeaves(req.state)]);
  const newStage: unknown[] = plan.stages.map(() => undefined);
  let cur = us;
  let curTree: Updates = updates;
  let curOwned = false;
  let newParams: tf.Tensor[] | null = null;
  const launches: Launch[] = [];
  const readsGrads: boolean[] = []; // per fused run: whether its input updates are the gradients (else the previous run's output)
  const pPartials = new Map<string, number[]>();
  try {
    for (const seg of plan.segments) {
      if (seg.kind === 'opaque') {
        const stage = plan.stages[seg.stage] as { tx: GradientTransformation };
        const st = stageState[seg.stage];
        const [u2, s2] =
          req.extraArgs === undefined ? stage.tx.update(curTree, st, params) : stage.tx.update(curTree, st, params, req.extraArgs);
        for (const t of tensorLeaves(s2)) if (!inputSet.has(t)) created.add(t);
        const flat = treeFlatten<tf.Tensor>(u2);
        const reused = flat.leaves.some((t) => inputSet.has(t));
        for (const t of flat.leaves) if (isTensor(t) && !inputSet.has(t)) created.add(t);
        const ok =
          !reused &&
          flat.leaves.length === us.length &&
          JSON.stringify(flat.treedef) === JSON.stringify(treedef) &&
          flat.leaves.every(
            (t, l) =>
              isTensor(t) && t.dtype === 'float32' && tf.util.arraysEqual(t.shape, (us[l] as tf.Tensor).shape) && device.resident(t),
          );
        if (!ok) throw new Abort();
        if (curOwned) {
          const next = new Set(flat.leaves);
          for (const t of cur)
            if (!next.has(t)) {
              created.delete(t);
              t.dispose();
            }
        }
        cur = flat.leaves;
        curTree = u2;
        curOwned = true;
        newStage[seg.stage] = s2;
        continue;
      }
      readsGrads.push(cur === us);
      const ctx: RunContext = { cur, curOwned, ps, ew, writable, created, newStage, pPartials };
      runFused(seg, req, device, plan, ctx, (out) => {
        if (out.params) newParams = out.params;
        if (out.u) {
          if (curOwned) {
            const next = new Set(out.u);
            for (const t of cur)
              if (!next.has(t)) {
                created.delete(t);
                t.dispose();
              }
          }
          cur = out.u;
          curTree = treeUnflatten(treedef, cur);
          curOwned = true;
        }
      });
      if (ctx.launch) launches.push(ctx.launch.launch);
    }
  } catch (e) {
    for (const t of created) t.dispose();
    if (e instanceof Abort) return null;
    throw e;
  }
  fusedStats.fused++;

  // ---- results: params, state; consume what was donated and not returned
  const outParams = (newParams as unknown as tf.Tensor[]).map((n, l) => settleParam(ps[l] as tf.Tensor, n, donate.params));
  const outState = buildState(plan.layout, newStage, req.state);
  const returned = new Set<tf.Tensor>([...outParams, ...tensorLeaves(outState)]);
  if (donate.params) for (const t of ps) if (!returned.has(t)) consume(t, req.by);
  if (donate.state) for (const t of tensorLeaves(req.state)) if (!returned.has(t)) consume(t, req.by);
  if (donate.updates) for (const t of us) if (!returned.has(t)) consume(t, req.by);
  const outTree = treeUnflatten<Params>(treedef, outParams);
  // a repeatable step: one fused run, or two with the first run's output as the only tensors made, all else in place
  const scratch = plan.segments.length === 2 && curOwned ? cur : [];
  const repeatable =
    req.capture !== undefined &&
    req.reuse &&
    launches.length === plan.segments.length &&
    launches.length <= 2 &&
    created.size === scratch.length &&
    scratch.every((t) => created.has(t) && !returned.has(t)) &&
    outParams.every((t, l) => t === ps[l]);
  if (curOwned && !repeatable) for (const t of cur) if (!returned.has(t) && !t.isDisposed) t.dispose();
  if (repeatable && req.capture) {
    for (const t of scratch) tf.keep(t);
    req.capture({
      device,
      plan,
      runs: plan.segments.map((seg, i) => ({
        seg: seg as Extract<Segment, { kind: 'fused' }>,
        launch: launches[i] as Launch,
        readsGrads: readsGrads[i] as boolean,
      })),
      scratch,
      ps,
      treedef,
      params: outTree,
      state: outState,
      stageStates: newStage as Record<string, unknown>[],
    });
  }
  return [outTree, outState];
}

interface RunContext {
  cur: tf.Tensor[];
  curOwned: boolean;
  ps: tf.Tensor[];
  ew: (ElementwiseStageState | null)[];
  writable: (t: tf.Tensor, donated: boolean) => boolean;
  created: Set<tf.Tensor>;
  newStage: unknown[];
  pPartials: Map<string, number[]>;
  /** The last segment's launch, for the optimizer's fast path. */
  launch?: { launch: Launch; scalars: Float64Array; leafScalars: Float64Array; outs: tf.Tensor[][] };
}

/** The scalars of one launch of a fused segment. */
export interface SegmentScalars {
  /** One float32-rounded value per IR scalar (per-leaf ones unused). */
  readonly scalars: Float64Array;
  /** `[l * nLeaf + s]`: the per-leaf scalars. */
  readonly leafScalars: Float64Array;
  /** Per stage of the segment: the values of its global reductions. */
  readonly globalValues: readonly Map<string, number>[];
}

/**
 * Computes the scalars of a fused segment: its stages' `scalars(count)`
 * (`counts[j]` for stage `j` of the segment) and its reductions over `cur`
 * (the segment's input updates) and `ps` (the params), as the reference path
 * computes them. Throws {@link Abort} when a body reads a scalar that the
 * spec does not provide.
 */
export function segmentScalars(
  seg: Extract<Segment, { kind: 'fused' }>,
  plan: Plan,
  counts: readonly number[],
  cur: readonly tf.Tensor[],
  ps: readonly tf.Tensor[],
  device: Device,
  pPartials: Map<string, number[]> = new Map(),
): SegmentScalars {
  const ir = seg.ir;
  const onDevice = device.reducesOnDevice === true;
  // reductions: per-leaf partials, shared between reductions of the same kind
  const uPartials = new Map<string, number[]>();
  const partials = (of: 'u' | 'p', op: 'sumSq' | 'sum' | 'maxAbs'): number[] => {
    const memo = of === 'u' ? uPartials : pPartials;
    let got = memo.get(op);
    if (!got) {
      const src = of === 'u' ? cur : ps;
      got = src.map((t) => device.partial(op, t));
      memo.set(op, got);
    }
    return got;
  };
  let total = 0;
  for (const t of cur) total += t.size;
  const globalValues: Map<string, number>[] = seg.stages.map(() => new Map());
  const leafValues: Map<string, number[]>[] = seg.stages.map(() => new Map());
  seg.stages.forEach((i, j) => {
    const spec = plan.stages[i]?.spec as ElementwiseSpec;
    if (onDevice) return;
    for (const r of spec.reductions ?? []) {
      const part = partials(r.of, baseOp(r.op));
      if (r.scope === 'global') (globalValues[j] as Map<string, number>).set(r.name, combine(r.op, part, total));
      else
        (leafValues[j] as Map<string, number[]>).set(
          r.name,
          part.map((x, l) => combine(r.op, [x], (cur[l] as tf.Tensor).size)),
        );
    }
  });
  const stageScalars = seg.stages.map((i, j) => ((plan.stages[i] as Stage).spec as ElementwiseSpec).scalars(counts[j] as number));
  const scalars = new Float64Array(ir.scalars.length);
  const leafRefs: { name: string; stage: number }[] = [];
  ir.scalars.forEach((s, idx) => {
    if (onDevice && s.source !== 'param') return; // filled by the device
    if (s.source === 'leaf') {
      leafRefs.push({ name: s.key, stage: s.stage });
      return;
    }
    const v = s.source === 'global' ? globalValues[s.stage]?.get(s.key) : (stageScalars[s.stage] as Record<string, number>)[s.key];
    if (typeof v !== 'number') throw new Abort();
    scalars[idx] = Math.fround(v);
  });
  const L = cur.length;
  const nls = leafRefs.length;
  const leafScalars = new Float64Array(L * nls);
  leafRefs.forEach((r, s) => {
    const vals = leafValues[r.stage]?.get(r.name) as number[];
    for (let l = 0; l < L; l++) leafScalars[l * nls + s] = Math.fround(vals[l] as number);
  });
  return { scalars, leafScalars, globalValues };
}

/**
 * For a device that reduces on its own: the reductions that feed the IR's
 * reduction scalars (the last spec entry of a name wins, a per-leaf one over
 * a global one, as on the reference path).
 */
export function deviceReductions(seg: Extract<Segment, { kind: 'fused' }>, plan: Plan): DeviceReduction[] {
  const out: DeviceReduction[] = [];
  seg.ir.scalars.forEach((s, idx) => {
    if (s.source === 'param') return;
    const spec = (plan.stages[seg.stages[s.stage] as number] as Stage).spec as ElementwiseSpec;
    const r = [...(spec.reductions ?? [])].reverse().find((x) => x.name === s.key && x.scope === s.source) as ReductionSpec;
    out.push({ of: r.of, op: r.op, scope: r.scope, scalar: idx });
  });
  return out;
}

/** A reduction kept in the state, as a device reduction writing into `target`. */
export function stateReduction(spec: ElementwiseSpec, name: string, target: tf.Tensor): DeviceReduction {
  const r = [...(spec.reductions ?? [])].reverse().find((x) => x.name === name && x.scope === 'global') as ReductionSpec;
  return { of: r.of, op: r.op, scope: 'global', target };
}

/** The tensors an IR input reads, one per leaf: the run's updates, the params, or a stage's slot. */
function inputColumn(name: string, seg: Extract<Segment, { kind: 'fused' }>, plan: Plan, ctx: RunContext): tf.Tensor[] {
  if (name === 'u') return ctx.cur;
  if (name === 'p') return ctx.ps;
  const colon = name.indexOf(':');
  const i = seg.stages[Number(name.slice(1, colon))] as number;
  const slot = name.slice(colon + 1);
  const spec = plan.stages[i]?.spec as ElementwiseSpec;
  return (ctx.ew[i] as ElementwiseStageState).slots[spec.slots.findIndex((s) => s.name === slot)] as tf.Tensor[];
}

/** Runs one fused segment: reductions, scalars, destinations, the kernel, the new stage states. */
function runFused(
  seg: Extract<Segment, { kind: 'fused' }>,
  req: StepRequest,
  device: Device,
  plan: Plan,
  ctx: RunContext,
  done: (out: { params?: tf.Tensor[]; u?: tf.Tensor[] }) => void,
): void {
  const { cur, ps, ew, created } = ctx;
  const ir = seg.ir;
  const inPlace = seg.last;
  const { scalars, leafScalars, globalValues } = segmentScalars(
    seg,
    plan,
    seg.stages.map((i) => (ew[i] as ElementwiseStageState).count),
    cur,
    ps,
    device,
    ctx.pPartials,
  );
  // columns: the arrays each IR input reads and each output writes, per leaf
  const inputs = ir.inputs.map((name) => inputColumn(name, seg, plan, ctx));
  const outs: tf.Tensor[][] = ir.outputs.map((o) => {
    const src = o.name === 'u' ? cur : inputColumn(o.name, seg, plan, ctx);
    return src.map((s) => {
      let t: tf.Tensor;
      if (o.name === 'u') {
        if (ctx.curOwned) t = device.exclusive(s) ? s : device.alloc(s.shape);
        else t = inPlace && ctx.writable(s, req.donate.updates) ? s : device.alloc(s.shape);
      } else {
        const donated = o.name === 'p' ? req.donate.params : req.donate.state;
        t = inPlace && ctx.writable(s, donated) ? s : device.alloc(s.shape);
      }
      if (t !== s) created.add(t);
      return t;
    });
  });
  // a device that reduces on its own gets the reductions, and writes those kept in the state into their tensors
  const targets = new Map<string, tf.Tensor>();
  let reductions: LaunchReductions | undefined;
  if (device.reducesOnDevice === true) {
    const list = deviceReductions(seg, plan);
    seg.stages.forEach((i, j) => {
      const spec = plan.stages[i]?.spec as ElementwiseSpec;
      for (const name of spec.reductionsInState ?? []) {
        const old = (ew[i] as ElementwiseStageState).raw[name] as tf.Tensor;
        const t = inPlace && ctx.writable(old, req.donate.state) ? old : device.alloc([]);
        if (t !== old) created.add(t);
        targets.set(`${j}:${name}`, t);
        list.push(stateReduction(spec, name, t));
      }
    });
    reductions = { u: cur, p: ps, list };
  }
  const launch = device.launch(ir, [...inputs, ...outs], reductions);
  launch.run(scalars, leafScalars);
  ctx.launch = { launch, scalars, leafScalars, outs };
  // outputs written over an input: the optimizer keeps the object; fusedUpdate
  // returns a new tensor on the same buffer (the donated input is consumed later)
  const finalize = (t: tf.Tensor): tf.Tensor => {
    if (req.reuse || created.has(t) || isVariable(t)) return t;
    device.backend.incRef(t.dataId);
    const w = tf.engine().makeTensorFromDataId(t.dataId, t.shape, 'float32', device.backend);
    created.add(w);
    return w;
  };
  ir.outputs.forEach((o, k) => {
    if (o.name !== 'u') outs[k] = (outs[k] as tf.Tensor[]).map(finalize);
  });
  // new stage states
  seg.stages.forEach((i, j) => {
    const spec = plan.stages[i]?.spec as ElementwiseSpec;
    const old = ew[i] as ElementwiseStageState;
    const next: Record<string, unknown> = spec.counted ? { count: safeIncrement(old.count) } : {};
    spec.slots.forEach((s, si) => {
      const name = `s${j}:${s.name}`;
      const k = ir.outputs.findIndex((o) => o.name === name);
      const olds = old.slots[si] as tf.Tensor[];
      const leaves =
        k >= 0
          ? (outs[k] as tf.Tensor[])
          : olds.map((t) => {
              if (req.donate.state) return finalize(t);
              const c = tf.clone(t);
              created.add(c);
              return c;
            });
      next[s.name] = treeUnflatten(treeFlatten(old.raw[s.name]).treedef, leaves);
    });
    for (const name of spec.reductionsInState ?? []) {
      const v = (globalValues[j] as Map<string, number>).get(name) ?? 0;
      const t = old.raw[name] as tf.Tensor;
      const target = targets.get(`${j}:${name}`);
      let out: tf.Tensor;
      if (target !== undefined) out = finalize(target);
      else if (inPlace && ctx.writable(t, req.donate.state)) {
        device.setScalar(t, Math.fround(v));
        out = finalize(t);
      } else {
        out = tf.scalar(v, 'float32');
        created.add(out);
      }
      next[name] = out;
    }
    ctx.newStage[i] = next;
  });
  const pi = ir.outputs.findIndex((o) => o.name === 'p');
  const ui = ir.outputs.findIndex((o) => o.name === 'u');
  done({ params: pi >= 0 ? outs[pi] : undefined, u: ui >= 0 ? outs[ui] : undefined });
}

/**
 * Runs one step: `tx.update(updates, state, params)` followed by
 * `applyUpdates`, returning `[newParams, newState]`. On the `cpu` and `wasm`
 * backends, the element-wise stages of `tx` run as fused kernels (one pass
 * over the data per run of stages, reductions as a short prelude); other
 * stages run as their own `update`; other backends run the reference path.
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

/**
 * {@link fusedStep} of the request's step lowered (see `lowerStep`): a
 * lowering combinator's step runs as the step of the plain transformation it
 * lowers to, and its new state is finished from that one's.
 */
function loweredFusedStep(req: StepRequest, device: Device): [Params, unknown] | null {
  const low = lowerStep(req.tx, req.state, req.extraArgs);
  if (low === null || low.tx === req.tx) return fusedStep(req, device, planOf(req.tx));
  const out = fusedStep({ ...req, tx: low.tx, state: low.state }, device, planOf(low.tx));
  return out === null ? null : [out[0], low.finish(out[1], req.donate.state)];
}

/** Runs a step on the fused path where it applies, else on the reference path. */
export function runStep(req: StepRequest, fused: boolean): [Params, unknown] {
  let out: [Params, unknown] | null = null;
  if (fused && isFusedEnabled()) {
    const device = currentDevice();
    if (device !== null) out = loweredFusedStep(req, device);
  }
  out ??= referenceStep(req);
  // The donated inputs are gone, so what the step made must outlive an enclosing tf.tidy.
  if (req.donate.params || req.donate.state) for (const t of tensorLeaves(out)) tf.keep(t);
  return out;
}
