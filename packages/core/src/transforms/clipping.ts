/**
 * Gradient clipping: `clip`, `clipByGlobalNorm`, `clipByBlockRms` and
 * `adaptiveGradClip` (optax `transforms/_clipping.py`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, Updates } from '../base.js';
import { type ElementwiseState, elementwise } from '../elementwise.js';
import { tfOps } from '../lang/reference.js';
import { assertSameShapes, formatPath, type PathKey, treeLeavesWithPath, treeMap } from '../tree.js';
import {
  checkFloatTree,
  checkNonNegative,
  checkPositive,
  checkStateKeys,
  type OptionDefaults,
  requireParams,
  resolveOptions,
  showValue,
} from '../validate.js';
import { normOverAxes } from './unitwise.js';

/**
 * Clips every element of the updates to `[-maxDelta, maxDelta]`:
 * `u = min(max(g, -maxDelta), maxDelta)` (NaN stays NaN). Stateless (`{}`).
 * `maxDelta` must be a finite number ≥ 0. Reference: optax `clip`.
 *
 * $$
 * u = \min\big(\max(g, -\delta), \delta\big), \qquad \delta = \mathrm{maxDelta}
 * $$
 */
export function clip(maxDelta: number): GradientTransformation<ElementwiseState> {
  checkNonNegative('clip', 'maxDelta', maxDelta);
  return elementwise({
    name: 'clip',
    key: 'clip',
    slots: [],
    counted: false,
    needsParams: false,
    scalars: () => ({ lo: -maxDelta, hi: maxDelta }),
    body: (m, { u }, k) => ({ u: m.min(m.max(u, k.lo), k.hi) }),
  });
}

/**
 * The state of {@link clipByGlobalNorm}: `globalNorm` is a scalar float32
 * tensor holding the global norm of the updates received by the last update,
 * measured before clipping (0 after `init`). This goes beyond optax, whose
 * state is empty (see optax issue #326); it lets a training loop log the norm
 * without computing it twice.
 */
export interface ClipByGlobalNormState {
  /** The pre-clip global l2 norm of the last step's updates (scalar float32 tensor; 0 after `init`). */
  globalNorm: tf.Scalar;
}

/**
 * Rescales the whole update tree so that its global l2 norm is at most
 * `maxNorm`. With $n = \sqrt{\sum g^2}$ over every element of every leaf:
 *
 * $$
 * u = \begin{cases} g & n < \mathrm{maxNorm} \\ \dfrac{g}{n}\, \mathrm{maxNorm} & \text{otherwise} \end{cases}
 * $$
 *
 * so a tree whose norm equals `maxNorm` goes through the rescaling branch (a
 * no-op up to rounding), as in optax. State `{ globalNorm }`: the pre-clip
 * norm of the last update (see {@link ClipByGlobalNormState}; optax keeps no
 * state here). `maxNorm` must be a finite number > 0.
 * Reference: Pascanu et al., "On the difficulty of training Recurrent Neural
 * Networks" (2012); optax `clip_by_global_norm`.
 *
 * @example
 * ```ts
 * const opt = createOptimizer(chain(clipByGlobalNorm(1), adamw(1e-3)), params);
 * for (const batch of data) opt.minimize((p) => loss(p, batch));
 * ```
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<ElementwiseState & ClipByGlobalNormState> {
  checkPositive('clipByGlobalNorm', 'maxNorm', maxNorm);
  return elementwise({
    name: 'clipByGlobalNorm',
    key: 'clipByGlobalNorm',
    slots: [],
    counted: false,
    needsParams: false,
    reductions: [{ name: 'globalNorm', of: 'u', op: 'l2', scope: 'global' }],
    reductionsInState: ['globalNorm'],
    scalars: () => ({ maxNorm }),
    body: (m, { u }, k) => ({
      u: m.select(m.lt(k.globalNorm, k.maxNorm), u, m.mul(m.div(u, k.globalNorm), k.maxNorm)),
    }),
  }) as GradientTransformation<ElementwiseState & ClipByGlobalNormState>;
}

/**
 * Rescales each leaf (block) separately so that its root mean square is at
 * most `threshold`: `u = g / max(1, sqrt(mean(g²)) / threshold)`, the mean
 * taken over the leaf's elements. Stateless (`{}`). `threshold` must be a
 * finite number > 0. Reference: optax `clip_by_block_rms`.
 *
 * $$
 * u = \frac{g}{\max\big(1, \mathrm{RMS}(g) / \tau\big)}, \qquad \mathrm{RMS}(g) = \sqrt{\operatorname{mean}(g^2)}, \quad \tau = \mathrm{threshold}
 * $$
 */
export function clipByBlockRms(threshold: number): GradientTransformation<ElementwiseState> {
  checkPositive('clipByBlockRms', 'threshold', threshold);
  return elementwise({
    name: 'clipByBlockRms',
    key: 'clipByBlockRms',
    slots: [],
    counted: false,
    needsParams: false,
    reductions: [{ name: 'blockMeanSq', of: 'u', op: 'meanSq', scope: 'leaf' }],
    scalars: () => ({ threshold }),
    body: (m, { u }, k) => ({ u: m.div(u, m.max(m.c(1), m.div(m.sqrt(k.blockMeanSq), k.threshold))) }),
  });
}

