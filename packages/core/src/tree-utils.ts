/**
 * Arithmetic and state utilities on trees of tensors (optax `tree_utils`):
 * `treeAdd`, `treeSub`, `treeMul`, `treeDiv`, `treeScale`, `treeAddScale`,
 * `treeVdot`, `treeSum`, `treeMax`, `treeMin`, `treeSize`, `treeNorm` (and
 * `treeL1Norm`, `treeL2Norm`, `treeLinfNorm`), `treeZerosLike`,
 * `treeOnesLike`, `treeFullLike`, `treeClip`, `treeWhere`, `treeCast`,
 * `treeCastLike`, `treeGetAllWithPath`, `treeGet`, `treeSet` and
 * `treeMapParams`.
 *
 * The arithmetic functions are pure: they never mutate or dispose their
 * inputs and return fresh tensors (scalar results as scalar tensors), made
 * inside `tf.tidy`. `null` leaves of the first tree stay `null`. Trees must
 * line up; a mismatch throws naming the first differing path.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params } from './base.js';
import {
  describe,
  isNode,
  isPlainObject,
  isTensor,
  type PathKey,
  sortedKeys,
  TreeMismatchError,
  type TreeWalkOptions,
  treeLeaves,
  treeMap,
} from './tree.js';
import { showValue } from './validate.js';

/** A scalar factor: a JS number or a scalar tensor. */
export type Scalar = number | tf.Tensor;

const NAMES2 = { names: ['treeX', 'treeY'] };

function scalarTensor(s: Scalar, fn: string, arg: string): tf.Tensor {
  if (typeof s === 'number') return tf.scalar(s, 'float32');
  if (isTensor(s) && s.size === 1) return s.shape.length === 0 ? s : tf.reshape(s, []);
  throw new Error(`${fn}: \`${arg}\` must be a number or a scalar tensor, got ${describe(s)}`);
}

/**
 * The leaf-wise sum of two or more trees: `x + y (+ ...)`, added left to
 * right. Reference: optax `tree_add`.
 */
export function treeAdd<T>(treeX: T, treeY: T, ...otherTrees: T[]): T {
  const trees = [treeX, treeY, ...otherTrees];
  return tf.tidy(() =>
    treeMap((...xs: tf.Tensor[]) => xs.slice(1).reduce((acc, x) => tf.add(acc, x), xs[0] as tf.Tensor), treeX, trees.slice(1), {
      names: trees.map((_, i) => (i === 0 ? 'treeX' : i === 1 ? 'treeY' : `otherTrees[${i - 2}]`)),
    }),
  ) as T;
}

/** The leaf-wise difference `x − y`. Reference: optax `tree_sub`. */
export function treeSub<T>(treeX: T, treeY: T): T {
  return tf.tidy(() => treeMap((x: tf.Tensor, y: tf.Tensor) => tf.sub(x, y), treeX, [treeY], NAMES2)) as T;
}

/** The leaf-wise product `x · y`. Reference: optax `tree_mul`. */
export function treeMul<T>(treeX: T, treeY: T): T {
  return tf.tidy(() => treeMap((x: tf.Tensor, y: tf.Tensor) => tf.mul(x, y), treeX, [treeY], NAMES2)) as T;
}

/** The leaf-wise quotient `x / y`. Reference: optax `tree_div`. */
export function treeDiv<T>(treeX: T, treeY: T): T {
  return tf.tidy(() => treeMap((x: tf.Tensor, y: tf.Tensor) => tf.div(x, y), treeX, [treeY], NAMES2)) as T;
}

/** Every leaf times a scalar: `scalar · tree`. Reference: optax `tree_scale`. */
export function treeScale<T>(scalar: Scalar, tree: T): T {
  return tf.tidy(() => {
    const s = scalarTensor(scalar, 'treeScale', 'scalar');
    return treeMap((x: tf.Tensor) => tf.mul(s, x), tree);
  }) as T;
}

