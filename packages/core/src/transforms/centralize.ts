/**
 * Gradient centralization: `centralize` (optax `centralize`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Updates } from '../base.js';
import { treeMap } from '../tree.js';
import { checkFloatTree, checkStateKeys } from '../validate.js';

/**
 * Centralizes each leaf of rank ≥ 2 by subtracting its mean over every axis
 * but the first: for a `[n, ...]` leaf, `u[i] = g[i] - mean(g[i])`, one mean
 * per index `i` of the leading axis (the mean is a sum divided once by the
 * count, as `jnp.mean` computes it). Scalars and vectors pass through
 * unchanged. Stateless (`{}`).
 * Reference: Yong et al., "Gradient Centralization: A New Optimization
 * Technique for Deep Neural Networks" (2020); optax `centralize`.
 *
 * $$
 * u_i = g_i - \frac{1}{n} \sum_{j} g_{i,j}
 * $$
 */
export function centralize(): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update(updates: Updates, state: Record<string, never>) {
      checkStateKeys('centralize', state, []);
      checkFloatTree('centralize', 'updates', updates);
      const out = tf.tidy(() =>
        treeMap((g: tf.Tensor) => {
          if (g.rank <= 1) return tf.clone(g);
          const axes = g.shape.slice(1).map((_, i) => i + 1);
          const count = g.shape.slice(1).reduce((a, b) => a * b, 1);
          return tf.sub(g, tf.div(tf.sum(g, axes, true), tf.scalar(count, 'float32')));
        }, updates),
      ) as Updates;
      return [out, {}];
    },
  };
}
