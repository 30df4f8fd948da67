/**
 * How a transformation runs on one flat buffer: which of its stages may work
 * on the concatenation of all leaves (element-wise ones), and which must see
 * the tree (everything else), plus the flat transformation that runs them so.
 *
 * @module
 */
import type { ElementwiseSpec, ExtraArgs, GradientTransformation, Params, TreeDef, Updates } from '@gradtx/core';
import { isTensor, treeFlatten, treeUnflatten } from '@gradtx/core';
import { type Plan, planOf, type StateLayout } from '@gradtx/core/engine';
import * as tf from '@tensorflow/tfjs-core';
import type { Packer } from './native.js';

/**
 * A stage of a transformation, as the flat runner sees it:
 * - `flat`: element-wise with no per-leaf reduction, so running it once on the
 *   concatenation of all leaves is the same math as running it per leaf;
 * - `tree`: anything else (per-leaf norms, factored moments, masks, random
 *   noise, ...): it runs on the tree, as its own `update`;
 * - `chain`: a `chain` / `namedChain`, with each member's key in the chain's state.
 */
export type FlatNode =
  | { readonly kind: 'flat'; readonly tx: GradientTransformation; readonly spec: ElementwiseSpec }
  | { readonly kind: 'tree'; readonly tx: GradientTransformation; readonly why: string }
  | {
      readonly kind: 'chain';
      readonly array: boolean;
      readonly children: readonly (readonly [number | string, FlatNode])[];
    };

/** One stage of core's plan as a flat or a tree stage. */
function flatStage(tx: GradientTransformation): FlatNode {
  const f = tx.fusion;
  if (f?.kind === 'elementwise') {
    const leafReduction = (f.spec.reductions ?? []).find((r) => r.scope === 'leaf');
    if (leafReduction) return { kind: 'tree', tx, why: `${f.spec.name} reduces over each leaf (\`${leafReduction.name}\`)` };
    const packed = f.spec.slots.find((s) => s.storage !== undefined && s.storage.dtype !== 'float32');
    if (packed) return { kind: 'tree', tx, why: `${f.spec.name} stores \`${packed.name}\` as ${packed.storage?.dtype}` };
    return { kind: 'flat', tx, spec: f.spec };
  }
  return { kind: 'tree', tx, why: 'not element-wise' };
}

function fromLayout(plan: Plan, layout: StateLayout): FlatNode {
  if (layout.kind === 'node') {
    return { kind: 'chain', array: layout.array, children: layout.children.map(([key, child]) => [key, fromLayout(plan, child)] as const) };
  }
  return flatStage((plan.stages[layout.stage] as Plan['stages'][number]).tx);
}

/**
 * Splits `tx` into flat / tree stages: core's plan of `tx` (its stages, and
 * the layout of its state that follows the `chain` nesting), read stage by
 * stage.
 */
export function analyse(tx: GradientTransformation): FlatNode {
  const plan = planOf(tx);
  return fromLayout(plan, plan.layout);
}

/** Counts the flat and tree stages of a plan. */
export function countStages(node: FlatNode): { flat: number; tree: number } {
  if (node.kind === 'chain') {
    return node.children.reduce(
      (acc, [, c]) => {
        const n = countStages(c);
        return { flat: acc.flat + n.flat, tree: acc.tree + n.tree };
      },
      { flat: 0, tree: 0 },
    );
  }
  return node.kind === 'flat' ? { flat: 1, tree: 0 } : { flat: 0, tree: 1 };
}

/** The leaves of the params as the flat runner knows them: the packer and the tree structure. */
export interface FlatLayout {
  readonly packer: Packer;
  readonly treedef: TreeDef;
}

/** A flat buffer as a tree with the params' structure (new tensors). */
export function unflattenTree(layout: FlatLayout, flat: tf.Tensor): Params {
  return treeUnflatten<Params>(layout.treedef, layout.packer.unpack(flat));
}

/** The leaves of a tree with the params' structure, packed into one buffer (a new tensor). */
export function flattenTree(layout: FlatLayout, tree: unknown, what: string): tf.Tensor1D {
  const { leaves } = treeFlatten<tf.Tensor>(tree);
  if (leaves.length !== layout.packer.shapes.length || !leaves.every(isTensor)) {
    throw new Error(`createNodeOptimizer: ${what} must be a tree of ${layout.packer.shapes.length} tensors like the params`);
  }
  return layout.packer.pack(leaves);
}

