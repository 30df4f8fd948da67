/**
 * The inverse p-th root of a symmetric positive semi-definite matrix by
 * coupled Newton iterations (optax `matrix_inverse_pth_root`, the
 * preconditioner root of Shampoo).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { powerIteration } from './linear-algebra.js';
import { checkInteger, checkNonNegative, resolveOptions, showValue } from './validate.js';

/** Options of {@link matrixInversePthRoot}. */
export interface MatrixInversePthRootOptions {
  /** The most Newton iterations (default 100), an integer ≥ 0. */
  numIters?: number;
  /** Ridge added to the diagonal, times the largest eigenvalue (default 1e-6), ≥ 0. */
  ridgeEpsilon?: number;
  /** Stop once `max |M - I| ≤ errorTolerance` (default 1e-6), ≥ 0. */
  errorTolerance?: number;
}

const DEFAULTS: Required<MatrixInversePthRootOptions> = { numIters: 100, ridgeEpsilon: 1e-6, errorTolerance: 1e-6 };

/** The exponents optax's iteration supports (its matrix power is unrolled for 1, 2, 4 and 8). */
const EXPONENTS = [1, 2, 4, 8];

/** `m^p` for p = 1, 2, 4 or 8, by repeated squaring. */
function matPower(m: tf.Tensor2D, p: number): tf.Tensor2D {
  let out = m;
  for (let q = 1; q < p; q *= 2) out = tf.matMul(out, out);
  return out;
}

/**
 * `A^(-1/p)` for a symmetric positive semi-definite `A` (n × n) and
 * p ∈ {1, 2, 4, 8}, by the coupled Newton iteration (Higham, eq. 7.18): with
 * the ridge $\epsilon = \mathrm{ridgeEpsilon} \cdot \max(\lambda_{\max}(A), 10^{-16})$
 * ($\lambda_{\max}$ by power iteration), $D = A + \epsilon I$,
 * $z = (1 + p) / (2 \lVert D \rVert_F)$, $M_0 = z D$, $H_0 = z^{1/p} I$ and $\alpha = -1/p$:
 * $$M_i' = (1 - \alpha) I + \alpha M_i,\qquad M_{i+1} = (M_i')^p M_i,\qquad H_{i+1} = H_i M_i',$$
 * while `i < numIters`, $\max|M_i - I| > \mathrm{errorTolerance}$ and the error
 * grew by less than 1.2× in the last step; the result is $H$ (the previous
 * one if the last step made the error grow). A 1 × 1 matrix gives
 * $(a + \epsilon)^{\alpha}$ directly. Returns `[H, error]` with
 * `error = max |M - I|` (0 for 1 × 1). Each iteration reads the error back.
 * Defaults: `numIters = 100, ridgeEpsilon = 1e-6, errorTolerance = 1e-6`.
 * Reference: Higham, "Functions of Matrices" (2008), p. 184; optax
 * `matrix_inverse_pth_root`.
 */
export function matrixInversePthRoot(matrix: tf.Tensor, p: number, options?: MatrixInversePthRootOptions): [tf.Tensor2D, tf.Scalar] {
  const fn = 'matrixInversePthRoot';
  if (!(matrix instanceof tf.Tensor) || matrix.rank !== 2 || matrix.shape[0] !== matrix.shape[1] || matrix.dtype !== 'float32') {
    throw new Error(`${fn}: \`matrix\` must be a square float32 matrix, got ${showValue(matrix)}`);
  }
  if (!EXPONENTS.includes(p)) throw new Error(`${fn}: \`p\` must be 1, 2, 4 or 8 (as optax's iteration supports), got ${showValue(p)}`);
  const o = resolveOptions(fn, options, DEFAULTS);
  const numIters = checkInteger(fn, 'numIters', o.numIters, 0);
  const tol = checkNonNegative(fn, 'errorTolerance', o.errorTolerance);
  const ridgeEpsilon = checkNonNegative(fn, 'ridgeEpsilon', o.ridgeEpsilon);
  const n = matrix.shape[0] as number;
  return tf.tidy(() => {
    const alpha = tf.scalar(Math.fround(-1 / p));
    const [maxEv] = powerIteration(matrix, { numIters: 100, errorTolerance: 1e-6 });
    const ridge = tf.mul(ridgeEpsilon, tf.maximum(maxEv, 1e-16));
    if (n === 1) return [tf.pow(tf.add(matrix, ridge), alpha) as tf.Tensor2D, tf.scalar(0)];
    const identity = tf.eye(n);
    const distance = (m: tf.Tensor) => tf.max(tf.abs(tf.sub(m, identity))) as tf.Scalar;
    const damped = tf.add(matrix, tf.mul(ridge, identity));
    const z = tf.div(1 + p, tf.mul(2, tf.norm(damped)));
    let m = tf.mul(damped, z) as tf.Tensor2D;
    let h = tf.mul(identity, tf.pow(z, 1 / p)) as tf.Tensor2D;
    let oldH = h;
    let error = distance(m).dataSync()[0] as number;
    let converging = true;
    const oneMinusAlpha = tf.sub(1, alpha);
    for (let i = 0; i < numIters && error > tol && converging; i++) {
      const mi = tf.add(tf.mul(oneMinusAlpha, identity), tf.mul(alpha, m)) as tf.Tensor2D;
      [m, h, oldH] = [tf.matMul(matPower(mi, p), m), tf.matMul(h, mi), h];
      const next = distance(m).dataSync()[0] as number;
      // the error may grow a little before it shrinks: up to 1.2× is allowed
      converging = next < Math.fround(error * Math.fround(1.2));
      error = next;
    }
    return [converging ? h : oldH, distance(m)];
  });
}
