/**
 * The optimizer's replayed steps: repeats a step that wrote every output in place,
 * without re-validating or re-flattening what the optimizer owns.
 *
 * After a fused step of one fused run (or two, when a reduction reads the
 * first run's output) that updated the params and the state in place, the
 * next step has the same tensors, the same tree structure and the same kernel
 * launches; only the gradients, the step counts and the scalars change.
 * {@link ReplayedStep.step} checks what can change between steps (the
 * gradients' structure, shapes and dtypes; that the params and the state
 * still hold the tensors it owns, read from the state passed in, so edits to
 * the state are seen) and runs the launches. A launch refuses, having changed
 * nothing, when a buffer it writes is no longer its tensor's alone (e.g.
 * somebody took a `tf.clone` of a param); when a check fails or a launch
 * refuses, `step` returns null and the caller takes the general path, which
 * raises the usual errors. The trees are read by readers built once, at
 * capture, from the params' structure.
 *
 * A lowering combinator (`injectHyperparams`, `multiSteps`) builds a plain
 * transformation for every step: the step replays when that one's plan runs
 * the captured kernels on stages of the same state shape
 * ({@link ReplayedStep.accepts}), with its own scalars.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { MAX_COUNT, type Params, safeIncrement, type Updates } from '../base.js';
import type { ElementwiseSpec } from '../lang/spec.js';
import { isPacked, isPackedSlot } from '../lang/storage/slot-storage.js';
import { isNode, isPlainObject } from '../tree.js';
import { FallBack } from './fall-back.js';
import type { FusedSegment, Plan, StateLayout } from './plan.js';
import type { Captured } from './request.js';
import { segmentScalars } from './scalars.js';
import { buildState, splitState } from './state-layout.js';
import { fusedStats } from './stats.js';

/** Collects the leaves of a tree into `out` if the tree has a given structure; false otherwise (see {@link readerOf}). */
type TreeReader = (tree: unknown, out: unknown[]) => boolean;

/**
 * A reader of trees of structure `def` (a treedef of `treeFlatten`): leaves
 * in `treeFlatten`'s order (object keys sorted), with the keys of every
 * object sorted once here rather than at every step.
 */
function readerOf(def: unknown): TreeReader {
  if (def === null || def === undefined) return (tree) => tree === null || tree === undefined;
  if (def === '*') {
    return (tree, out) => {
      if (tree === null || tree === undefined || isNode(tree)) return false;
      out.push(tree);
      return true;
    };
  }
  if (Array.isArray(def)) {
    const items = def.map(readerOf);
    return (tree, out) => {
      if (!Array.isArray(tree) || tree.length !== items.length) return false;
      for (let i = 0; i < items.length; i++) if (!(items[i] as TreeReader)(tree[i], out)) return false;
      return true;
    };
  }
  const keys = Object.keys(def as object).sort();
  if (keys.every((k) => (def as Record<string, unknown>)[k] === '*')) return recordReader(keys);
  const items = keys.map((k) => readerOf((def as Record<string, unknown>)[k]));
  return (tree, out) => {
    if (!isPlainObject(tree) || Object.keys(tree).length !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (!Object.hasOwn(tree, k) || !(items[i] as TreeReader)(tree[k], out)) return false;
    }
    return true;
  };
}

/**
 * A reader of flat records of leaves with these (sorted) keys: the common
 * params tree (`model.getWeights()` by name), without a call per leaf. It
 * reads plain property values (no own-property check, no leaf check): what
 * it collects is then compared with the owned tensors or checked to be
 * gradient tensors, which no inherited property or nested node can pass.
 */
function recordReader(keys: readonly string[]): TreeReader {
  return (tree, out) => {
    if (!isPlainObject(tree) || Object.keys(tree).length !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) {
      const leaf = tree[keys[i] as string];
      if (leaf === undefined) return false;
      out.push(leaf);
    }
    return true;
  };
}

/** Whether an element-wise stage's step count is one the general path would accept. */
function validCount(count: unknown): boolean {
  return typeof count === 'number' && Number.isInteger(count) && count >= 0 && count <= MAX_COUNT;
}

/** A repeatable in-place step (see the module comment). */
export class ReplayedStep {
  private readonly owned: tf.Tensor[];
  private readonly ownedIds: object[];
  private readonly ownedSet: Set<object>;
  private readonly sizes: Int32Array;
  private readonly shapes: (readonly number[])[];
  /** Per run: the column of its kernel that reads the gradients (-1: none, or it reads the scratch). */
  private readonly uColumns: number[];
  /** Reads a tree with the params' structure (the gradients, the params, every slot). */
  private readonly read: TreeReader;

