/**
 * Partitioning: `partition` and its older name `multiTransform` (optax
 * `partition` / `multi_transform`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, GroupedStep, LoweringInputs, Params, Updates } from '../base.js';
import { formatPath, type PathKey } from '../tree.js';
import { checkBoolean, checkStateKeys, checkTransformation, type OptionDefaults, resolveOptions, showValue } from '../validate.js';
import type { MaskedState } from './masked.js';
import { mapPrefix, maskExtraArgs, maskKind, type PrefixKind } from './prefix-tree.js';

/**
 * Labels: strings in a tree with the params' structure, or a prefix of it (a
 * label at a node applies to every leaf below it).
 */
export type LabelTree = string | null | undefined | readonly LabelTree[] | { readonly [key: string]: LabelTree };

/** A {@link LabelTree}, or a function from the params (or updates) to one. */
export type ParamLabels = LabelTree | ((params: Params) => LabelTree);

/** Options of {@link partition}. */
export interface PartitionOptions {
  /**
   * Also mask every extra argument of `update` that has the structure of the
   * updates, so each transformation sees only its own part (default false).
   */
  maskCompatibleExtraArgs?: boolean;
}

/** The state of {@link partition}: one masked inner state per label. */
export interface PartitionState {
  /** For each label, `{ innerState }` of its transformation (masked to its leaves). */
  innerStates: Record<string, MaskedState>;
}

const labelKind = (fn: string): PrefixKind => ({ fn, what: 'labels', isLeaf: (x) => typeof x === 'string', rule: 'a string' });

/** The defaults of {@link partition}'s options (`undefined`: no default). */
export const partitionDefaults: OptionDefaults<PartitionOptions> = Object.freeze({ maskCompatibleExtraArgs: false });

/**
 * Applies a different transformation to each part of the params: every leaf
 * carries a label (from `paramLabels`), and `transforms[label]` transforms the
 * leaves with that label, seeing the other leaves as `null` (so it keeps state
 * for its own leaves only).
 *
 * `paramLabels` is a tree of strings with the params' structure (or a prefix
 * of it), or a function from the params to one; the function is called with
 * the params at `init` and with the updates at `update`. A label without a
 * transformation throws, naming the label and its path.
 *
 * State `{ innerStates: { [label]: { innerState } } }`. Reference: optax
 * `partition`.
 *
 * @example
 * ```ts
 * const tx = partition(
 *   { adam: adam(1e-3), frozen: setToZero() },
 *   { encoder: 'frozen', head: 'adam' },
 * );
 * ```
 */
