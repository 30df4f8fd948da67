/**
 * SM3: `scaleBySm3` (optax `scale_by_sm3`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, Updates } from '../base.js';
import { f32 } from '../lang/spec.js';
import { assertSameShapes, formatPath, isTensor, type PathKey, treeFlatten, treeMap, treeMapWithPath, treeUnflatten } from '../tree.js';
import { checkFloatTree, checkNonNegative, checkStateKeys, checkUnitInterval, type OptionDefaults, resolveOptions } from '../validate.js';

/** Options of {@link scaleBySm3}. */
export interface ScaleBySm3Options {
  /** Decay of the moving average of the preconditioned updates (default 0.9), in [0, 1]. */
  b1?: number;
  /** Decay of the squared-gradient accumulators (default 1, a plain running sum), in [0, 1]. */
  b2?: number;
  /** Added inside the square root for numerical stability (default 1e-8), ≥ 0. */
  eps?: number;
}

/**
 * The state of {@link scaleBySm3}. `mu` has the params' structure with each
 * leaf of rank `r` replaced by an array of `r` accumulators, the `i`-th of
 * shape `[shape[i]]` (the cover of the leaf by its slices along axis `i`);
 * `nu` has the params' structure.
 */
export interface ScaleBySm3State {
  /** Per-axis accumulators of squared gradients. */
  mu: unknown;
  /** Moving average of the preconditioned updates (the returned updates). */
  nu: unknown;
}

/** `shape` with every axis but `axis` set to 1. */
function expandedShape(shape: readonly number[], axis: number): number[] {
  return shape.map((d, i) => (i === axis ? d : 1));
}

function rejectScalars(fn: string, treeName: string, tree: unknown): void {
  treeMapWithPath((path: readonly PathKey[], x: tf.Tensor) => {
    if (x.rank === 0) {
      throw new Error(`${fn}: the tensor at \`${formatPath(path)}\` of ${treeName} is a scalar (rank 0); SM3 needs tensors of rank >= 1`);
    }
  }, tree);
}

/** The defaults of {@link scaleBySm3}'s options (`undefined`: no default). */
export const scaleBySm3Defaults: OptionDefaults<ScaleBySm3Options> = Object.freeze({ b1: 0.9, b2: 1, eps: 1e-8 });

/**
 * Rescales updates with SM3's memory-efficient second moments: for a leaf of
 * rank `r`, one accumulator per axis (`r` vectors instead of a full tensor).
 * Per element, with `c = (b2 == 1 ? 1 : 1 - b2)`:
 * $$
 * a = c\, g^2 + b_2 \min_i \mu_i, \qquad \nu \leftarrow (1 - b_1) \frac{g}{\sqrt{a + \epsilon}} + b_1 \nu, \qquad u = \nu
 * $$
 *
 * ```
 * v    = min over axes i of mu[i] (broadcast along the other axes)   (rank 1: mu[0])
 * acc  = c · g² + b2 · v
 * up   = g / sqrt(acc + eps)   where acc > 0, else 0
 * nu   = (1 - b1) up + b1 nu
 * mu[i] = max of acc over every axis but i                            (rank 1: acc)
 * u    = nu
 * ```
 * State `{ mu, nu }` (see {@link ScaleBySm3State}). Defaults: `b1 = 0.9,
 * b2 = 1, eps = 1e-8`. Scalar (rank-0) params are rejected, as optax cannot
 * handle them either.
 * Reference: Anil et al., "Memory-Efficient Adaptive Optimization" (2019);
 * optax `scale_by_sm3`.
 */
export function scaleBySm3(options: ScaleBySm3Options = {}): GradientTransformation<ScaleBySm3State> {
  const fn = 'scaleBySm3';
  const o = resolveOptions(fn, options, scaleBySm3Defaults);
  const b1 = checkUnitInterval(fn, 'b1', o.b1);
  const b2 = checkUnitInterval(fn, 'b2', o.b2);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const gradCoeff = b2 !== 1 ? f32(1 - b2) : 1;
  return {
    init(params: Params): ScaleBySm3State {
      checkFloatTree(fn, 'params', params);
      rejectScalars(fn, 'params', params);
      return {
        mu: treeMap((p: tf.Tensor) => p.shape.map((d) => tf.zeros([d], 'float32')), params),
        nu: treeMap((p: tf.Tensor) => tf.zeros(p.shape, 'float32'), params),
      };
    },
    update(updates: Updates, state: ScaleBySm3State): [Updates, ScaleBySm3State] {
      checkFloatTree(fn, 'updates', updates);
      rejectScalars(fn, 'updates', updates);
      checkStateKeys(fn, state, ['mu', 'nu']);
      assertSameShapes(updates, state.nu, ['updates', 'state.nu']);
      // Collect each leaf's accumulators (in tree order), checking their shapes.
      const mus: tf.Tensor[][] = [];
      treeMapWithPath(
        (path: readonly PathKey[], g: tf.Tensor, mu: unknown) => {
          const ok =
            Array.isArray(mu) && mu.length === g.rank && mu.every((v, i) => isTensor(v) && v.rank === 1 && v.shape[0] === g.shape[i]);
          if (!ok) {
            throw new Error(
              `${fn}: state.mu at \`${formatPath(path)}\` must be an array of ${g.rank} vectors of lengths [${g.shape.join(', ')}] (a state from a different transformation or params?)`,
            );
          }
          mus.push(mu as tf.Tensor[]);
        },
        updates,
        [state.mu],
        { names: ['updates', 'state.mu'] },
      );
      return tf.tidy(() => {
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const nus = treeFlatten<tf.Tensor>(state.nu).leaves;
        const c = tf.scalar(gradCoeff, 'float32');
        const decay2 = tf.scalar(b2, 'float32');
        const decay1 = tf.scalar(b1, 'float32');
        const omb1 = tf.scalar(f32(1 - b1), 'float32');
        const epsT = tf.scalar(eps, 'float32');
        const zero = tf.scalar(0, 'float32');
        const outU: tf.Tensor[] = [];
        const outMu: tf.Tensor[][] = [];
        const outNu: tf.Tensor[] = [];
        gs.forEach((g, leaf) => {
          const covers = (mus[leaf] as tf.Tensor[]).map((v, i) => tf.reshape(v, expandedShape(g.shape, i)));
          const v = covers.reduce((a, b) => tf.minimum(a, b));
          const acc = tf.add(tf.mul(c, tf.square(g)), tf.mul(decay2, v));
          const invSqrt = tf.where(tf.greater(acc, zero), tf.rsqrt(tf.add(acc, epsT)), zero);
          const nu1 = tf.add(tf.mul(omb1, tf.mul(g, invSqrt)), tf.mul(decay1, nus[leaf] as tf.Tensor));
          const axes = g.shape.map((_, i) => i);
          outMu.push(
            g.rank < 2
              ? [acc]
              : axes.map((i) =>
                  tf.max(
                    acc,
                    axes.filter((j) => j !== i),
                  ),
                ),
          );
          outU.push(tf.clone(nu1));
          outNu.push(nu1);
        });
        return [treeUnflatten(treedef, outU), { mu: treeUnflatten(treedef, outMu), nu: treeUnflatten(treedef, outNu) }] as never;
      }) as unknown as [Updates, ScaleBySm3State];
    },
  };
}
