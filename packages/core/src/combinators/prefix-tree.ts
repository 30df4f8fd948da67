/**
 * Internal helpers for combinators that take a tree "prefix" of the params
 * (a mask of booleans or a tree of labels): a prefix has the params'
 * structure down to some depth, and each of its leaves stands for the whole
 * params subtree at that position (as in optax, where such trees are mapped
 * with `jax.tree.map(f, prefix, params)`).
 *
 * Not part of the public API (not re-exported from the package index).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs } from '../base.js';
import { describe, isPlainObject, isTensor, type PathKey, sameStructure, sortedKeys, TreeMismatchError, treeMap } from '../tree.js';

/** How a prefix tree's leaves are checked, for messages. */
export interface PrefixKind {
  /** The combinator, e.g. `masked`. */
  readonly fn: string;
  /** What the prefix is called in messages, e.g. `mask`. */
  readonly what: string;
  /** Whether `x` is an allowed leaf of the prefix. */
  readonly isLeaf: (x: unknown) => boolean;
  /** The rule for leaves, e.g. `a boolean`. */
  readonly rule: string;
}

function child(tree: unknown, key: PathKey): unknown {
  if (tree === null || tree === undefined || typeof tree !== 'object') return undefined;
  return (tree as Record<PathKey, unknown>)[key];
}

/**
 * Walks `prefix` against `tree` (named `treeName`), checking that `tree` has
 * the prefix's structure down to the prefix's leaves, and calls
 * `leaf(prefixLeaf, subtree, others, path)` at each prefix leaf, where
 * `others` are the subtrees of `rest` at the same position (not checked).
 * Returns a tree with the prefix's structure holding what `leaf` returned.
 * A mismatch throws {@link TreeMismatchError} naming the path.
 */
export function mapPrefix(
  kind: PrefixKind,
  prefix: unknown,
  tree: unknown,
  treeName: string,
  leaf: (prefixLeaf: any, subtree: unknown, others: unknown[], path: readonly PathKey[]) => unknown,
  rest: readonly unknown[] = [],
): unknown {
  const mismatch = (path: PathKey[], m: unknown, t: unknown) =>
    new TreeMismatchError(path, `${kind.fn}: the ${kind.what} has ${describe(m)} but ${treeName} has ${describe(t)}`);
  const walk = (m: unknown, t: unknown, others: unknown[], path: PathKey[]): unknown => {
    if (m === null || m === undefined) {
      if (t === null || t === undefined) return m;
      throw mismatch(path, m, t);
    }
    if (Array.isArray(m)) {
      if (!Array.isArray(t) || t.length !== m.length) throw mismatch(path, m, t);
      return m.map((c, i) =>
        walk(
          c,
          t[i],
          others.map((o) => child(o, i)),
          [...path, i],
        ),
      );
    }
    if (isPlainObject(m)) {
      if (!isPlainObject(t)) throw mismatch(path, m, t);
      const missing = sortedKeys(m).find((k) => !Object.hasOwn(t, k));
      if (missing !== undefined) {
        throw new TreeMismatchError([...path, missing], `${kind.fn}: present in the ${kind.what} but missing in ${treeName}`);
      }
      const extra = sortedKeys(t).find((k) => !Object.hasOwn(m, k));
      if (extra !== undefined) {
        throw new TreeMismatchError([...path, extra], `${kind.fn}: present in ${treeName} but missing in the ${kind.what}`);
      }
      const out: Record<string, unknown> = {};
      for (const k of sortedKeys(m)) {
        out[k] = walk(
          m[k],
          t[k],
          others.map((o) => child(o, k)),
          [...path, k],
        );
      }
      return out;
    }
    if (!kind.isLeaf(m)) {
      throw new TreeMismatchError(path, `${kind.fn}: every leaf of the ${kind.what} must be ${kind.rule}, got ${describe(m)}`);
    }
    return leaf(m, t, others, path);
  };
  return walk(prefix, tree, [...rest], []);
}

/** The checks for a mask: boolean leaves. */
export function maskKind(fn: string): PrefixKind {
  return { fn, what: 'mask', isLeaf: (x) => typeof x === 'boolean', rule: 'a boolean' };
}

/**
 * `tree` with every subtree whose mask leaf is `false` replaced by `null`
 * (optax replaces it by a `MaskedNode`), so a transformation sees, and keeps
 * state for, the masked-in leaves only.
 */
export function maskTree(kind: PrefixKind, mask: unknown, tree: unknown, treeName: string): unknown {
  return mapPrefix(kind, mask, tree, treeName, (m: boolean, t) => (m ? t : null));
}

/** Every tensor leaf of `tree` cloned (other leaves as they are): a fresh copy to pass through. */
export function cloneTree(tree: unknown): unknown {
  return treeMap((x: unknown) => (isTensor(x) ? tf.clone(x) : x), tree);
}

/**
 * With `maskCompatibleExtraArgs`, masks every extra argument that has the
 * structure of `updates` (as optax does); other extra arguments, and all of
 * them without the option, are passed as they are.
 */
export function maskExtraArgs(
  kind: PrefixKind,
  extraArgs: ExtraArgs | undefined,
  updates: unknown,
  mask: unknown,
  maskCompatible: boolean,
): ExtraArgs | undefined {
  if (extraArgs === undefined || !maskCompatible) return extraArgs;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extraArgs)) {
    out[k] = sameStructure(v, updates) ? maskTree(kind, mask, v, `extraArgs.${k}`) : v;
  }
  return out;
}
