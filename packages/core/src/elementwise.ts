/**
 * Turns an {@link ElementwiseSpec} into a {@link GradientTransformation} that
 * runs on the reference path (tfjs ops inside `tf.tidy`) and advertises its
 * spec to the fused engine.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, MAX_COUNT, type Params, type ParamsTree, safeIncrement, type Updates } from './base.js';
import { combineReduction, expressionReductionsReference, reduceLeaf, tfOps } from './lang/reference.js';
import type { ElementwiseSpec, ScalarStateSpec } from './lang/spec.js';
import { isPacked, type PackedSlot } from './lang/storage/slot-storage.js';
import { checkSlot, checkStorageBackend, decodeSlot, encodeSlot, initSlot } from './packed-state.js';
import { assertSameShapes, describe, isTensor, treeFlatten, treeUnflatten } from './tree.js';
import { checkFloatTree, checkStateKeys, requireParams } from './validate.js';

/**
 * The state of an element-wise transform: the step `count` (when the spec is
 * counted), one tree per slot, with the params' structure (a packed slot, see
 * `SlotSpec.storage`, holds its code trees instead), and one scalar float32
 * tensor per name in `reductionsInState`.
 */
export type ElementwiseState = { count?: number } & { [slot: string]: unknown };

/**
 * The state type of the transformation made from `spec` (a spec written as
 * an object literal): `count` when it is counted, a {@link ParamsTree} per
 * slot, a scalar tensor per name in `reductionsInState`.
 */
export type ElementwiseStateOf<Spec extends ElementwiseSpec> = (Spec['counted'] extends true ? { count: number } : unknown) & {
  [K in Spec['slots'][number]['name']]: ParamsTree;
} & { [K in NonNullable<Spec['reductionsInState']>[number]]: tf.Tensor } & {
  [K in NonNullable<Spec['scalarState']>[number]['name']]: tf.Tensor;
};

/** The state keys a spec's state must have. */
export function stateKeys(spec: ElementwiseSpec): string[] {
  return [
    ...(spec.counted ? ['count'] : []),
    ...spec.slots.map((s) => s.name),
    ...(spec.reductionsInState ?? []),
    ...(spec.scalarState ?? []).map((s) => s.name),
  ];
}

/**
 * Builds the initial state of `spec` for `params`: count 0 and every slot filled with its init value.
 *
 * @internal
 */
export function initElementwiseState(spec: ElementwiseSpec, params: Params): ElementwiseState {
  checkFloatTree(spec.name, 'params', params);
  const state: ElementwiseState = spec.counted ? { count: 0 } : {};
  // every slot's storage is checked before any slot is made, so a refusal leaks nothing
  for (const slot of spec.slots) checkStorageBackend(spec.name, slot.storage);
  for (const slot of spec.slots) state[slot.name] = initSlot(spec.name, slot.storage, params, slot.init);
  for (const name of spec.reductionsInState ?? []) state[name] = tf.scalar(0, 'float32');
  for (const s of spec.scalarState ?? []) state[s.name] = tf.scalar(s.init, 'float32');
  return state;
}

/** Checks the inputs of one update of `spec`, naming the argument or path at fault. */
export function checkElementwiseInputs(spec: ElementwiseSpec, updates: Updates, state: ElementwiseState, params?: Params): void {
  checkFloatTree(spec.name, 'updates', updates);
  checkStateKeys(spec.name, state, stateKeys(spec));
  if (spec.counted && (typeof state.count !== 'number' || !Number.isInteger(state.count) || state.count < 0 || state.count > MAX_COUNT)) {
    throw new Error(`${spec.name}: state.count must be an integer from 0 to ${MAX_COUNT}, got ${describe(state.count)}`);
  }
  for (const slot of spec.slots) checkSlot(spec.name, slot.name, slot.storage, state[slot.name], updates);
  for (const { name } of spec.scalarState ?? []) {
    const t = state[name];
    if (!isTensor(t) || t.size !== 1 || t.dtype !== 'float32') {
      throw new Error(`${spec.name}: state.${name} must be a float32 scalar tensor, got ${describe(t)}`);
    }
  }
  if (spec.needsParams) {
    requireParams(spec.name, params);
    checkFloatTree(spec.name, 'params', params);
    assertSameShapes(updates, params, ['updates', 'params']);
  }
}

/**
 * A body's output as a leaf of `shape`: a scalar (or lower-rank) result is
 * broadcast, and a zero-size leaf stays empty (a `tf.where` over an empty
 * tensor and a scalar would otherwise give shape [1]).
 */
function fitShape(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  if (tf.util.sizeFromShape(shape as number[]) === 0) return tf.zeros(shape as number[]);
  return tf.broadcastTo(t, shape as number[]);
}

/**
 * The scalars a body reads on the reference path, in the order the language
 * defines: `scalars(count)`, the scalar state, the expression reductions,
 * `updateScalars`' results, then the reductions (global in `k`, per leaf in
 * `perLeaf`).
 */
