/**
 * Linear algebra helpers: `powerIteration` and `nnls` (optax
 * `power_iteration`, `nnls`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { f32 } from './lang/spec.js';
import { treeMap } from './tree.js';
import { treeNorm, treeVdot } from './tree-utils.js';
import { checkInteger, checkNonNegative, resolveOptions, showValue } from './validate.js';

/** Options of {@link powerIteration}. */
export interface PowerIterationOptions<V = tf.Tensor> {
  /** The starting vector (a tree when `matrix` is a function); default: uniform in [-1, 1) from `seed`. */
  v0?: V;
  /** The most iterations (default 100), an integer ≥ 0. */
  numIters?: number;
  /** Stop once `‖A v - λ v‖ / |λ| < errorTolerance` (default 1e-6), ≥ 0. */
  errorTolerance?: number;
  /** The seed of the default `v0` (default 0; tfjs's generator, so not jax's `v0`). */
  seed?: number;
}

const POWER_DEFAULTS = { v0: undefined as unknown, numIters: 100, errorTolerance: 1e-6, seed: 0 };

/** `(1 / ‖x‖) · x` over a tree (optax's order of operations). */
function normalized<V>(x: V): V {
  return tf.tidy(() => {
    const inv = tf.div(1, treeNorm(x));
    return treeMap((t: tf.Tensor) => tf.mul(inv, t), x) as tf.TensorContainer;
  }) as V;
}

/**
 * The dominant eigenvalue `λ` and eigenvector `v` of a symmetric matrix (or
 * of the linear map `matrix(v)` on trees), by power iteration from `v0`:
 * ```
 * v ← z / ‖z‖,   z ← A v,   λ = <v, z>      until ‖z - λ v‖ / |λ| < errorTolerance or numIters
 * ```
 * Returns `[λ, z / ‖z‖]` (a scalar tensor and a tensor, or a tree for a
 * function). Each iteration reads the residual back to decide whether to go
 * on. Reference: optax `power_iteration`.
 */
export function powerIteration<V = tf.Tensor>(matrix: tf.Tensor | ((v: V) => V), options?: PowerIterationOptions<V>): [tf.Scalar, V] {
  const fn = 'powerIteration';
  const o = resolveOptions(fn, options, POWER_DEFAULTS);
  const numIters = checkInteger(fn, 'numIters', o.numIters, 0);
  const tol = checkNonNegative(fn, 'errorTolerance', o.errorTolerance);
  let mvp: (v: V) => V;
  const v0 = o.v0 as V | undefined;
  if (typeof matrix === 'function') {
    if (v0 === undefined) throw new Error(`${fn}: \`v0\` must be given when \`matrix\` is a function`);
    mvp = matrix;
  } else {
    if (!(matrix instanceof tf.Tensor) || matrix.rank !== 2 || matrix.shape[0] !== matrix.shape[1]) {
      throw new Error(`${fn}: \`matrix\` must be a square matrix or a function, got ${showValue(matrix)}`);
    }
    const n = matrix.shape[1] as number;
    mvp = (v) => tf.reshape(tf.matMul(matrix, tf.reshape(v as tf.Tensor, [n, 1])), [n]) as V;
    checkInteger(fn, 'seed', o.seed, 0);
  }
  const seed = o.seed;
  return tf.tidy(() => {
    const start = v0 ?? (tf.randomUniform([(matrix as tf.Tensor).shape[1] as number], -1, 1, 'float32', seed + 1) as V);
    let v = normalized(start);
    let z = mvp(v);
    let eig: tf.Tensor = tf.scalar(0);
    for (let i = 0; i < numIters; i++) {
      const residual = treeNorm(treeMap((zi: tf.Tensor, vi: tf.Tensor) => tf.sub(zi, tf.mul(eig, vi)), z, [v]));
      if (Math.abs((residual.dataSync()[0] as number) / (eig.dataSync()[0] as number)) < tol) break;
      v = normalized(z);
      z = mvp(v);
      eig = treeVdot(v, z);
    }
    return [eig, normalized(z)] as tf.TensorContainer;
  }) as [tf.Scalar, V];
}

/**
 * Non-negative least squares, `argmin_{x ≥ 0} ½‖A x - b‖²`, by `iters`
 * steps of accelerated projected gradient (FISTA) from `x = 0`: with
 * `Q = AᵀA`, `q = Aᵀb`, `L` (default `min(‖Q‖_F, ‖Q‖_1)`, 1 where that is 0),
 * `p = x`, `c = 0`,
 * ```
 * c' = (1 + sqrt(1 + 4c²)) / 2      x' = max(p - (Q p - q) / L, 0)      p = x' + (c - 1) / c' · (x' - x)
 * ```
 * `b` a vector or a matrix (one problem per column). Reference: optax
 * `nnls`; Beck & Teboulle, "A Fast Iterative Shrinkage-Thresholding
 * Algorithm" (2009).
 */
export function nnls(a: tf.Tensor2D, b: tf.Tensor, iters: number, options?: { L?: number }): tf.Tensor {
  const fn = 'nnls';
  if (!(a instanceof tf.Tensor) || a.rank !== 2) throw new Error(`${fn}: \`A\` must be a matrix, got ${showValue(a)}`);
  if (!(b instanceof tf.Tensor) || (b.rank !== 1 && b.rank !== 2) || b.shape[0] !== a.shape[0]) {
    throw new Error(`${fn}: \`b\` must be a vector or matrix with ${a.shape[0]} rows, got ${showValue(b)}`);
  }
  checkInteger(fn, 'iters', iters, 0);
  const { L } = resolveOptions(fn, options, { L: undefined as number | undefined });
  return tf.tidy(() => {
    const b2 = b.rank === 1 ? tf.reshape(b, [b.shape[0] as number, 1]) : b;
    const q = tf.matMul(a, b2 as tf.Tensor2D, true, false);
    const qq = tf.matMul(a, a, true, false);
    const bound = L === undefined ? tf.minimum(tf.sqrt(tf.sum(tf.square(qq))), tf.max(tf.sum(tf.abs(qq), 0))) : tf.scalar(L);
    const lip = tf.where(tf.equal(bound, 0), tf.onesLike(bound), bound);
    let x: tf.Tensor = tf.zerosLike(q);
    let p = x;
    let c = 0;
    for (let i = 0; i < iters; i++) {
      const cn = f32(f32(1 + f32(Math.sqrt(f32(1 + f32(4 * f32(c * c)))))) / 2);
      const s = f32(f32(c - 1) / cn);
      const xn = tf.relu(tf.sub(p, tf.div(tf.sub(tf.matMul(qq, p), q), lip)));
      p = tf.add(xn, tf.mul(s, tf.sub(xn, x)));
      [x, c] = [xn, cn];
    }
    return b.rank === 1 ? tf.reshape(x, [a.shape[1] as number]) : x;
  });
}
