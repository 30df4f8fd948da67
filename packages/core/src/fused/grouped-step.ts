/**
 * Steps of a combinator that splits its leaves into groups (`masked`,
 * `partition`; see `GroupedStep`): each group's transformation takes a step
 * of its own on the updates and params with the other groups' subtrees
 * `null` (fused, and replayed by the optimizer, group by group), then the
 * params are put back together leaf by leaf and the state is finished.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, GroupedStep, LeafGroup, LoweringInputs, Params, Updates } from '../base.js';
import { isTensor, treeFlatten, treeLeaves, treeUnflatten } from '../tree.js';
import { splitChain } from './chain-groups.js';
import { fusedStats } from './stats.js';

/** A group of a step with the trees it steps on and where its params go among the step's leaves. */
export interface PreparedGroup {
  readonly group: LeafGroup;
  readonly updates: Updates;
  readonly params: Params;
  /** For each of its params' leaves, the index of that leaf among the step's params. */
  readonly at: readonly number[];
}

/** A grouped step ready to run: its groups, and how to rebuild the params and state. */
export interface PreparedSplit {
  readonly split: GroupedStep;
  readonly groups: readonly PreparedGroup[];
  readonly leaves: number;
  readonly treedef: ReturnType<typeof treeFlatten>['treedef'];
}

/**
 * The step of `tx` on `state` split by groups of leaves, with each group's
 * trees; null when `tx` is not a grouping combinator (or a chain with one,
 * see `splitChain`) or its step cannot be
 * split so (a mask or labels that do not fit the trees, a param leaf given
 * twice, a leaf in no group or in two: the combinator's own `update` then
 * runs, and raises the canonical error). Nothing is stepped yet.
 */
export function prepareSplit(
  tx: GradientTransformation,
  state: unknown,
  params: Params,
  extraArgs: ExtraArgs | undefined,
  inputs: LoweringInputs,
): PreparedSplit | null {
  const f = tx.fusion;
  if (f?.kind !== 'groups' && f?.kind !== 'chain') return null;
  try {
    const split = f.kind === 'groups' ? f.split(state, extraArgs, inputs) : splitChain(tx, state, extraArgs, inputs);
    if (split === null) return null;
    const { leaves, treedef } = treeFlatten<tf.Tensor>(params);
    const index = new Map<unknown, number>(leaves.map((t, i) => [t, i]));
    if (index.size !== leaves.length || !leaves.every(isTensor)) return null;
    const seen = new Uint8Array(leaves.length);
    const groups = split.groups.map((group) => {
      const p = group.select(params) as Params;
      const at = treeLeaves(p).map((t) => index.get(t) as number);
      for (const i of at) seen[i] = (seen[i] as number) + 1;
      return { group, updates: group.select(inputs.updates) as Updates, params: p, at };
    });
    return seen.every((n) => n === 1) ? { split, groups, leaves: leaves.length, treedef } : null;
  } catch {
    return null;
  }
}

/**
 * Runs each group of `prepared` with `stepGroup` (which returns the group's
 * new params and state, as a step does), then rebuilds the params of the
 * whole tree and finishes the combinator's state. `fusedStats` counts the
 * whole as one step: `reference` if a group ran there, else `fused` if a
 * group took the general fused path, else `fast` (every group replayed).
 */
export function runGroups(
  prepared: PreparedSplit,
  donated: boolean,
  stepGroup: (g: PreparedGroup, index: number) => [Params, unknown],
): [Params, unknown] {
  const before = { fused: fusedStats.fused, fast: fusedStats.fast, reference: fusedStats.reference };
  const out: unknown[] = new Array(prepared.leaves);
  const states = prepared.groups.map((g, i) => {
    const [params, state] = stepGroup(g, i);
    treeLeaves(params).forEach((t, k) => {
      out[g.at[k] as number] = t;
    });
    return state;
  });
  const path = fusedStats.reference > before.reference ? 'reference' : fusedStats.fused > before.fused ? 'fused' : 'fast';
  Object.assign(fusedStats, before);
  fusedStats[path]++;
  return [treeUnflatten<Params>(prepared.treedef, out as tf.Tensor[]), prepared.split.finish(states, donated)];
}