export function partition(
  transforms: Readonly<Record<string, GradientTransformation>>,
  paramLabels: ParamLabels,
  options: PartitionOptions = {},
): GradientTransformation<PartitionState> {
  const fn = 'partition';
  const o = resolveOptions(fn, options, partitionDefaults);
  if (transforms === null || typeof transforms !== 'object' || Array.isArray(transforms)) {
    throw new Error(`${fn}: \`transforms\` must be an object mapping labels to transformations, got ${showValue(transforms)}`);
  }
  const groups = Object.keys(transforms);
  for (const g of groups) checkTransformation(fn, `the transformation for label \`${g}\``, transforms[g]);
  const maskCompatible = checkBoolean(fn, 'maskCompatibleExtraArgs', o.maskCompatibleExtraArgs);
  const kind = labelKind(fn);
  const mKind = maskKind(fn);

  /** The labels for `tree`, checked: every label must name a transformation. */
  const labelsFor = (tree: Params, treeName: string): LabelTree => {
    const labels = typeof paramLabels === 'function' ? paramLabels(tree) : paramLabels;
    mapPrefix(kind, labels, tree, treeName, (label: string, _t, _o, path: readonly PathKey[]) => {
      if (!Object.hasOwn(transforms, label)) {
        throw new Error(
          `${fn}: the label \`${label}\` at \`${formatPath(path)}\` has no transformation; the transformations are for [${groups.join(', ')}]`,
        );
      }
      return null;
    });
    return labels;
  };
  /** For one label: the tree with every other label's subtrees replaced by `null`. */
  const only = (labels: LabelTree, group: string, tree: unknown, treeName: string) =>
    mapPrefix(kind, labels, tree, treeName, (label: string, t) => (label === group ? t : null));
  const maskOf = (labels: LabelTree, group: string) => mapPrefix(kind, labels, labels, 'labels', (label: string) => label === group);

  return {
    init(params) {
      // `null` params (an empty tree, as used by treeMapParams) go down as they are.
      if (params === null || params === undefined) {
        return { innerStates: Object.fromEntries(groups.map((g) => [g, { innerState: transforms[g]!.init(params) }])) };
      }
      const labels = labelsFor(params, 'params');
      return {
        innerStates: Object.fromEntries(
          groups.map((g) => [g, { innerState: transforms[g]!.init(only(labels, g, params, 'params') as Params) }]),
        ),
      };
    },
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkStateKeys(fn, state, ['innerStates']);
      const missing = groups.find((g) => state.innerStates?.[g] === undefined || !('innerState' in (state.innerStates[g] as object)));
      if (missing !== undefined) {
        throw new Error(`${fn}: the state has no inner state for the label \`${missing}\` (a state from a different transformation?)`);
      }
      const labels = labelsFor(updates, 'updates');
      return tf.tidy(() => {
        const results: Record<string, unknown> = {};
        const innerStates: Record<string, MaskedState> = {};
        for (const g of groups) {
          const tx = transforms[g]!;
          const u = only(labels, g, updates, 'updates') as Updates;
          const p = params === null || params === undefined ? params : (only(labels, g, params, 'params') as Params);
          const extra = maskExtraArgs(mKind, extraArgs, updates, maskOf(labels, g), maskCompatible);
          const [gu, gs] =
            extra === undefined
              ? tx.update(u, state.innerStates[g]!.innerState, p)
              : tx.update(u, state.innerStates[g]!.innerState, p, extra);
          results[g] = gu;
          innerStates[g] = { innerState: gs };
        }
        // Every leaf has exactly one label, so the result takes each subtree from its label's transformation.
        const out = mapPrefix(
          kind,
          labels,
          updates,
          'updates',
          (label: string, _old, others) => others[groups.indexOf(label)],
          groups.map((g) => results[g]),
        );
        return [out, { innerStates }] as never;
      }) as unknown as [Updates, PartitionState];
    },
    fusion: {
      kind: 'groups',
      split: (state: PartitionState, extraArgs: ExtraArgs | undefined, inputs: LoweringInputs) =>
        splitByLabels({ fn, transforms, paramLabels, only, maskOf, maskCompatible }, state, extraArgs, inputs),
    },
  };
}

/** What {@link splitByLabels} needs of a `partition`. */
interface Partitioning {
  readonly fn: string;
  readonly transforms: Readonly<Record<string, GradientTransformation>>;
  readonly paramLabels: ParamLabels;
  /** For one label: the tree with every other label's subtrees replaced by `null`. */
  only(labels: LabelTree, group: string, tree: unknown, treeName: string): unknown;
  /** For one label: the mask of its leaves. */
  maskOf(labels: LabelTree, group: string): unknown;
  readonly maskCompatible: boolean;
}

/** A step of `partition` split by labels: one group per label, its transformation on its leaves. */
function splitByLabels(p: Partitioning, state: PartitionState, extraArgs: ExtraArgs | undefined, inputs: LoweringInputs): GroupedStep {
  const groups = Object.keys(p.transforms);
  checkStateKeys(p.fn, state, ['innerStates']);
  if (groups.some((g) => state.innerStates?.[g] === undefined)) throw new Error(`${p.fn}: the state has no inner state for a label`);
  // (a label without a transformation leaves its leaves in no group: the step is not split, and update raises)
  const labels = typeof p.paramLabels === 'function' ? p.paramLabels(inputs.updates as Params) : p.paramLabels;
  const mKind = maskKind(p.fn);
  return {
    readsUpdates: typeof p.paramLabels === 'function',
    groups: groups.map((g) => ({
      tx: p.transforms[g] as GradientTransformation,
      state: state.innerStates[g]?.innerState,
      select: (tree: unknown) => p.only(labels, g, tree, 'updates'),
      extraArgs: p.maskCompatible ? maskExtraArgs(mKind, extraArgs, inputs.updates, p.maskOf(labels, g), true) : extraArgs,
    })),
    finish: (states) => ({ innerStates: Object.fromEntries(groups.map((g, i) => [g, { innerState: states[i] }])) }),
  };
}

/**
 * The older name of {@link partition}, with the same arguments (optax keeps
 * `multi_transform` as an alias of `partition`). Reference: optax `multi_transform`.
 */
export const multiTransform = partition;
