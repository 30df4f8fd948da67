/**
 * A diagonal multivariate normal parametrised by its log-scale
 * (optax `multi_normal`, the distribution behind optax's perturbation
 * utilities).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { leafSeed } from './seeds.js';
import { checkInteger, showValue } from './validate.js';

const MAX_SEED = 2 ** 32 - 1;

/** What {@link multiNormal} returns (optax `MultiNormalDiagFromLogScale`). */
export interface MultiNormalDiag {
  /** The mean (a float32 tensor, the `loc` given). */
  readonly loc: tf.Tensor;
  /** The log of the per-coordinate standard deviation (a float32 tensor). */
  readonly logScale: tf.Tensor;
  /** `[loc, logScale]`, optax's `params`. */
  readonly params: readonly [tf.Tensor, tf.Tensor];
  /** The broadcast shape of `loc` and `logScale`. */
  readonly paramShape: readonly number[];
  /**
   * Draws samples of shape `[...shape, ...paramShape]`:
   * $x = \mu + e^{\log\sigma} \cdot z$, $z \sim \mathcal N(0, 1)$, from the
   * integer `seed` (tfjs's generator, so not the values of JAX's key).
   */
  sample(shape: readonly number[], seed: number): tf.Tensor;
  /**
   * The log density of `x`, summed over the parameter axes (the last
   * `paramShape.length` axes of `x`):
   * $$\log p(x) = \sum_i -\tfrac12\Big(\log(2\pi\sigma_i^2) + \frac{(x_i - \mu_i)^2}{\sigma_i^2}\Big),\quad \sigma = e^{\log\sigma}.$$
   */
  logProb(x: tf.Tensor): tf.Tensor;
  /** Disposes the distribution's tensors (`loc` and `logScale` are the caller's and stay). */
  dispose(): void;
}

/**
 * A diagonal multivariate normal with mean `loc` and standard deviation
 * `exp(logScale)` per coordinate (broadcast together),
 * $$p(x) = \prod_i \mathcal N\big(x_i;\ \mu_i,\ e^{2 \log\sigma_i}\big);$$
 * its `logProb` is the
 * sum over the parameter axes of the per-coordinate normal log density,
 * computed as `jax.scipy.stats.norm.logpdf` does. The tensors given are
 * neither copied nor disposed. Reference: optax `multi_normal`
 * (`MultiNormalDiagFromLogScale`).
 *
 * @example
 * ```ts
 * const d = multiNormal(tf.zeros([3]), tf.fill([3], Math.log(0.5)));
 * const lp = d.logProb(d.sample([10], 1)); // shape [10]
 * ```
 */
export function multiNormal(loc: tf.Tensor, logScale: tf.Tensor): MultiNormalDiag {
  const fn = 'multiNormal';
  for (const [name, t] of [
    ['loc', loc],
    ['logScale', logScale],
  ] as const) {
    if (!(t instanceof tf.Tensor) || t.dtype !== 'float32')
      throw new Error(`${fn}: \`${name}\` must be a float32 tensor, got ${showValue(t)}`);
  }
  const paramShape = tf.broadcast_util.assertAndGetBroadcastShape(loc.shape, logScale.shape);
  const scale = tf.exp(logScale);
  const sqScale = tf.square(scale);
  return {
    loc,
    logScale,
    params: [loc, logScale],
    paramShape,
    sample(shape, seed) {
      checkInteger(fn, 'seed', seed, 0);
      if (seed > MAX_SEED) throw new Error(`${fn}: sample's \`seed\` must be an integer in [0, ${MAX_SEED}], got ${seed}`);
      return tf.tidy(() => {
        const z = tf.randomNormal([...shape, ...paramShape], 0, 1, 'float32', leafSeed(seed, 0));
        return tf.add(tf.mul(z, scale), loc);
      });
    },
    logProb(x) {
      if (!(x instanceof tf.Tensor) || x.rank < paramShape.length) {
        throw new Error(`${fn}: logProb's \`x\` must be a tensor of rank at least ${paramShape.length}, got ${showValue(x)}`);
      }
      return tf.tidy(() => {
        const logNormalizer = tf.log(tf.mul(tf.scalar(2 * Math.PI), sqScale));
        const quadratic = tf.div(tf.square(tf.sub(x, loc)), sqScale);
        const perCoordinate = tf.div(tf.add(logNormalizer, quadratic), tf.scalar(-2));
        const axes = paramShape.map((_, i) => perCoordinate.rank - 1 - i);
        return axes.length === 0 ? perCoordinate : tf.sum(perCoordinate, axes);
      });
    },
    dispose() {
      tf.dispose([scale, sqScale]);
    },
  };
}