/**
 * A transformation on the flat buffer (a tree with one 1-D leaf) that does
 * what `node` does on the tree: `flat` stages run on the buffer, `tree`
 * stages on the buffer split back into the params' structure (and their
 * output is packed again). Used when a plan mixes both kinds; a plan with
 * only `flat` stages runs the transformation itself on the buffer.
 */
export function flatTransformation(node: FlatNode, layout: FlatLayout): GradientTransformation {
  const init = (n: FlatNode, flatParams: tf.Tensor, treeParams: () => Params): unknown => {
    if (n.kind === 'flat') return n.tx.init(flatParams);
    if (n.kind === 'tree') return n.tx.init(treeParams());
    const states = n.children.map(([, c]) => init(c, flatParams, treeParams));
    return n.array ? states : Object.fromEntries(n.children.map(([key], i) => [key, states[i]]));
  };
  const update = (
    n: FlatNode,
    u: tf.Tensor,
    state: unknown,
    flatParams: tf.Tensor | undefined,
    treeParams: () => Params | undefined,
    extraArgs: ExtraArgs | undefined,
  ): [tf.Tensor, unknown] => {
    if (n.kind === 'flat') {
      const [out, s] = extraArgs === undefined ? n.tx.update(u, state, flatParams) : n.tx.update(u, state, flatParams, extraArgs);
      return [out as tf.Tensor, s];
    }
    if (n.kind === 'tree') {
      const tu = unflattenTree(layout, u);
      const tp = treeParams();
      const [out, s] = extraArgs === undefined ? n.tx.update(tu, state, tp) : n.tx.update(tu, state, tp, extraArgs);
      return [flattenTree(layout, out, 'the updates of a stage'), s];
    }
    // a chain: the members in order, each on its own part of the state
    const name = n.array ? 'chain' : 'namedChain';
    if (n.array && (!Array.isArray(state) || state.length !== n.children.length)) {
      throw new Error(`${name}: expected a state array of length ${n.children.length} (one per transformation), got ${String(state)}`);
    }
    if (!n.array && (state === null || typeof state !== 'object'))
      throw new Error(`${name}: expected a state object keyed by name, got ${String(state)}`);
    let cur = u;
    const next: unknown[] = [];
    for (const [key, child] of n.children) {
      if (!n.array && !(key in (state as object))) throw new Error(`${name}: the state has no entry \`${String(key)}\``);
      const [out, s] = update(child, cur, (state as Record<string | number, unknown>)[key], flatParams, treeParams, extraArgs);
      cur = out;
      next.push(s);
    }
    return [cur, n.array ? next : Object.fromEntries(n.children.map(([key], i) => [key, next[i]]))];
  };
  return {
    init(params: Params) {
      const flat = params as tf.Tensor;
      return tf.tidy(() => {
        let tree: Params | undefined;
        return init(node, flat, () => {
          tree ??= unflattenTree(layout, flat);
          return tree;
        }) as tf.TensorContainer;
      });
    },
    update(updates: Updates, state: unknown, params?: Params, extraArgs?: ExtraArgs): [Updates, unknown] {
      const flatParams = params === null || params === undefined ? undefined : (params as tf.Tensor);
      return tf.tidy(() => {
        let tree: Params | undefined;
        const treeParams = () => {
          if (flatParams === undefined) return undefined;
          tree ??= unflattenTree(layout, flatParams);
          return tree;
        };
        const [u, s] = update(node, updates as tf.Tensor, state, flatParams, treeParams, extraArgs);
        return [u, s] as tf.TensorContainer;
      }) as unknown as [Updates, unknown];
    },
  };
}

/**
 * The state of `node` (a state on the flat buffer) with the params' structure:
 * each per-element slot of a `flat` stage is split into the params' tree (new
 * tensors, collected in `created`); every other value is passed as it is.
 */
export function treeShapedState(node: FlatNode, state: unknown, layout: FlatLayout, created: tf.Tensor[]): unknown {
  if (node.kind === 'tree') return state;
  if (node.kind === 'flat') {
    if (state === null || typeof state !== 'object') return state;
    const out: Record<string, unknown> = { ...(state as Record<string, unknown>) };
    for (const slot of node.spec.slots) {
      const v = out[slot.name];
      if (isTensor(v)) {
        const leaves = layout.packer.unpack(v);
        created.push(...leaves);
        out[slot.name] = treeUnflatten(layout.treedef, leaves);
      }
    }
    return out;
  }
  if (node.array) {
    return node.children.map(([key, child]) => treeShapedState(child, (state as unknown[])[key as number], layout, created));
  }
  return Object.fromEntries(
    node.children.map(([key, child]) => [key, treeShapedState(child, (state as Record<string, unknown>)[key as string], layout, created)]),
  );
}
