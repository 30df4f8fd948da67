/**
 * Trees: nested plain objects and arrays whose leaves are tensors, numbers,
 * booleans or `null`/`undefined` (the JS analogue of a JAX pytree).
 *
 * Object keys are visited in sorted order, as JAX does for dicts, so two trees
 * with the same keys in a different insertion order have the same structure
 * and flatten to the same leaf order. Every structural mismatch is reported
 * with the first differing path, e.g. `layers[2].bias`.
 *
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';

/** A leaf of a tree: a tensor, a number, a boolean or an empty slot (`null`/`undefined`). */
export type Leaf = Tensor | number | boolean | null | undefined;

/** A nested structure of plain objects and arrays with {@link Leaf} leaves. */
export type Tree = Leaf | readonly Tree[] | { readonly [key: string]: Tree };

/** A tree whose leaves are tensors (or empty slots): params, grads, updates. */
export type TensorTree = Tensor | null | undefined | readonly TensorTree[] | { readonly [key: string]: TensorTree };

/** One step of a path into a tree: an object key or an array index. */
export type PathKey = string | number;

/** Whether `x` is a plain object (a tree node), as opposed to a class instance such as a tensor. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Whether `x` is a tree node (plain object or array) rather than a leaf. */
export function isNode(x: unknown): x is readonly unknown[] | Record<string, unknown> {
  return Array.isArray(x) || isPlainObject(x);
}

/** Whether `x` is a tfjs tensor (or variable). */
export function isTensor(x: unknown): x is Tensor {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as Tensor).dataId === 'object' &&
    typeof (x as Tensor).dtype === 'string' &&
    Array.isArray((x as Tensor).shape)
  );
}

/** Renders a path the way users write it: `layers[2].bias`; the root is `<root>`. */
export function formatPath(path: readonly PathKey[]): string {
  if (path.length === 0) return '<root>';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (isTensor(x)) return `a ${x.dtype} tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (isPlainObject(x)) return `an object with keys {${sortedKeys(x).join(', ')}}`;
  if (typeof x === 'number' || typeof x === 'boolean') return `${typeof x} ${String(x)}`;
  if (typeof x === 'string') return `string '${x.length > 60 ? `${x.slice(0, 60)}…` : x}'`;
  if (typeof x === 'function') return 'a function';
  return `a ${(x as object).constructor?.name ?? typeof x}`;
}

/** The error raised for trees that do not line up; `path` is the first differing path. */
export class TreeMismatchError extends Error {
  constructor(
    readonly path: readonly PathKey[],
    detail: string,
  ) {
    super(`tree mismatch at \`${formatPath(path)}\`: ${detail}`);
    this.name = 'TreeMismatchError';
  }
}

/** Object keys in the order trees visit them (sorted, as JAX sorts dict keys). */
export function sortedKeys(node: Record<string, unknown>): string[] {
  return Object.keys(node).sort();
}

function nodeKind(x: unknown): 'array' | 'object' | 'leaf' {
  if (Array.isArray(x)) return 'array';
  if (isPlainObject(x)) return 'object';
  return 'leaf';
}

function checkNodesMatch(a: unknown, b: unknown, path: PathKey[], names: readonly [string, string]): void {
  const ka = nodeKind(a);
  const kb = nodeKind(b);
  if (ka !== kb) {
    throw new TreeMismatchError(path, `${names[0]} has ${describe(a)} but ${names[1]} has ${describe(b)}`);
  }
  if (ka === 'array') {
    const la = (a as unknown[]).length;
    const lb = (b as unknown[]).length;
    if (la !== lb) throw new TreeMismatchError(path, `${names[0]} has an array of length ${la} but ${names[1]} has length ${lb}`);
  } else if (ka === 'object') {
    const keysA = sortedKeys(a as Record<string, unknown>);
    const keysB = sortedKeys(b as Record<string, unknown>);
    const missing = keysA.find((k) => !Object.hasOwn(b as object, k));
    if (missing !== undefined) throw new TreeMismatchError([...path, missing], `present in ${names[0]} but missing in ${names[1]}`);
    const extra = keysB.find((k) => !Object.hasOwn(a as object, k));
    if (extra !== undefined) throw new TreeMismatchError([...path, extra], `present in ${names[1]} but missing in ${names[0]}`);
  }
}

