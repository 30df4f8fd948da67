/**
 * Differentially private aggregation: `differentiallyPrivateAggregate` and
 * `dpsgd` (optax `contrib.differentially_private_aggregate`,
 * `contrib.dpsgd`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  chain,
  checkBoolean,
  checkDecay,
  checkNonNegative,
  checkStateKeys,
  f32,
  type GradientTransformation,
  identity,
  perExampleGlobalNormClip,
  resolveOptions,
  type ScalarOrSchedule,
  scaleByLearningRate,
  trace,
  treeFlatten,
  treeUnflatten,
  type Updates,
} from './core-api.js';
import { checkKey, leafSeed, nextKey } from './seeds.js';

/** The state of {@link differentiallyPrivateAggregate}: the generator's key, an unsigned 32-bit integer. */
export interface DifferentiallyPrivateAggregateState {
  rngKey: number;
}

/**
 * Clips each example's gradient to global norm `l2NormClip`, sums over the
 * batch, adds Gaussian noise and averages: with `B` the batch size (the
 * leading axis of every leaf), `g_i` example `i`'s gradient,
 * $$
 * u = \frac{1}{B} \left( \sum_i g_i \min\!\Big(1, \frac{C}{\lVert g_i \rVert}\Big) + C \sigma\, \xi \right), \qquad \xi \sim \mathcal{N}(0, I), \quad C = \mathrm{l2NormClip}, \; \sigma = \mathrm{noiseMultiplier}
 * $$
 *
 * ```
 * u = (Σ_i g_i · min(1, l2NormClip / ‖g_i‖) + l2NormClip · noiseMultiplier · N(0, I)) / B
 * ```
 * Noise: not JAX's threefry stream, so it does not equal optax's noise; it is
 * reproducible for a seed, a tree structure and a step, on every backend
 * (tfjs draws seeded normals on the CPU). The key starts at `seed`; each
 * update derives one tfjs seed per leaf and the next key from it by a
 * 32-bit scramble. With `noiseMultiplier = 0` the result is optax's exactly
 * (checked against optax fixtures); the noise's distribution is checked
 * statistically (mean, standard deviation, independence of leaves, steps
 * and seeds).
 *
 * State {@link DifferentiallyPrivateAggregateState}. `seed` (default 0, as
 * optax's default key) an integer in [0, 2^32 - 1]. Fuses: no (per-example
 * norms; reference path). Reference: Abadi et al., "Deep Learning with
 * Differential Privacy" (CCS 2016); optax
 * `contrib.differentially_private_aggregate`.
 */
export function differentiallyPrivateAggregate(
  l2NormClip: number,
  noiseMultiplier: number,
  options?: { seed?: number },
): GradientTransformation<DifferentiallyPrivateAggregateState> {
  const fn = 'differentiallyPrivateAggregate';
  checkNonNegative(fn, 'l2NormClip', l2NormClip);
  checkNonNegative(fn, 'noiseMultiplier', noiseMultiplier);
  const seed = checkKey(fn, 'seed', resolveOptions(fn, options, { seed: 0 }).seed);
  const noiseStd = f32(l2NormClip * noiseMultiplier);
  return {
    init: () => ({ rngKey: seed }),
    update(updates, state) {
      checkStateKeys(fn, state, ['rngKey']);
      const key = checkKey(fn, 'state.rngKey', state.rngKey);
      const { leaves, treedef } = treeFlatten<tf.Tensor>(updates);
      if (leaves.length === 0 || leaves.some((g) => g.rank === 0)) {
        throw new Error(`${fn}: every leaf of the updates needs a leading batch axis (per-example gradients)`);
      }
      const batch = leaves[0]!.shape[0] as number;
      const out = tf.tidy(() => {
        const [sums] = perExampleGlobalNormClip(leaves, l2NormClip) as [tf.Tensor[], tf.Tensor];
        const noised = sums.map((g, i) => {
          const noisy = noiseStd === 0 ? g : tf.add(g, tf.mul(noiseStd, tf.randomNormal(g.shape, 0, 1, 'float32', leafSeed(key, i))));
          return tf.div(noisy, batch);
        });
        return treeUnflatten<Updates>(treedef, noised) as tf.TensorContainer;
      }) as Updates;
      return [out, { rngKey: nextKey(key) }];
    },
  };
}

/** Options of {@link dpsgd}. */
export interface DpsgdOptions {
  /** Momentum decay (default: none, plain SGD), in [0, 1). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

/**
 * DP-SGD: `chain(differentiallyPrivateAggregate(l2NormClip, noiseMultiplier,
 * { seed }), trace({ decay: momentum, nesterov }) (when momentum is given),
 * scaleByLearningRate(learningRate))`. The updates must be per-example
 * gradients (a leading batch axis on every leaf); see
 * {@link differentiallyPrivateAggregate} for the noise. Fuses: the momentum
 * and learning-rate stages do; the aggregation runs on the reference path.
 * Reference: Abadi et al., "Deep Learning with Differential Privacy" (CCS
 * 2016); optax `contrib.dpsgd`.
 *
 * $$
 * \tilde g = \frac{1}{B} \left( \sum_i g_i \min\!\Big(1, \frac{C}{\lVert g_i \rVert}\Big) + C \sigma\, \xi \right), \qquad m \leftarrow \tilde g + \beta m, \qquad u = -\eta\, m
 * $$
 */
export function dpsgd(
  learningRate: ScalarOrSchedule,
  l2NormClip: number,
  noiseMultiplier: number,
  seed: number,
  options?: DpsgdOptions,
): GradientTransformation {
  const fn = 'dpsgd';
  const o = resolveOptions(fn, options, { momentum: undefined as number | undefined, nesterov: false });
  if (o.momentum !== undefined) checkDecay(fn, 'momentum', o.momentum);
  checkBoolean(fn, 'nesterov', o.nesterov);
  return chain(
    differentiallyPrivateAggregate(l2NormClip, noiseMultiplier, { seed }),
    o.momentum === undefined ? identity() : trace({ decay: o.momentum, nesterov: o.nesterov }),
    scaleByLearningRate(learningRate),
  );
}