/** `x + scalar · y`, leaf by leaf (a `null` leaf of `x` stays `null`). Reference: optax `tree_add_scale`. */
export function treeAddScale<T>(treeX: T, scalar: Scalar, treeY: T): T {
  return tf.tidy(() => {
    const s = scalarTensor(scalar, 'treeAddScale', 'scalar');
    return treeMap((x: tf.Tensor, y: tf.Tensor) => tf.add(x, tf.mul(s, y)), treeX, [treeY], NAMES2);
  }) as T;
}

/** Sums scalar tensors left to right from a zero of their dtype, as optax's `tree.reduce(add, ..., initializer=0)`. */
function sumScalars(parts: tf.Tensor[]): tf.Tensor {
  return parts.reduce((acc, x) => tf.add(acc, x), tf.scalar(0, parts[0]?.dtype === 'int32' ? 'int32' : 'float32'));
}

/**
 * The inner product of two trees, `Σ x·y` over every element of every leaf,
 * as a scalar tensor. Reference: optax `tree_vdot`.
 */
export function treeVdot(treeX: unknown, treeY: unknown): tf.Tensor {
  return tf.tidy(() => {
    const parts = treeLeaves<tf.Tensor>(treeMap((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(x, y)), treeX, [treeY], NAMES2));
    return sumScalars(parts);
  });
}

/** The sum of every element of every leaf, as a scalar tensor (0 for an empty tree). Reference: optax `tree_sum`. */
export function treeSum(tree: unknown): tf.Tensor {
  return tf.tidy(() => sumScalars(treeLeaves<tf.Tensor>(tree).map((x) => tf.sum(x))));
}

function reduceExtreme(tree: unknown, kind: 'max' | 'min'): tf.Tensor {
  return tf.tidy(() => {
    let acc = tf.scalar(kind === 'max' ? -Infinity : Infinity, 'float32');
    for (const x of treeLeaves<tf.Tensor>(tree)) {
      if (x.size === 0) continue;
      const r = tf.cast(kind === 'max' ? tf.max(x) : tf.min(x), 'float32');
      acc = kind === 'max' ? tf.maximum(acc, r) : tf.minimum(acc, r);
    }
    return acc;
  });
}

/** The largest element of the tree, as a scalar tensor (−∞ for an empty tree). Reference: optax `tree_max`. */
export function treeMax(tree: unknown): tf.Tensor {
  return reduceExtreme(tree, 'max');
}

/** The smallest element of the tree, as a scalar tensor (+∞ for an empty tree). Reference: optax `tree_min`. */
export function treeMin(tree: unknown): tf.Tensor {
  return reduceExtreme(tree, 'min');
}

/** The number of elements in all the leaves (a JS number). Reference: optax `tree_size`. */
export function treeSize(tree: unknown): number {
  return treeLeaves<tf.Tensor>(tree).reduce((n, x) => n + x.size, 0);
}

/** The order of a {@link treeNorm}: 1, 2, or infinity (`Infinity`, `'inf'` or `'infinity'`). */
export type NormOrd = 1 | 2 | 'inf' | 'infinity' | number | null | undefined;

/**
 * The vector norm of all the elements of the tree taken together, as a scalar
 * tensor: `ord` 2 (default) `sqrt(Σ x²)`, 1 `Σ |x|`, ∞ `max |x|`; with
 * `squared`, its square (for ord 2, `Σ x²` without the square root).
 * Reference: optax `tree_norm`.
 */