/** Options of {@link adaptiveGradClip}. */
export interface AdaptiveGradClipOptions {
  /** Lower bound on a unit's param norm, so zero-initialised params can still move (default 1e-3), ≥ 0. */
  eps?: number;
  /**
   * The axis or axes summed over to get one norm per unit (negative values
   * count from the end). Default: inferred from each leaf's rank: the whole
   * leaf for scalars and vectors (also a `[1, n]` leaf, whose squeezed rank is
   * 1), axis 0 for rank 2 and 3 (linear and multi-head linear kernels, output
   * units last), axes 0-2 for rank 4 (HWIO convolutions), axes 0-3 for rank 5;
   * other ranks need `axis`.
   */
  axis?: number | readonly number[];
}

/** The axes `adaptiveGradClip` reduces over for a leaf of this shape (null: all of them). */
function unitAxes(fn: string, path: readonly PathKey[], shape: readonly number[], axis: readonly number[] | undefined): number[] | null {
  const rank = shape.length;
  if (axis !== undefined) {
    for (const a of axis) {
      if (a < -rank || a >= rank) {
        throw new Error(
          `${fn}: \`axis\` ${a} is out of range for the leaf at \`${formatPath(path)}\` of shape [${shape.join(', ')}] (rank ${rank})`,
        );
      }
    }
    return axis.map((a) => (a < 0 ? a + rank : a));
  }
  if (shape.filter((d) => d !== 1).length <= 1) return null;
  if (rank === 2 || rank === 3) return [0];
  if (rank === 4) return [0, 1, 2];
  if (rank === 5) return [0, 1, 2, 3];
  throw new Error(
    `${fn}: cannot infer the units of the leaf at \`${formatPath(path)}\` of shape [${shape.join(', ')}] (rank ${rank}); the defaults cover ranks 1 to 5, pass \`axis\` for other shapes`,
  );
}

/** The defaults of {@link adaptiveGradClip}'s options (`undefined`: no default). */
export const adaptiveGradClipDefaults: OptionDefaults<AdaptiveGradClipOptions, 'axis'> = Object.freeze({ eps: 1e-3, axis: undefined });

/**
 * Adaptive gradient clipping (AGC): clips each unit (e.g. each output neuron's
 * weights) of each leaf so that its update norm is at most `clipping` times
 * its param norm. With unit-wise l2 norms `‖g‖` and `‖p‖` (see
 * {@link AdaptiveGradClipOptions.axis}):
 * $$
 * \begin{aligned}
 * m &= \mathrm{clipping} \cdot \max(\lVert p \rVert, \epsilon), \\
 * u &= \begin{cases} g & \lVert g \rVert < m \\ g\, \dfrac{m}{\max(\lVert g \rVert, 10^{-6})} & \text{otherwise} \end{cases}
 * \end{aligned}
 * $$
 * Needs `params`. Stateless (`{}`). Defaults: `eps = 1e-3`, `axis` inferred
 * from each leaf's rank. `clipping` must be a finite number ≥ 0.
 * Reference: Brock et al., "High-Performance Large-Scale Image Recognition
 * Without Normalization" (2021); optax `adaptive_grad_clip`.
 */
export function adaptiveGradClip(clipping: number, options: AdaptiveGradClipOptions = {}): GradientTransformation<Record<string, never>> {
  const fn = 'adaptiveGradClip';
  const o = resolveOptions(fn, options, adaptiveGradClipDefaults);
  checkNonNegative(fn, 'clipping', clipping);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  let axis: readonly number[] | undefined;
  if (o.axis !== undefined) {
    axis = typeof o.axis === 'number' ? [o.axis] : o.axis;
    if (!Array.isArray(axis) || axis.length === 0 || !axis.every((a) => Number.isInteger(a))) {
      throw new Error(`${fn}: \`axis\` must be an integer or a non-empty array of integers, got ${showValue(o.axis)}`);
    }
  }
  return {
    init: () => ({}),
    update(updates: Updates, state: Record<string, never>, params?: Params) {
      checkStateKeys(fn, state, []);
      requireParams(fn, params);
      checkFloatTree(fn, 'updates', updates);
      checkFloatTree(fn, 'params', params);
      assertSameShapes(updates, params, ['updates', 'params']);
      const axes = treeLeavesWithPath(updates).map(([path, u]) => unitAxes(fn, path, (u as tf.Tensor).shape, axis));
      let i = 0;
      const out = tf.tidy(() =>
        treeMap(
          (g: tf.Tensor, p: tf.Tensor) => {
            const leafAxes = axes[i++] ?? null;
            const gNorm = normOverAxes(g, leafAxes);
            const maxNorm = tf.mul(tf.scalar(clipping, 'float32'), tfOps.max(normOverAxes(p, leafAxes), tf.scalar(eps, 'float32')));
            const clipped = tf.mul(g, tf.div(maxNorm, tfOps.max(gNorm, tf.scalar(1e-6, 'float32'))));
            return tf.where(tf.less(gNorm, maxNorm), g, clipped);
          },
          updates,
          [params],
          { names: ['updates', 'params'] },
        ),
      ) as Updates;
      return [out, {}];
    },
  };
}