  constructor(private readonly c: Captured) {
    this.read = readerOf(c.treedef);
    const collected: unknown[] = [...c.ps];
    this.collect(c.plan, c.stageStates, collected);
    // (a state the readers cannot read leaves nothing owned: no step replays then)
    const owned = collected.every((t) => t instanceof tf.Tensor) ? (collected as tf.Tensor[]) : [];
    this.owned = owned;
    this.ownedIds = owned.map((t) => t.dataId);
    this.ownedSet = new Set(this.ownedIds);
    this.sizes = Int32Array.from(c.ps, (t) => t.size);
    this.shapes = c.ps.map((t) => t.shape);
    this.uColumns = c.runs.map((run) => (run.readsGrads ? run.seg.ir.inputs.indexOf('u') : -1));
  }

  /** The plan of the captured step. */
  get plan(): Plan {
    return this.c.plan;
  }

  /** Whether this replayed step belongs to `device` (the backend has not changed). */
  on(device: unknown): boolean {
    return device === this.c.device;
  }

  /**
   * Appends the tensors the runs' stages own (their slots' leaves and the
   * reductions kept in the state), in a fixed order, to `out`; a stage state
   * the readers cannot read, or an invalid step count, appends `undefined`
   * (so the comparison with the owned tensors fails).
   */
  private collect(plan: Plan, states: readonly unknown[], out: unknown[]): void {
    for (const { seg } of this.c.runs)
      for (const i of seg.stages) {
        const spec = plan.stages[i]?.spec as ElementwiseSpec;
        const st = states[i] as Record<string, unknown>;
        if (st === null || typeof st !== 'object') {
          out.push(undefined);
          continue;
        }
        for (const slot of spec.slots) {
          // a packed slot owns its code words (and an int8 slot its block scales), each a tree like the params
          const v = st[slot.name];
          const packed = isPacked(slot.storage) && isPackedSlot(v);
          if (!this.read(packed ? v.codes : v, out)) out.push(undefined);
          if (packed && v.dtype === 'int8' && !this.read(v.scales, out)) out.push(undefined);
        }
        for (const name of spec.reductionsInState ?? []) out.push(st[name]);
        if (spec.counted && !validCount(st.count)) out.push(undefined);
      }
  }

  /**
   * Whether the params and the state still hold the tensors this step owns,
   * in place (a user may have put another tensor into `opt.state` or
   * `opt.params`), with valid step counts; otherwise the general path takes
   * the step (and its checks).
   */
  private holdsOwned(params: Params, plan: Plan, states: readonly unknown[]): boolean {
    const current: unknown[] = [];
    if (!this.read(params, current)) return false;
    this.collect(plan, states, current);
    const owned = this.owned;
    if (owned.length === 0 || current.length !== owned.length) return false;
    for (let i = 0; i < current.length; i++) if (current[i] !== owned[i]) return false;
    // the owned tensors still hold their buffers (the launches check that those they write hold them alone)
    for (let i = 0; i < owned.length; i++) {
      const t = owned[i] as tf.Tensor;
      if (t.isDisposed || t.dataId !== this.ownedIds[i]) return false;
    }
    return true;
  }

  /**
   * Whether `plan` (a lowering combinator builds a new transformation for a
   * step) runs the captured kernels on stages with the same state: then a
   * step of it replays with `plan`'s scalars.
   */
  accepts(plan: Plan): boolean {
    const mine = this.c.plan;
    if (plan === mine || (plan.segments === mine.segments && plan.layout === mine.layout)) return true; // (planLike checked the stages)
    const runs = this.c.runs;
    if (plan.segments.length !== runs.length || !sameLayout(plan.layout, mine.layout)) return false;
    if (!plan.segments.every((seg, i) => seg.kind === 'fused' && seg.ir === runs[i]?.seg.ir)) return false;
    if (plan.stages.length !== mine.stages.length) return false;
    return plan.stages.every((st, i) => {
      const a = st.spec;
      const b = mine.stages[i]?.spec;
      if (a === null || b === null || b === undefined) return a === b;
      return (
        a.counted === b.counted &&
        sameNames(
          a.slots.map((x) => x.name),
          b.slots.map((x) => x.name),
        ) &&
        sameNames(a.reductionsInState ?? [], b.reductionsInState ?? [])
      );
    });
  }