export function treeNorm(tree: unknown, ord: NormOrd = 2, squared = false): tf.Tensor {
  return tf.tidy(() => {
    if (ord === null || ord === undefined || ord === 2) {
      const sq = sumScalars(treeLeaves<tf.Tensor>(tree).map((x) => tf.sum(tf.square(x))));
      return squared ? sq : tf.sqrt(sq);
    }
    let ret: tf.Tensor;
    if (ord === 1) ret = sumScalars(treeLeaves<tf.Tensor>(tree).map((x) => tf.sum(tf.abs(x))));
    else if (ord === Infinity || ord === 'inf' || ord === 'infinity') ret = treeMax(treeMap((x: tf.Tensor) => tf.abs(x), tree));
    else throw new Error(`treeNorm: \`ord\` must be 1, 2 or Infinity ('inf'), got ${showValue(ord)}`);
    return squared ? tf.square(ret) : ret;
  });
}

/** `Σ |x|` over the tree (`treeNorm(tree, 1)`). Reference: optax `tree_l1_norm`. */
export function treeL1Norm(tree: unknown, squared = false): tf.Tensor {
  return treeNorm(tree, 1, squared);
}

/** `sqrt(Σ x²)` over the tree (`treeNorm(tree, 2)`). Reference: optax `tree_l2_norm`. */
export function treeL2Norm(tree: unknown, squared = false): tf.Tensor {
  return treeNorm(tree, 2, squared);
}

/** `max |x|` over the tree (`treeNorm(tree, 'inf')`). Reference: optax `tree_linf_norm`. */
export function treeLinfNorm(tree: unknown, squared = false): tf.Tensor {
  return treeNorm(tree, 'inf', squared);
}

/** A tree of zeros with the structure, shapes and dtypes (or `dtype`) of `tree`. Reference: optax `tree_zeros_like`. */
export function treeZerosLike<T>(tree: T, dtype?: tf.DataType): T {
  return treeMap((x: tf.Tensor) => tf.zeros(x.shape, dtype ?? x.dtype), tree) as T;
}

/** A tree of ones with the structure, shapes and dtypes (or `dtype`) of `tree`. Reference: optax `tree_ones_like`. */
export function treeOnesLike<T>(tree: T, dtype?: tf.DataType): T {
  return treeMap((x: tf.Tensor) => tf.ones(x.shape, dtype ?? x.dtype), tree) as T;
}

/** A tree filled with `fillValue`, with the structure, shapes and dtypes (or `dtype`) of `tree`. Reference: optax `tree_full_like`. */
export function treeFullLike<T>(tree: T, fillValue: number, dtype?: tf.DataType): T {
  return treeMap((x: tf.Tensor) => tf.fill(x.shape, fillValue, dtype ?? x.dtype), tree) as T;
}

/**
 * Every element clipped to `[minValue, maxValue]` (`min(max(x, minValue), maxValue)`;
 * an omitted bound is not applied). Reference: optax `tree_clip`.
 */
export function treeClip<T>(tree: T, minValue?: number | null, maxValue?: number | null): T {
  return tf.tidy(() =>
    treeMap((x: tf.Tensor) => {
      let y = x;
      if (minValue !== undefined && minValue !== null) y = tf.maximum(y, tf.scalar(minValue, x.dtype));
      if (maxValue !== undefined && maxValue !== null) y = tf.minimum(y, tf.scalar(maxValue, x.dtype));
      return y === x ? tf.clone(x) : y;
    }, tree),
  ) as T;
}

/**
 * `condition ? x : y` leaf by leaf (`condition` a boolean or a `bool` tensor
 * that broadcasts against the leaves). Reference: optax `tree_where`.
 */
export function treeWhere<T>(condition: boolean | tf.Tensor, treeX: T, treeY: T): T {
  return tf.tidy(() => {
    const c = typeof condition === 'boolean' ? tf.scalar(condition, 'bool') : condition;
    return treeMap((x: tf.Tensor, y: tf.Tensor) => tf.where(c, x, y), treeX, [treeY], NAMES2);
  }) as T;
}

/** Every leaf cast to `dtype` (copied as it is when `dtype` is `null`/`undefined`). Reference: optax `tree_cast`. */
export function treeCast<T>(tree: T, dtype: tf.DataType | null | undefined): T {
  return treeMap((x: tf.Tensor) => (dtype === null || dtype === undefined ? tf.clone(x) : tf.cast(x, dtype)), tree) as T;
}

