/**
 * A grouping combinator inside a chain (`chain(scaleByAdam(),
 * masked(addDecayedWeights(…), mask), scaleByLearningRate(…))`, which is
 * `adamw` with a mask): when every other member of the chain is element-wise
 * and works leaf by leaf (no tree-wide reduction, no scalar state, no packed
 * slots), the chain's step is the same as one step per group of the chain
 * with the grouping member replaced by that group's transformation, each on
 * the group's leaves; the other members' slots are split by the same groups
 * and put back together leaf by leaf after the step (their counts advance
 * alike in every group).
 *
 * @module
 */
import type { ExtraArgs, GradientTransformation, GroupedStep, LoweringInputs } from '../base.js';
import { chain, namedChain } from '../combine.js';
import type { ElementwiseSpec } from '../lang/spec.js';
import { isPacked } from '../lang/storage/slot-storage.js';
import { treeFlatten, treeLeaves, treeUnflatten } from '../tree.js';

type Members = readonly (readonly [key: number | string, tx: GradientTransformation])[];

/** The spec of a member that works leaf by leaf (so it may be split by groups), or null. */
function leafwiseSpec(tx: GradientTransformation): ElementwiseSpec | null {
  const f = tx.fusion;
  if (f?.kind !== 'elementwise') return null;
  const s = f.spec;
  const global = (s.reductions ?? []).some((r) => r.scope === 'global');
  const scalar = (s.expressionReductions ?? []).length > 0 || (s.scalarState ?? []).length > 0;
  return global || scalar || s.slots.some((slot) => isPacked(slot.storage)) ? null : s;
}

/** Each chain's group chains, by group, with the group transformation each was made for (so a step reuses them and replays). */
const groupChains = new WeakMap<GradientTransformation, Map<number, { member: GradientTransformation; tx: GradientTransformation }>>();

/** The chain `tx` with its member `at` replaced by `member`, the same object for the same group and member every step. */
function groupChain(tx: GradientTransformation, members: Members, at: number, group: number, member: GradientTransformation) {
  let byGroup = groupChains.get(tx);
  if (byGroup === undefined) {
    byGroup = new Map();
    groupChains.set(tx, byGroup);
  }
  const cached = byGroup.get(group);
  if (cached?.member === member) return cached.tx;
  const txs = members.map(([key, m], i) => [key, i === at ? member : m] as const);
  const made = txs.every(([key]) => typeof key === 'number')
    ? chain(...txs.map(([, m]) => m))
    : namedChain(...txs.map(([key, m]) => [String(key), m] as [string, GradientTransformation]));
  byGroup.set(group, { member, tx: made });
  return made;
}

/** A chain's state rebuilt from one value per member (an array, or an object by name). */
function chainState(members: Members, value: (key: number | string, i: number) => unknown): unknown {
  const values = members.map(([key], i) => [key, value(key, i)] as const);
  return members.every(([key]) => typeof key === 'number') ? values.map(([, v]) => v) : Object.fromEntries(values);
}

/** The slot trees of stage states of the groups put back together: each slot's leaves at their places in the whole tree. */
function mergeSlots(
  spec: ElementwiseSpec,
  states: readonly Record<string, unknown>[],
  at: readonly number[][],
  whole: { readonly treedef: ReturnType<typeof treeFlatten>['treedef']; readonly leaves: number },
) {
  const out: Record<string, unknown> = { ...states[0] };
  for (const slot of spec.slots) {
    const merged: unknown[] = new Array(whole.leaves);
    states.forEach((st, g) => {
      treeLeaves(st[slot.name]).forEach((t, k) => {
        merged[(at[g] as number[])[k] as number] = t;
      });
    });
    out[slot.name] = treeUnflatten(whole.treedef, merged as never[]);
  }
  return out;
}

/**
 * The step of chain `tx` on `state` split by the groups of its one grouping
 * member, or null when the chain has none, more than one, a member that
 * does not work leaf by leaf, a grouping member whose groups depend on its
 * incoming updates' values and that does not come first, or one whose groups
 * see other extra arguments than the chain.
 */
export function splitChain(
  tx: GradientTransformation,
  state: unknown,
  extraArgs: ExtraArgs | undefined,
  inputs: LoweringInputs,
): GroupedStep | null {
  const f = tx.fusion;
  if (f?.kind !== 'chain') return null;
  const members = f.children;
  const at = members.findIndex(([, m]) => m.fusion?.kind === 'groups');
  if (at < 0) return null;
  const specs = members.map(([, m], i) => (i === at ? null : leafwiseSpec(m)));
  if (specs.some((s, i) => i !== at && s === null)) return null;
  const st = state as Record<number | string, Record<string, unknown>>;
  const [key, member] = members[at] as readonly [number | string, GradientTransformation];
  const split = (member.fusion as Extract<GradientTransformation['fusion'], { kind: 'groups' }>).split(st[key], extraArgs, inputs);
  if (split === null || (split.readsUpdates && at > 0) || split.groups.some((g) => g.extraArgs !== extraArgs)) return null;
  // each group's leaves: their places among the whole tree's
  const { leaves, treedef } = treeFlatten(inputs.updates);
  const index = treeUnflatten(treedef, leaves.map((_, i) => i) as never[]);
  const places = split.groups.map((g) => treeLeaves(g.select(index)) as number[]);
  return {
    readsUpdates: split.readsUpdates,
    groups: split.groups.map((g, gi) => ({
      tx: groupChain(tx, members, at, gi, g.tx),
      state: chainState(members, (k, i) => {
        if (i === at) return g.state;
        const own = { ...st[k] };
        for (const slot of (specs[i] as ElementwiseSpec).slots) own[slot.name] = g.select(own[slot.name]);
        return own;
      }),
      select: g.select,
      extraArgs,
    })),
    finish(states, donated) {
      const byGroup = states as readonly Record<number | string, unknown>[];
      return chainState(members, (k, i) => {
        const parts = byGroup.map((s) => s[k]);
        if (i === at) return split.finish(parts, donated);
        return mergeSlots(specs[i] as ElementwiseSpec, parts as Record<string, unknown>[], places, { treedef, leaves: leaves.length });
      });
    },
  };
}