  /** The gradients' leaves when they fit the captured step (structure, shapes, dtype, not an owned buffer); else null. */
  private gradients(grads: Updates): tf.Tensor[] | null {
    const gs: tf.Tensor[] = [];
    if (!this.read(grads, gs)) return null;
    for (let l = 0; l < gs.length; l++) {
      const g = gs[l] as tf.Tensor;
      if (!(g instanceof tf.Tensor) || g.isDisposed || g.dtype !== 'float32' || g.size !== this.sizes[l]) return null;
      const shape = this.shapes[l] as readonly number[];
      if (g.shape.length !== shape.length) return null;
      for (let d = 0; d < shape.length; d++) if (g.shape[d] !== shape[d]) return null;
      if (this.ownedSet.has(g.dataId)) return null;
    }
    return gs;
  }

  /**
   * Whether every buffer the second run writes is still its tensor's alone
   * (checked before the first run writes anything, so that a refusal of the
   * second launch can never leave the step half done).
   */
  private secondRunWritable(): boolean {
    const { device, scratch } = this.c;
    for (const t of scratch) if (t.isDisposed || !device.exclusive(t)) return false;
    for (const t of this.owned) if (!device.exclusive(t)) return false;
    return true;
  }

  /**
   * One step for `grads` of the transformation planned as `plan` (the
   * captured one unless a lowering combinator built a new one for this
   * step), on `state`; null when the general path must run instead (nothing
   * has been changed then).
   */
  step(grads: Updates, state: unknown, params: Params, plan: Plan = this.c.plan): [Params, unknown] | null {
    if (!this.accepts(plan)) return null;
    const gs = this.gradients(grads);
    if (gs === null) return null;
    const states: unknown[] = [];
    if (!splitState(plan.layout, state, states) || !this.holdsOwned(params, plan, states)) return null;
    const runs = this.c.runs;
    const specs = plan.stages.map((s) => s.spec);
    const segments = plan.segments as readonly FusedSegment[];
    const scalars: Float64Array[] = [];
    try {
      for (const seg of segments) {
        const counts = seg.stages.map((i) => (specs[i]?.counted ? ((states[i] as Record<string, unknown>).count as number) : 0));
        scalars.push(segmentScalars(seg, plan, counts));
      }
    } catch (e) {
      if (e instanceof FallBack) return null;
      throw e;
    }
    for (let r = 0; r < runs.length; r++) {
      const { launch, readsGrads } = runs[r] as (typeof runs)[number];
      const column = this.uColumns[r] as number;
      if (column >= 0 && !launch.setColumn(column, gs)) return null;
      if (readsGrads && !launch.setUpdates(gs)) return null;
    }
    if (runs.length > 1 && !this.secondRunWritable()) return null;
    const next = [...states];
    for (let r = 0; r < runs.length; r++) {
      if (!(runs[r] as (typeof runs)[number]).launch.run(scalars[r] as Float64Array)) {
        if (r === 0) return null; // (nothing written)
        throw new Error('gradtx: internal error: the second run of a replayed step found a buffer it writes shared');
      }
      this.nextStates(segments[r] as FusedSegment, specs, states, next);
    }
    fusedStats.fast++;
    return [params, buildState(plan.layout, next, state)];
  }

  /** The new states of a run's stages (the same tensors, written in place by the launch, reductions kept in the state included) into `next`. */
  private nextStates(seg: FusedSegment, specs: readonly (ElementwiseSpec | null)[], states: readonly unknown[], next: unknown[]): void {
    for (const i of seg.stages) {
      const spec = specs[i] as ElementwiseSpec;
      const old = states[i] as Record<string, unknown>;
      const st: Record<string, unknown> = spec.counted ? { count: safeIncrement(old.count as number) } : {};
      for (const slot of spec.slots) st[slot.name] = old[slot.name];
      for (const name of spec.reductionsInState ?? []) st[name] = old[name];
      next[i] = st;
    }
  }

  /** Frees what this step owns beyond the params and state (the scratch between two runs). */
  dispose(): void {
    for (const t of this.c.scratch) if (!t.isDisposed) t.dispose();
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether two state layouts have the same shape (the same nesting, keys and stage indices). */
function sameLayout(a: StateLayout, b: StateLayout): boolean {
  if (a.kind === 'stage' || b.kind === 'stage') return a.kind === 'stage' && b.kind === 'stage' && a.stage === b.stage;
  return (
    a.array === b.array &&
    a.children.length === b.children.length &&
    a.children.every(([key, child], i) => {
      const other = b.children[i];
      return other !== undefined && other[0] === key && sameLayout(child, other[1]);
    })
  );
}