/** Options shared by the structure-walking functions. */
export interface TreeWalkOptions {
  /** Names of the trees, used in mismatch messages (default `tree 0`, `tree 1`, ...). */
  names?: readonly string[];
  /** Treat these values as leaves even if they are plain objects/arrays (like JAX's `is_leaf`). */
  isLeaf?: (x: unknown) => boolean;
}

/**
 * Maps `fn` over the leaves of `tree` and the matching leaves of `rest`,
 * returning a tree with the structure of `tree`. All trees must have the same
 * structure; a mismatch throws {@link TreeMismatchError} naming the first
 * differing path. A `null`/`undefined` leaf of `tree` is kept as is (the
 * other trees may hold anything at that position); a `null` in another tree
 * is passed to `fn` as it is.
 */
export function treeMap<R = unknown>(
  fn: (leaf: any, ...rest: any[]) => R,
  tree: unknown,
  rest: readonly unknown[] = [],
  options: TreeWalkOptions = {},
): any {
  return treeMapWithPath((_path, leaf, ...others) => fn(leaf, ...others), tree, rest, options);
}

/** Like {@link treeMap}, but `fn` also receives the leaf's path first. */
export function treeMapWithPath<R = unknown>(
  fn: (path: readonly PathKey[], leaf: any, ...rest: any[]) => R,
  tree: unknown,
  rest: readonly unknown[] = [],
  options: TreeWalkOptions = {},
): any {
  const names = options.names ?? [0, ...rest.map((_, i) => i + 1)].map((i) => `tree ${i}`);
  const walk = (node: unknown, others: unknown[], path: PathKey[]): unknown => {
    if (node === null || node === undefined) return node;
    if (options.isLeaf?.(node) || !isNode(node)) return fn(path, node, ...others);
    others.forEach((o, i) => {
      checkNodesMatch(node, o, path, [names[0] ?? 'tree 0', names[i + 1] ?? `tree ${i + 1}`]);
    });
    if (Array.isArray(node)) {
      return node.map((child, i) =>
        walk(
          child,
          others.map((o) => (o as unknown[])[i]),
          [...path, i],
        ),
      );
    }
    const out: Record<string, unknown> = {};
    for (const key of sortedKeys(node as Record<string, unknown>)) {
      out[key] = walk(
        (node as Record<string, unknown>)[key],
        others.map((o) => (o as Record<string, unknown>)[key]),
        [...path, key],
      );
    }
    return out;
  };
  return walk(tree, [...rest], []);
}

/** The leaves of `tree` in visiting order with their paths; `null`/`undefined` leaves are skipped. */
export function treeLeavesWithPath(tree: unknown, options: Pick<TreeWalkOptions, 'isLeaf'> = {}): [PathKey[], unknown][] {
  const out: [PathKey[], unknown][] = [];
  const walk = (node: unknown, path: PathKey[]) => {
    if (node === null || node === undefined) return;
    if (options.isLeaf?.(node) || !isNode(node)) {
      out.push([path, node]);
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((c, i) => {
        walk(c, [...path, i]);
      });
    } else for (const k of sortedKeys(node as Record<string, unknown>)) walk((node as Record<string, unknown>)[k], [...path, k]);
  };
  walk(tree, []);
  return out;
}

/** The non-empty leaves of `tree` in visiting order (sorted object keys, array order). */
export function treeLeaves<L = unknown>(tree: unknown, options: Pick<TreeWalkOptions, 'isLeaf'> = {}): L[] {
  return treeLeavesWithPath(tree, options).map(([, leaf]) => leaf as L);
}

/**
 * The shape of a tree without its leaves. Leaves are `'*'`, empty slots keep
 * their value (`null` or `undefined`), so two trees have equal structure iff
 * their definitions are deep-equal.
 */
export type TreeDef = '*' | null | undefined | TreeDef[] | { [key: string]: TreeDef };

