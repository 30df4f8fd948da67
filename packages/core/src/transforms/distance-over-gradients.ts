/**
 * Distance over gradients (layer-wise DoG): `scaleByDistanceOverGradients`
 * (optax `scale_by_distance_over_gradients`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, Params, Updates } from '../base.js';
import { assertSameShapes, treeFlatten, treeMap, treeUnflatten } from '../tree.js';
import {
  checkFinite,
  checkFloatTree,
  checkNonNegative,
  checkPositive,
  checkStateKeys,
  type OptionDefaults,
  requireParams,
  resolveOptions,
} from '../validate.js';

/** Options of {@link scaleByDistanceOverGradients}. */
export interface ScaleByDistanceOverGradientsOptions {
  /** Sets the initial distance `repsRel · (1 + ‖p0‖)` (default 1e-6; 1e-4 is advised with batch norm), > 0. */
  repsRel?: number;
  /** Added to the gradients' sum of squares under the square root (default 1e-8), ≥ 0. */
  eps?: number;
  /** Multiplies every step (default 1; typically 1 or -1), a finite number. */
  globalScale?: number;
}

/** The state of {@link scaleByDistanceOverGradients}, one entry per leaf in each tree. */
export interface DistanceOverGradientsState {
  /** The largest distance `‖p - p0‖` seen so far (scalar per leaf). */
  maxDist: unknown;
  /** The running sum of the squared gradients (shape `[1]` per leaf, as optax keeps it). */
  gradSumOfSquares: unknown;
  /** The params at `init`. */
  initParams: unknown;
}

/** The defaults of {@link scaleByDistanceOverGradients}'s options. */
export const scaleByDistanceOverGradientsDefaults: OptionDefaults<ScaleByDistanceOverGradientsOptions> = Object.freeze({
  repsRel: 1e-6,
  eps: 1e-8,
  globalScale: 1,
});

const l2 = (x: tf.Tensor, y?: tf.Tensor): tf.Tensor => tf.sqrt(tf.sum(tf.square(y === undefined ? x : tf.sub(x, y))));

/**
 * Scales each leaf's updates by its own distance-over-gradients step size
 * (layer-wise DoG, LDoG in the paper):
 * $$
 * \bar r \leftarrow \max(\bar r, \lVert p - p_0 \rVert), \qquad G \leftarrow G + \textstyle\sum g^2, \qquad u = s\, \frac{\bar r}{\sqrt{G + \epsilon}}\, g \quad \text{(per leaf)}
 * $$
 *
 * ```
 * maxDist = max(maxDist, ‖p - p0‖)          (init: repsRel · (1 + ‖p0‖))
 * G       = G + Σ g²                        (init: 0)
 * u       = globalScale · maxDist / sqrt(G + eps) · g
 * ```
 * per leaf, with `p0` the params at `init`. Needs `params`. The running sum
 * has shape `[1]` as in optax, so a rank-0 leaf's update has shape `[1]`.
 * Does not fuse (the distance is a per-leaf norm of `p - p0`): it runs on the
 * reference path. Defaults `repsRel = 1e-6, eps = 1e-8, globalScale = 1`.
 * Reference: Ivgi et al., "DoG is SGD's Best Friend: A Parameter-Free Dynamic
 * Step Size Schedule" (2023); optax `scale_by_distance_over_gradients`.
 */
export function scaleByDistanceOverGradients(
  options?: ScaleByDistanceOverGradientsOptions,
): GradientTransformation<DistanceOverGradientsState> {
  const fn = 'scaleByDistanceOverGradients';
  const o = resolveOptions(fn, options, scaleByDistanceOverGradientsDefaults);
  const repsRel = checkPositive(fn, 'repsRel', o.repsRel);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const globalScale = checkFinite(fn, 'globalScale', o.globalScale);
  return {
    init(params: Params) {
      checkFloatTree(fn, 'params', params);
      return tf.tidy(() => ({
        maxDist: treeMap((p: tf.Tensor) => tf.mul(repsRel, tf.add(1, l2(p))), params),
        gradSumOfSquares: treeMap(() => tf.zeros([1]), params),
        initParams: treeMap((p: tf.Tensor) => tf.clone(p), params),
      })) as DistanceOverGradientsState;
    },
    update(updates: Updates, state: DistanceOverGradientsState, params?: Params) {
      checkFloatTree(fn, 'updates', updates);
      requireParams(fn, params);
      checkFloatTree(fn, 'params', params);
      checkStateKeys(fn, state, ['maxDist', 'gradSumOfSquares', 'initParams']);
      assertSameShapes(updates, params, ['updates', 'params']);
      assertSameShapes(params, state.initParams, ['params', 'state.initParams']);
      return tf.tidy(() => {
        const { leaves: gs, treedef } = treeFlatten<tf.Tensor>(updates);
        const ps = treeFlatten<tf.Tensor>(params).leaves;
        const p0s = treeFlatten<tf.Tensor>(state.initParams).leaves;
        const ds = treeFlatten<tf.Tensor>(state.maxDist).leaves;
        const sos = treeFlatten<tf.Tensor>(state.gradSumOfSquares).leaves;
        const maxDist = gs.map((_, i) => tf.maximum(ds[i] as tf.Tensor, l2(ps[i] as tf.Tensor, p0s[i])));
        const gSos = gs.map((g, i) => tf.add(sos[i] as tf.Tensor, tf.sum(tf.square(g))));
        const out = gs.map((g, i) =>
          tf.mul(tf.mul(globalScale, tf.div(maxDist[i] as tf.Tensor, tf.sqrt(tf.add(gSos[i] as tf.Tensor, eps)))), g),
        );
        const next: DistanceOverGradientsState = {
          maxDist: treeUnflatten(treedef, maxDist),
          gradSumOfSquares: treeUnflatten(treedef, gSos),
          initParams: treeMap((p: tf.Tensor) => tf.clone(p), state.initParams),
        };
        return [treeUnflatten<Updates>(treedef, out), next] as never;
      });
    },
  };
}
