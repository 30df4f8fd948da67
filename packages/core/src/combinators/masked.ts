/**
 * Masking: `masked` (optax `masked`), also exported as `maskedTx`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, GroupedStep, LoweringInputs, Params, Updates } from '../base.js';
import { chain } from '../combine.js';
import { checkBoolean, checkStateKeys, checkTransformation, type OptionDefaults, resolveOptions } from '../validate.js';
import { cloneTree, mapPrefix, maskExtraArgs, maskKind, maskTree, type PrefixKind } from './prefix-tree.js';

/**
 * A mask: booleans in a tree with the params' structure, or a prefix of it
 * (a boolean at a node stands for every leaf below it; a single boolean masks
 * the whole tree). `true` marks the leaves the transformation applies to.
 */
export type MaskTree = boolean | null | undefined | readonly MaskTree[] | { readonly [key: string]: MaskTree };

/** A {@link MaskTree}, or a function from the params (or updates) to one. */
export type Mask = MaskTree | ((params: Params) => MaskTree);

/** Options of {@link masked}. */
export interface MaskedOptions {
  /**
   * Also mask every extra argument of `update` that has the structure of the
   * updates (e.g. per-parameter tags), so the inner transformation sees them
   * masked like the updates (default false).
   */
  maskCompatibleExtraArgs?: boolean;
}

/** The state of {@link masked}: the inner state, kept for the masked-in leaves only. */
export interface MaskedState<S = unknown> {
  /** The state of the inner transformation. */
  innerState: S;
}

/** Evaluates a {@link Mask} for a tree (calls it when it is a function). */
export function resolveMask(mask: Mask, tree: Params): MaskTree {
  return typeof mask === 'function' ? mask(tree) : mask;
}

/** The defaults of {@link masked}'s options (`undefined`: no default). */
export const maskedDefaults: OptionDefaults<MaskedOptions> = Object.freeze({ maskCompatibleExtraArgs: false });

/**
 * Applies `inner` to the leaves where `mask` is `true` and passes the other
 * updates through unchanged (as fresh copies).
 *
 * The inner transformation sees the updates and params with the masked-out
 * subtrees replaced by `null`, so it keeps state for the masked-in leaves
 * only. `mask` is a tree of booleans with the params' structure (or a prefix
 * of it), or a function from the params to one; the function is called with
 * the params at `init` and with the updates at `update`. A mask that does not
 * match the tree throws, naming the first differing path.
 *
 * State `{ innerState }`. Reference: optax `masked`.
 *
 * @example
 * ```ts
 * // weight decay on matrices only
 * const decay = masked(addDecayedWeights(1e-4), (p) => treeMap((x) => x.rank > 1, p));
 * ```
 */
export function masked<S = unknown>(
  inner: GradientTransformation<S>,
  mask: Mask,
  options: MaskedOptions = {},
): GradientTransformation<MaskedState<S>> {
  const fn = 'masked';
  const o = resolveOptions(fn, options, maskedDefaults);
  checkTransformation(fn, '`inner`', inner);
  const maskCompatible = checkBoolean(fn, 'maskCompatibleExtraArgs', o.maskCompatibleExtraArgs);
  if (typeof mask !== 'function') {
    // A constant mask is checked for its leaves now; its structure is checked against each tree.
    mapPrefix(maskKind(fn), mask, mask, 'mask', () => null);
  }
  const kind = maskKind(fn);
  return {
    init(params) {
      // `null` params (an empty tree, as used by treeMapParams) go down unmasked.
      if (params === null || params === undefined) return { innerState: inner.init(params) };
      const m = resolveMask(mask, params);
      return { innerState: inner.init(maskTree(kind, m, params, 'params') as Params) };
    },
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkStateKeys(fn, state, ['innerState']);
      const m = resolveMask(mask, updates);
      const maskedUpdates = maskTree(kind, m, updates, 'updates') as Updates;
      const maskedParams = params === null || params === undefined ? params : (maskTree(kind, m, params, 'params') as Params);
      const maskedExtra = maskExtraArgs(kind, extraArgs, updates, m, maskCompatible);
      return tf.tidy(() => {
        const [innerUpdates, innerState] =
          maskedExtra === undefined
            ? inner.update(maskedUpdates, state.innerState, maskedParams)
            : inner.update(maskedUpdates, state.innerState, maskedParams, maskedExtra);
        const out = mapPrefix(kind, m, updates, 'updates', (keep: boolean, old, [fresh]) => (keep ? fresh : cloneTree(old)), [
          innerUpdates,
        ]);
        return [out, { innerState }] as never;
      }) as unknown as [Updates, MaskedState<S>];
    },
    fusion: {
      kind: 'groups',
      split(state: MaskedState<S>, extraArgs: ExtraArgs | undefined, inputs: LoweringInputs): GroupedStep {
        checkStateKeys(fn, state, ['innerState']);
        const m = resolveMask(mask, inputs.updates);
        const outside = complement(kind, m);
        return {
          readsUpdates: typeof mask === 'function',
          groups: [
            {
              tx: inner as GradientTransformation,
              state: state.innerState,
              select: (tree) => maskTree(kind, m, tree, 'updates'),
              extraArgs: maskExtraArgs(kind, extraArgs, inputs.updates, m, maskCompatible),
            },
            // the masked-out leaves: their updates as they are (p + u)
            { tx: passThrough, state: [], select: (tree) => maskTree(kind, outside, tree, 'updates'), extraArgs },
          ],
          finish: ([innerState]) => ({ innerState }),
        };
      },
    },
  };
}

/** The complements of the masks seen, so a constant mask is inverted once. */
const complements = new WeakMap<object, MaskTree>();

/** The mask that takes exactly the leaves `m` leaves out. */
function complement(kind: PrefixKind, m: MaskTree): MaskTree {
  if (typeof m !== 'object' || m === null) return mapPrefix(kind, m, m, 'mask', (keep: boolean) => !keep) as MaskTree;
  let c = complements.get(m);
  if (c === undefined) {
    c = mapPrefix(kind, m, m, 'mask', (keep: boolean) => !keep) as MaskTree;
    complements.set(m, c);
  }
  return c;
}

/** The transformation of the leaves `masked` leaves out: their updates pass through (the empty chain). */
const passThrough = chain();

/** Another name of {@link masked} (API.md lists both). */
export const maskedTx = masked;
