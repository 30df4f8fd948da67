/**
 * Tree helpers of optax.tree for comparing, batching and typing trees:
 * `treeAllclose`, `treeBatchShape`, `treeDtype`, `treeReal`, `treeConj`
 * (optax.tree `allclose`, `batch_shape`, `dtype`, `real`, `conj`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeLeaves, treeMap } from './tree.js';
import { checkNonNegative } from './validate.js';

/** Options of {@link treeAllclose}. */
export interface TreeAllcloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
  /** NaN equals NaN (default false). */
  equalNan?: boolean;
}

/**
 * Whether every leaf of `a` is close to the leaf of `b`:
 * `|a - b| <= atol + rtol · |b|` element-wise (infinities equal when they
 * match). Returns a JS boolean (it reads the values). Defaults `rtol = 1e-5,
 * atol = 1e-8, equalNan = false`. Reference: optax `tree_allclose` (`jnp.allclose`).
 */
export function treeAllclose(a: unknown, b: unknown, options: TreeAllcloseOptions = {}): boolean {
  const rtol = checkNonNegative('treeAllclose', 'rtol', options.rtol ?? 1e-5);
  const atol = checkNonNegative('treeAllclose', 'atol', options.atol ?? 1e-8);
  const equalNan = options.equalNan ?? false;
  const close = tf.tidy(() =>
    treeLeaves<tf.Tensor>(
      treeMap(
        (x: tf.Tensor, y: tf.Tensor) => {
          const xf = tf.cast(x, 'float32');
          const yf = tf.cast(y, 'float32');
          const within = tf.lessEqual(tf.abs(tf.sub(xf, yf)), tf.add(atol, tf.mul(rtol, tf.abs(yf))));
          const sameInf = tf.logicalAnd(tf.equal(xf, yf), tf.logicalNot(tf.isFinite(yf)));
          let ok = tf.logicalOr(within, sameInf);
          if (equalNan) ok = tf.logicalOr(ok, tf.logicalAnd(tf.isNaN(xf), tf.isNaN(yf)));
          return tf.all(ok);
        },
        a,
        [b],
        { names: ['a', 'b'] },
      ),
    ).reduce((acc: tf.Tensor, x) => tf.logicalAnd(acc, x), tf.scalar(true, 'bool')),
  );
  const out = close.dataSync()[0] === 1;
  close.dispose();
  return out;
}

/** Every leaf broadcast to `[...shape, ...leaf.shape]`. Reference: optax `tree_batch_shape`. */
export function treeBatchShape<T>(tree: T, shape: readonly number[] = []): T {
  return tf.tidy(() => treeMap((x: tf.Tensor) => tf.broadcastTo(x, [...shape, ...x.shape]), tree) as tf.TensorContainer) as T;
}

/**
 * The dtype of the tree's leaves: an error when they differ, unless
 * `mixedDtypeHandler` is `'promote'` or `'highest'` (the widest of
 * bool < int32 < float32) or `'lowest'`. `'float32'` for an empty tree.
 * Reference: optax `tree_dtype`.
 */
export function treeDtype(tree: unknown, mixedDtypeHandler?: 'promote' | 'highest' | 'lowest' | null): tf.DataType {
  const rank: Record<string, number> = { bool: 0, int32: 1, float32: 2, complex64: 3, string: 4 };
  const dtypes = treeLeaves<tf.Tensor>(tree).map((x) => x.dtype);
  if (dtypes.length === 0) return 'float32';
  if (mixedDtypeHandler === undefined || mixedDtypeHandler === null) {
    const other = dtypes.find((d) => d !== dtypes[0]);
    if (other !== undefined)
      throw new Error(`treeDtype: the leaves have different dtypes (${dtypes[0]} and ${other}); pass a mixedDtypeHandler`);
    return dtypes[0] as tf.DataType;
  }
  if (mixedDtypeHandler !== 'promote' && mixedDtypeHandler !== 'highest' && mixedDtypeHandler !== 'lowest') {
    throw new Error(`treeDtype: \`mixedDtypeHandler\` must be 'promote', 'highest' or 'lowest', got ${JSON.stringify(mixedDtypeHandler)}`);
  }
  const pick =
    mixedDtypeHandler === 'lowest'
      ? (a: string, b: string) => ((rank[a] ?? 0) <= (rank[b] ?? 0) ? a : b)
      : (a: string, b: string) => ((rank[a] ?? 0) >= (rank[b] ?? 0) ? a : b);
  return dtypes.reduce((a, b) => pick(a, b) as tf.DataType);
}

/** The real part of every leaf (a copy for real dtypes). Reference: optax `tree_real`. */
export function treeReal<T>(tree: T): T {
  return tf.tidy(() => treeMap((x: tf.Tensor) => (x.dtype === 'complex64' ? tf.real(x) : tf.clone(x)), tree) as tf.TensorContainer) as T;
}

/** The complex conjugate of every leaf (a copy for real dtypes). Reference: optax `tree_conj`. */
export function treeConj<T>(tree: T): T {
  return tf.tidy(
    () =>
      treeMap(
        (x: tf.Tensor) => (x.dtype === 'complex64' ? tf.complex(tf.real(x), tf.neg(tf.imag(x))) : tf.clone(x)),
        tree,
      ) as tf.TensorContainer,
  ) as T;
}