/** Every leaf cast to the dtype of the matching leaf of `otherTree`. Reference: optax `tree_cast_like`. */
export function treeCastLike<T>(tree: T, otherTree: unknown): T {
  return treeMap((x: tf.Tensor, o: unknown) => (isTensor(o) ? tf.cast(x, o.dtype) : tf.clone(x)), tree, [otherTree], {
    names: ['tree', 'otherTree'],
  }) as T;
}

// ---------------------------------------------------------------------------
// Finding and replacing values by key in a state

/** A filter on the values found by key: `(path, value) => keep`. */
export type TreeKeyFilter = (path: readonly PathKey[], value: unknown) => boolean;

function hasAnyKey(node: unknown, keys: readonly string[]): node is Record<string, unknown> {
  return isPlainObject(node) && keys.some((k) => Object.hasOwn(node, k));
}

function getAllWithPath(tree: unknown, key: string, base: readonly PathKey[]): [PathKey[], unknown][] {
  // Objects holding `key`, found top-down (the search stops at such an object) ...
  const holders: [PathKey[], Record<string, unknown>][] = [];
  const walk = (node: unknown, path: PathKey[]) => {
    if (hasAnyKey(node, [key])) holders.push([path, node]);
    else if (Array.isArray(node))
      node.forEach((c, i) => {
        walk(c, [...path, i]);
      });
    else if (isPlainObject(node)) for (const k of sortedKeys(node)) walk(node[k], [...path, k]);
  };
  walk(tree, [...base]);
  // ... their values at `key`, then whatever their children hold further down.
  const found: [PathKey[], unknown][] = holders.map(([path, node]) => [[...path, key], node[key]]);
  for (const [path, node] of holders) {
    for (const [k, c] of Object.entries(node)) found.push(...getAllWithPath(c, key, [...path, k]));
  }
  return found;
}

/**
 * Every value stored under `key` in an object anywhere in `tree` (a state),
 * with its path, optionally filtered by `filtering(path, value)`. Values are
 * returned as they are (not copied). Reference: optax `tree_get_all_with_path`.
 */
export function treeGetAllWithPath(tree: unknown, key: string, filtering?: TreeKeyFilter): [PathKey[], unknown][] {
  const found = getAllWithPath(tree, key, []);
  return filtering ? found.filter(([path, value]) => filtering(path, value)) : found;
}

/**
 * The value stored under `key` in `tree` (a state), e.g.
 * `treeGet(state, 'count')` or `treeGet(state, 'learningRate')`; `default`
 * when there is none; an error when there are several (narrow them with
 * `filtering(path, value)`). The value is returned as it is (not copied).
 * Reference: optax `tree_get`.
 */
export function treeGet(tree: unknown, key: string, defaultValue?: unknown, filtering?: TreeKeyFilter): unknown {
  const found = treeGetAllWithPath(tree, key, filtering);
  if (found.length > 1) {
    const paths = found.map(([p]) => `\`${p.map(String).join('.')}\``).join(', ');
    throw new Error(`treeGet: found ${found.length} values for \`${key}\` (at ${paths}); pass a filtering function to choose one`);
  }
  return found.length === 0 ? defaultValue : found[0]?.[1];
}

/**
 * A copy of `tree` (a state) with the values under the keys of `values`
 * replaced, e.g. `treeSet(state, { learningRate: 1e-4 })`, optionally only
 * where `filtering(path, oldValue)` holds. Every key must be found (else an
 * error). As in optax, the search stops at the first objects holding one of
 * the keys, and below those only nested objects that hold one are searched.
 * The new tree shares every value it does not replace with `tree` (nothing is
 * copied or disposed). Reference: optax `tree_set`.
 */