/** Splits `tree` into its non-empty leaves (in visiting order) and its structure. */
export function treeFlatten<L = unknown>(tree: unknown, options: Pick<TreeWalkOptions, 'isLeaf'> = {}): { leaves: L[]; treedef: TreeDef } {
  const leaves: L[] = [];
  const walk = (node: unknown): TreeDef => {
    if (node === null || node === undefined) return node;
    if (options.isLeaf?.(node) || !isNode(node)) {
      leaves.push(node as L);
      return '*';
    }
    if (Array.isArray(node)) return node.map(walk);
    const out: Record<string, TreeDef> = {};
    for (const k of sortedKeys(node as Record<string, unknown>)) out[k] = walk((node as Record<string, unknown>)[k]);
    return out;
  };
  const treedef = walk(tree);
  return { leaves, treedef };
}

/** Rebuilds a tree from a structure and leaves in visiting order (the inverse of {@link treeFlatten}). */
export function treeUnflatten<T = unknown>(treedef: TreeDef, leaves: readonly unknown[]): T {
  let i = 0;
  const build = (def: TreeDef): unknown => {
    if (def === null || def === undefined) return def;
    if (def === '*') {
      if (i >= leaves.length) throw new Error(`treeUnflatten: the structure has more leaves than the ${leaves.length} given`);
      return leaves[i++];
    }
    if (Array.isArray(def)) return def.map(build);
    const out: Record<string, unknown> = {};
    for (const k of sortedKeys(def)) out[k] = build(def[k] as TreeDef);
    return out;
  };
  const out = build(treedef);
  if (i !== leaves.length) throw new Error(`treeUnflatten: the structure has ${i} leaves but ${leaves.length} were given`);
  return out as T;
}

/** The structure of `tree` (see {@link TreeDef}). */
export function treeStructure(tree: unknown, options: Pick<TreeWalkOptions, 'isLeaf'> = {}): TreeDef {
  return treeFlatten(tree, options).treedef;
}

/**
 * Throws {@link TreeMismatchError} unless `a` and `b` have the same structure
 * (same containers, same keys, same array lengths, empty slots in the same
 * places). `names` label the two trees in the message, e.g. `['params', 'grads']`.
 */
export function assertSameStructure(a: unknown, b: unknown, names: readonly [string, string] = ['tree 0', 'tree 1']): void {
  const walk = (x: unknown, y: unknown, path: PathKey[]) => {
    const xEmpty = x === null || x === undefined;
    const yEmpty = y === null || y === undefined;
    if (xEmpty || yEmpty) {
      if (xEmpty !== yEmpty) throw new TreeMismatchError(path, `${names[0]} has ${describe(x)} but ${names[1]} has ${describe(y)}`);
      return;
    }
    checkNodesMatch(x, y, path, names);
    if (Array.isArray(x)) {
      x.forEach((c, i) => {
        walk(c, (y as unknown[])[i], [...path, i]);
      });
    } else if (isPlainObject(x)) for (const k of sortedKeys(x)) walk(x[k], (y as Record<string, unknown>)[k], [...path, k]);
  };
  walk(a, b, []);
}

/** Whether `a` and `b` have the same structure (see {@link assertSameStructure}). */
export function sameStructure(a: unknown, b: unknown): boolean {
  try {
    assertSameStructure(a, b);
    return true;
  } catch (e) {
    if (e instanceof TreeMismatchError) return false;
    throw e;
  }
}

/** Throws naming the path unless the tensors at matching leaves of `a` and `b` have equal shapes. */
export function assertSameShapes(a: unknown, b: unknown, names: readonly [string, string] = ['tree 0', 'tree 1']): void {
  assertSameStructure(a, b, names);
  const la = treeLeavesWithPath(a);
  const lb = treeLeaves(b);
  la.forEach(([path, x], i) => {
    const y = lb[i];
    if (isTensor(x) && isTensor(y) && (x.shape.length !== y.shape.length || x.shape.some((d, j) => d !== y.shape[j]))) {
      throw new TreeMismatchError(path, `${names[0]} has shape [${x.shape.join(', ')}] but ${names[1]} has shape [${y.shape.join(', ')}]`);
    }
  });
}
