/**
 * Gradient noise: `addNoise` (optax `add_noise`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, safeIncrement } from '../base.js';
import { f32 } from '../lang/spec.js';
import { leafSeed, mix32 } from '../seeds.js';
import { treeFlatten, treeUnflatten } from '../tree.js';
import { checkFinite, checkFloatTree, checkInteger, checkNonNegative, checkStateKeys, showValue } from '../validate.js';

/** The state of {@link addNoise}. */
export interface AddNoiseState {
  /** Number of updates so far (a JS number, saturating at 2^31 - 1). */
  count: number;
  /** The generator's key: an unsigned 32-bit integer, replaced by a derived key after every update. */
  rngKey: number;
}

/** The largest seed {@link addNoise} accepts (the key is an unsigned 32-bit integer). */
const MAX_SEED = 2 ** 32 - 1;

/** Splits a key into the key kept for the next update and the key that seeds this update's noise. */
function splitKey(key: number): [next: number, sample: number] {
  return [mix32((key ^ 0x243f6a88) >>> 0), mix32((key ^ 0x85a308d3) >>> 0)];
}

/**
 * Adds annealed Gaussian noise to the updates:
 * $$
 * u = g + \sqrt{\frac{\eta}{t^{\gamma}}}\; \xi, \qquad \xi \sim \mathcal{N}(0, 1), \quad t = \mathrm{count} + 1
 * $$
 * so the noise variance is `eta / (count + 1)^gamma`. The standard deviation
 * is computed in float32, as in optax.
 *
 * State `{ count, rngKey }` (see {@link AddNoiseState}): plain numbers, so the
 * state checkpoints and restores like any other. Randomness: the key starts at
 * `seed`; every update splits it (with the murmur3 32-bit finaliser) into the
 * next key and a sample key, and leaf `i` (in tree order) is filled by
 * `tf.randomNormal` seeded with a value derived from the sample key and `i`.
 * The noise is therefore reproducible for a given seed, params structure and
 * step, on every backend (tfjs draws seeded normals on the CPU), but it is
 * not JAX's threefry stream, so it does not equal optax's noise bit for bit.
 *
 * `eta` must be ≥ 0, `gamma` finite, `seed` an integer in [0, 2^32 - 1]
 * (default 0, as optax's default key).
 * Reference: Neelakantan et al., "Adding Gradient Noise Improves Learning for
 * Very Deep Networks" (2015); optax `add_noise`.
 */
export function addNoise(eta: number, gamma: number, seed = 0): GradientTransformation<AddNoiseState> {
  const fn = 'addNoise';
  checkNonNegative(fn, 'eta', eta);
  checkFinite(fn, 'gamma', gamma);
  checkInteger(fn, 'seed', seed, 0);
  if (seed > MAX_SEED) throw new Error(`${fn}: \`seed\` must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  return {
    init(params) {
      checkFloatTree(fn, 'params', params);
      return { count: 0, rngKey: seed };
    },
    update(updates, state) {
      checkFloatTree(fn, 'updates', updates);
      checkStateKeys(fn, state, ['count', 'rngKey']);
      const { count, rngKey } = state;
      if (typeof count !== 'number' || !(count >= 0)) throw new Error(`${fn}: state.count must be a number >= 0, got ${showValue(count)}`);
      if (!Number.isInteger(rngKey) || rngKey < 0 || rngKey > MAX_SEED) {
        throw new Error(`${fn}: state.rngKey must be an integer in [0, ${MAX_SEED}], got ${showValue(rngKey)}`);
      }
      const countInc = safeIncrement(count);
      // float32, as optax: count_inc ** gamma, eta / that, then the square root.
      const stddev = f32(Math.sqrt(f32(f32(eta) / f32(countInc ** f32(gamma)))));
      const [nextKey, sampleKey] = splitKey(rngKey);
      const out = tf.tidy(() => {
        const { leaves, treedef } = treeFlatten<tf.Tensor>(updates);
        const scale = tf.scalar(stddev, 'float32');
        const noisy = leaves.map((g, i) => tf.add(g, tf.mul(scale, tf.randomNormal(g.shape, 0, 1, 'float32', leafSeed(sampleKey, i)))));
        return treeUnflatten(treedef, noisy) as tf.TensorContainer;
      });
      return [out as never, { count: countInc, rngKey: nextKey }];
    },
  };
}