export function treeSet<T>(tree: T, values: Readonly<Record<string, unknown>>, filtering?: TreeKeyFilter): T {
  const keys = Object.keys(values);
  for (const key of keys) {
    if (treeGetAllWithPath(tree, key, filtering).length === 0) {
      throw new Error(`treeSet: found no value for \`${key}\`${filtering ? ' that passes the filtering function' : ''} in the tree`);
    }
  }
  const replace = (path: PathKey[], node: unknown): unknown => {
    if (!hasAnyKey(node, keys)) return node;
    const out: Record<string, unknown> = {};
    for (const [k, c] of Object.entries(node)) {
      const p = [...path, k];
      if (Object.hasOwn(values, k) && (!filtering || filtering(p, c))) out[k] = values[k];
      else out[k] = isNode(c) ? replace(p, c) : c;
    }
    return out;
  };
  const walk = (node: unknown, path: PathKey[]): unknown => {
    if (hasAnyKey(node, keys)) return replace(path, node);
    if (Array.isArray(node)) return node.map((c, i) => walk(c, [...path, i]));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, c] of Object.entries(node)) out[k] = walk(c, [...path, k]);
      return out;
    }
    return node;
  };
  return walk(tree, []) as T;
}

/** Options of {@link treeMapParams}. */
export interface TreeMapParamsOptions {
  /** Applied to every state value that is not a copy of the params tree (default: kept as it is). */
  transformNonParams?: (value: unknown) => unknown;
  /** Passed to the tree map over each params-shaped subtree (see {@link TreeWalkOptions.isLeaf}). */
  isLeaf?: TreeWalkOptions['isLeaf'];
}

/**
 * Applies `fn(leaf, ...restLeaves)` to every params-shaped tree inside an
 * optimizer `state` (e.g. `mu` and `nu` of Adam), with the matching leaves of
 * the `rest` trees (which have the params' structure); every other value is
 * kept, or mapped by `transformNonParams`.
 *
 * The params-shaped subtrees are found as optax does, by calling `init` with
 * a stand-in for the params: here `null`, the empty tree, so every slot built
 * from the params comes out `null`. The initializer must accept `null`
 * params (gradtx's transforms do). Reference: optax `tree_map_params`.
 */
export function treeMapParams(
  initable: Pick<GradientTransformation, 'init'> | ((params: Params) => unknown),
  fn: (leaf: any, ...rest: any[]) => unknown,
  state: unknown,
  rest: readonly unknown[] = [],
  options: TreeMapParamsOptions = {},
): any {
  const init = typeof initable === 'function' ? initable : initable.init.bind(initable);
  const placeholders = init(null);
  try {
    const walk = (ph: unknown, value: unknown, path: PathKey[]): unknown => {
      if (ph === null || ph === undefined) return treeMap(fn, value, rest, { isLeaf: options.isLeaf });
      if (Array.isArray(ph)) {
        if (!Array.isArray(value) || value.length !== ph.length) {
          throw new TreeMismatchError(
            path,
            `treeMapParams: the state made by init has ${describe(ph)} but the state given has ${describe(value)}`,
          );
        }
        return ph.map((c, i) => walk(c, value[i], [...path, i]));
      }
      if (isPlainObject(ph)) {
        if (!isPlainObject(value)) {
          throw new TreeMismatchError(
            path,
            `treeMapParams: the state made by init has ${describe(ph)} but the state given has ${describe(value)}`,
          );
        }
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(ph)) {
          if (!Object.hasOwn(value, k))
            throw new TreeMismatchError([...path, k], 'treeMapParams: present in the state made by init but missing in the state given');
          out[k] = walk(ph[k], value[k], [...path, k]);
        }
        return out;
      }
      return options.transformNonParams ? options.transformNonParams(value) : value;
    };
    return walk(placeholders, state, []);
  } finally {
    for (const leaf of treeLeaves(placeholders)) if (isTensor(leaf)) leaf.dispose();
  }
}