function referenceScalars(
  spec: ElementwiseSpec,
  scalars: Readonly<Record<string, number>>,
  state: ElementwiseState,
  xs: readonly Record<string, tf.Tensor>[],
  ps: readonly tf.Tensor[],
): { k: Record<string, tf.Tensor>; perLeaf: Record<string, tf.Tensor>[] } {
  const us = xs.map((x) => x.u as tf.Tensor);
  const k: Record<string, tf.Tensor> = {};
  for (const [name, value] of Object.entries(scalars)) k[name] = tf.scalar(value, 'float32');
  for (const { name } of spec.scalarState ?? []) k[name] = tf.reshape(state[name] as tf.Tensor, []);
  Object.assign(k, expressionReductionsReference(spec, xs as never, { ...k }));
  if (spec.updateScalars) Object.assign(k, spec.updateScalars(tfOps, { ...k }));
  const perLeaf: Record<string, tf.Tensor>[] = us.map(() => ({}));
  for (const r of spec.reductions ?? []) {
    const source = r.of === 'u' ? us : ps;
    if (r.scope === 'global') {
      k[r.name] = combineReduction(
        r.op,
        source.map((x) => reduceLeaf(r.op, x)),
        source.reduce((n, x) => n + x.size, 0),
      );
    } else {
      source.forEach((x, i) => {
        (perLeaf[i] as Record<string, tf.Tensor>)[r.name] = combineReduction(r.op, [reduceLeaf(r.op, x)], x.size);
      });
    }
  }
  return { k, perLeaf };
}

/**
 * Runs one update of `spec` with tfjs ops (the reference path). Inputs are not disposed.
 *
 * @internal
 */
export function referenceUpdate(
  spec: ElementwiseSpec,
  updates: Updates,
  state: ElementwiseState,
  params?: Params,
): [Updates, ElementwiseState] {
  checkElementwiseInputs(spec, updates, state, params);
  const count = spec.counted ? (state.count as number) : 0;
  const scalars = spec.scalars(count);
  return tf.tidy(() => {
    const { leaves: us, treedef } = treeFlatten<tf.Tensor>(updates);
    const ps = spec.needsParams ? treeFlatten<tf.Tensor>(params).leaves : [];
    const slotLeaves = spec.slots.map((s) =>
      isPacked(s.storage)
        ? decodeSlot(
            s.storage,
            state[s.name] as PackedSlot,
            us.map((u) => u.shape),
          )
        : treeFlatten<tf.Tensor>(state[s.name]).leaves,
    );
    const xs = us.map((u, i) => {
      const x: Record<string, tf.Tensor> = { u };
      if (spec.needsParams) x.p = ps[i] as tf.Tensor;
      spec.slots.forEach((s, j) => {
        x[s.name] = slotLeaves[j]?.[i] as tf.Tensor;
      });
      return x;
    });
    const { k, perLeaf } = referenceScalars(spec, scalars, state, xs, ps);
    const outU: tf.Tensor[] = [];
    const outSlots: tf.Tensor[][] = spec.slots.map(() => []);
    us.forEach((u, i) => {
      const x = xs[i] as Record<string, tf.Tensor>;
      const out = spec.body(tfOps, x as never, { ...k, ...perLeaf[i] });
      outU.push(fitShape(out.u === u ? tf.clone(u) : out.u, u.shape));
      spec.slots.forEach((s, j) => {
        (outSlots[j] as tf.Tensor[]).push(tf.clone(fitShape(out[s.name] ?? (x[s.name] as tf.Tensor), u.shape)));
      });
    });
    const next: ElementwiseState = spec.counted ? { count: safeIncrement(count) } : {};
    spec.slots.forEach((s, j) => {
      const leaves = outSlots[j] as tf.Tensor[];
      next[s.name] = isPacked(s.storage) ? encodeSlot(s.storage, treedef, leaves) : treeUnflatten(treedef, leaves);
    });
    for (const name of spec.reductionsInState ?? []) next[name] = tf.clone(k[name] as tf.Tensor);
    for (const s of spec.scalarState ?? []) next[s.name] = nextScalar(spec, s, k[s.next]);
    return [
      treeUnflatten<Updates>(
        treedef,
        outU.map((t) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'))),
      ),
      next,
    ] as never;
  });
}

/** The new value of scalar state `s`: the scalar `s.next` of `updateScalars`, as a float32 scalar tensor. */
function nextScalar(spec: ElementwiseSpec, s: ScalarStateSpec, value: tf.Tensor | undefined): tf.Tensor {
  if (value === undefined) throw new Error(`${spec.name}: updateScalars returned no \`${s.next}\` (the new value of state.${s.name})`);
  const t = tf.reshape(value, []);
  return t.dtype === 'float32' ? tf.clone(t) : tf.cast(t, 'float32');
}

/**
 * Makes a gradient transformation from a per-element description. Its
 * `update` is the reference path; its `fusion` field lets the fused engine
 * compile it together with its neighbours in a chain.
 */
export function elementwise<const Spec extends ElementwiseSpec>(spec: Spec): GradientTransformation<ElementwiseStateOf<Spec>>;
export function elementwise(spec: ElementwiseSpec): GradientTransformation<ElementwiseState> {
  for (const name of spec.reductionsInState ?? []) {
    if (!spec.reductions?.some((r) => r.name === name && r.scope === 'global')) {
      throw new Error(`${spec.name}: reductionsInState names \`${name}\`, which is not a global reduction of the spec`);
    }
  }
  if ((spec.scalarState ?? []).length > 0 && !spec.updateScalars) {
    throw new Error(`${spec.name}: a spec with scalarState needs updateScalars (which gives each scalar its new value)`);
  }
  return {
    fusion: { kind: 'elementwise', spec },
    init: (params) => initElementwiseState(spec, params),
    update: (updates, state, params) => referenceUpdate(spec, updates, state, params),
  };
}
