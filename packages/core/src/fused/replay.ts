/**
 * The optimizer's replayed steps: repeats a step that wrote every output in place,
 * without re-validating or re-flattening what the optimizer owns.
 *
 * After a fused step of a single fused run (no opaque stage) that updated the
 * params and the state in place, the next step has the same tensors, the
 * same tree structure and the same kernel launch; only the gradients, the
 * step counts and the scalars change. {@link ReplayedStep.step} checks what can
 * change between steps (the gradients' structure, shapes and dtypes; that the
 * owned tensors still hold their buffers; that the state and params are the
 * objects it returned) and runs the launch, which refuses when a buffer it
 * writes is shared (e.g. somebody took a `tf.clone` of a param); when a
 * check fails it returns null and the caller takes the general path, which
 * raises the usual errors.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { MAX_COUNT, type Params, safeIncrement, type Updates } from '../base.js';
import type { ElementwiseSpec } from '../lang/spec.js';
import { isNode, isPlainObject } from '../tree.js';
import { FallBack } from './fall-back.js';
import type { Captured } from './request.js';
import { segmentScalars } from './scalars.js';
import { buildState } from './state-layout.js';
import { fusedStats } from './stats.js';

/** Collects the leaves of `tree` into `out` if its structure is `def` (a treedef of `treeFlatten`); false otherwise. */
function leavesLike(def: unknown, tree: unknown, out: unknown[]): boolean {
  if (def === null || def === undefined) return tree === null || tree === undefined;
  if (def === '*') {
    if (isNode(tree) || tree === null || tree === undefined) return false;
    out.push(tree);
    return true;
  }
  if (Array.isArray(def)) {
    if (!Array.isArray(tree) || tree.length !== def.length) return false;
    for (let i = 0; i < def.length; i++) if (!leavesLike(def[i], tree[i], out)) return false;
    return true;
  }
  if (!isPlainObject(tree)) return false;
  const keys = Object.keys(def as object).sort();
  if (Object.keys(tree).length !== keys.length) return false;
  for (const k of keys) {
    if (!Object.hasOwn(tree, k) || !leavesLike((def as Record<string, unknown>)[k], tree[k], out)) return false;
  }
  return true;
}

/** A repeatable in-place step (see the module comment). */
export class ReplayedStep {
  private params: Params;
  private state: unknown;
  private readonly stageStates: Record<string, unknown>[];
  private readonly owned: tf.Tensor[];
  private readonly ownedIds: object[];
  private readonly sizes: Int32Array;
  private readonly ownedSet: Set<object>;
  private readonly shapes: (readonly number[])[];
  private readonly uColumn: number;
  private readonly specs: (ElementwiseSpec | null)[];

  constructor(private readonly c: Captured) {
    this.params = c.params;
    this.state = c.state;
    this.stageStates = [...c.stageStates];
    this.specs = c.plan.stages.map((s) => s.spec);
    const owned: tf.Tensor[] = [...c.ps];
    c.seg.stages.forEach((i) => {
      const spec = this.specs[i] as ElementwiseSpec;
      const st = this.stageStates[i] as Record<string, unknown>;
      for (const slot of spec.slots) owned.push(...(leaves(st[slot.name]) as tf.Tensor[]));
      for (const name of spec.reductionsInState ?? []) owned.push(st[name] as tf.Tensor);
    });
    this.owned = owned;
    this.ownedIds = owned.map((t) => t.dataId);
    this.ownedSet = new Set(this.ownedIds);
    this.sizes = Int32Array.from(c.ps, (t) => t.size);
    this.shapes = c.ps.map((t) => t.shape);
    this.uColumn = c.seg.ir.inputs.indexOf('u');
  }

  /** Whether this replayed step belongs to `device` (the backend has not changed). */
  on(device: unknown): boolean {
    return device === this.c.device;
  }

  /**
   * Whether the params and the state still hold the tensors this step owns,
   * in place (a user may have put another tensor into `opt.state` or
   * `opt.params`), and valid step counts; otherwise the general path takes
   * the step (and its checks).
   */
  private holdsOwned(): boolean {
    const current: unknown[] = [];
    if (!leavesLike(this.c.treedef, this.params, current)) return false;
    this.c.seg.stages.forEach((i) => {
      const spec = this.specs[i] as ElementwiseSpec;
      const st = this.stageStates[i] as Record<string, unknown>;
      for (const slot of spec.slots) current.push(...leaves(st[slot.name]));
      for (const name of spec.reductionsInState ?? []) current.push(st[name]);
      if (spec.counted) {
        const count = st.count;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_COUNT) current.push(undefined);
      }
    });
    if (current.length !== this.owned.length) return false;
    for (let i = 0; i < current.length; i++) if (current[i] !== this.owned[i]) return false;
    return true;
  }

  /** One step for `grads`; null when the general path must run instead (nothing has been changed then). */
  step(grads: Updates, state: unknown, params: Params): [Params, unknown] | null {
    const { seg, plan } = this.c;
    if (state !== this.state || params !== this.params) return null;
    const gs: tf.Tensor[] = [];
    if (!leavesLike(this.c.treedef, grads, gs)) return null;
    for (let l = 0; l < gs.length; l++) {
      const g = gs[l] as tf.Tensor;
      if (!(g instanceof tf.Tensor) || g.isDisposed || g.dtype !== 'float32' || g.size !== this.sizes[l]) return null;
      const shape = this.shapes[l] as readonly number[];
      if (g.shape.length !== shape.length) return null;
      for (let d = 0; d < shape.length; d++) if (g.shape[d] !== shape[d]) return null;
      if (this.ownedSet.has(g.dataId)) return null;
    }
    if (!this.holdsOwned()) return null;
    // owned tensors must still hold their buffers (the launch checks that those it writes hold them alone:
    // a tf.clone or a reshape of a param shares its buffer)
    const owned = this.owned;
    for (let i = 0; i < owned.length; i++) {
      const t = owned[i] as tf.Tensor;
      if (t.isDisposed || t.dataId !== this.ownedIds[i]) return null;
    }
    if (this.uColumn >= 0 && !this.c.launch.setColumn(this.uColumn, gs)) return null;
    if (!this.c.launch.setUpdates(gs)) return null;
    const counts = seg.stages.map((i) => {
      const spec = this.specs[i] as ElementwiseSpec;
      return spec.counted ? ((this.stageStates[i] as Record<string, unknown>).count as number) : 0;
    });
    let scalars: Float64Array;
    try {
      scalars = segmentScalars(seg, plan, counts);
    } catch (e) {
      if (e instanceof FallBack) return null;
      throw e;
    }
    if (!this.c.launch.run(scalars)) return null;
    seg.stages.forEach((i) => {
      const spec = this.specs[i] as ElementwiseSpec;
      const old = this.stageStates[i] as Record<string, unknown>;
      const next: Record<string, unknown> = spec.counted ? { count: safeIncrement(old.count as number) } : {};
      for (const slot of spec.slots) next[slot.name] = old[slot.name];
      // the launch wrote the reductions kept in the state into these tensors (its targets)
      for (const name of spec.reductionsInState ?? []) next[name] = old[name];
      this.stageStates[i] = next;
    });
    this.state = buildState(plan.layout, this.stageStates, this.state);
    fusedStats.fast++;
    return [this.params, this.state];
  }
}

function leaves(tree: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (x: unknown): void => {
    if (x === null || x === undefined) return;
    if (Array.isArray(x)) x.forEach(walk);
    else if (isPlainObject(x)) for (const k of Object.keys(x).sort()) walk(x[k]);
    else out.push(x);
  };
  walk(tree);
  return out;
}
