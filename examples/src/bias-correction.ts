/**
 * Adam's bias correction, measured: the effective step size |Δθ| / α of the
 * first Adam steps, with optax's bias correction (`scaleByAdam`) and without
 * it (`scaleByAdamUncorrected`, written below in gradtx's per-element
 * language), on two fixed gradient streams.
 *
 * Adam's moments start at zero, so early on they are biased towards zero:
 * `E[mu_t] = (1 - b1^t) E[g]` and `E[nu_t] = (1 - b2^t) E[g²]`. Dividing by
 * those factors removes the bias. Without it the step is scaled by
 * `(1 - b1^t) / sqrt(1 - b2^t)`, which is `0.1 / sqrt(0.001) ≈ 3.16` at the
 * first step and peaks near 6.5 around step 10 for the default
 * `b1 = 0.9, b2 = 0.999`: the first steps are several times larger than the
 * learning rate, which is what Kingma & Ba (2015, section 3) warn about.
 */
import { type ElementwiseState, elementwise, type GradientTransformation, scaleByAdam } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';
import { PureLoop } from './loop.js';
import { lineChart } from './plot.js';
import { normalRng } from './random.js';

/** Options of {@link scaleByAdamUncorrected}: Adam's, without the bias correction. */
export interface ScaleByAdamUncorrectedOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: number;
  /** Decay of the second moment (default 0.999). */
  b2?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
}

/**
 * Adam without bias correction: `u = mu / (sqrt(nu) + eps)` with the same
 * moments as {@link scaleByAdam}. optax has no switch for this, and a chain of
 * existing parts cannot build it (the second moment must see the raw
 * gradient while the numerator sees its average, and a chain passes one
 * stream on), so it is written the way `scaleByAdam` itself is: as an
 * element-wise spec. The fused engine compiles it like any built-in.
 */
export function scaleByAdamUncorrected(options: ScaleByAdamUncorrectedOptions = {}): GradientTransformation<ElementwiseState> {
  const b1 = options.b1 ?? 0.9;
  const b2 = options.b2 ?? 0.999;
  const eps = options.eps ?? 1e-8;
  return elementwise({
    name: 'scaleByAdamUncorrected',
    key: 'examples/scaleByAdamUncorrected',
    slots: [
      { name: 'mu', init: 0 },
      { name: 'nu', init: 0 },
    ],
    counted: true,
    needsParams: false,
    scalars: () => ({ b1, b2, omb1: Math.fround(1 - b1), omb2: Math.fround(1 - b2), eps }),
    body(m, { u, mu, nu }, k) {
      const mu1 = m.add(m.mul(k.omb1, u), m.mul(k.b1, mu));
      const nu1 = m.add(m.mul(k.omb2, m.square(u)), m.mul(k.b2, nu));
      return { u: m.div(mu1, m.add(m.sqrt(nu1), k.eps)), mu: mu1, nu: nu1 };
    },
  });
}

/** The uncorrected step for a constant gradient, in closed form: `(1 - b1^t) / sqrt(1 - b2^t)`. */
export function uncorrectedConstantStep(t: number, b1 = 0.9, b2 = 0.999): number {
  return (1 - b1 ** t) / Math.sqrt(1 - b2 ** t);
}

/** The two gradient streams: every element 1 at every step, or 0.2 + N(0, 1) noise (seeded). */
export type StreamKind = 'constant' | 'noisy';

/** `steps` gradient vectors of `size` elements for the stream `kind`. */
export function gradientStream(kind: StreamKind, steps: number, size: number, seed = 0): Float32Array[] {
  const normal = normalRng(seed);
  return Array.from({ length: steps }, () => Float32Array.from({ length: size }, () => (kind === 'constant' ? 1 : 0.2 + normal())));
}

/** The effective step size per step: the mean over elements of |u| for `tx` fed `grads` (α = 1). */
export function effectiveStepSizes(tx: GradientTransformation, grads: Float32Array[]): number[] {
  const size = grads[0]?.length ?? 0;
  const loop = new PureLoop(tx, { w: tf.zeros([size]) });
  const out: number[] = [];
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    const [u] = loop.step({ w: gt }, { readUpdates: true }) as Float32Array[];
    let sum = 0;
    for (const v of u as Float32Array) sum += Math.abs(v);
    out.push(sum / size);
    gt.dispose();
  }
  loop.dispose();
  return out;
}

/** Effective step sizes with and without bias correction, for one stream. */
export interface StepSizes {
  corrected: number[];
  uncorrected: number[];
}

/** The whole experiment: both streams, both variants, `steps` steps of `size`-element gradients. */
export function runBiasCorrection(options: { steps?: number; size?: number; seed?: number } = {}): Record<StreamKind, StepSizes> {
  const steps = options.steps ?? 50;
  const size = options.size ?? 1000;
  const seed = options.seed ?? 0;
  const result = {} as Record<StreamKind, StepSizes>;
  for (const kind of ['constant', 'noisy'] as const) {
    const grads = gradientStream(kind, steps, size, seed);
    result[kind] = {
      corrected: effectiveStepSizes(scaleByAdam(), grads),
      uncorrected: effectiveStepSizes(scaleByAdamUncorrected(), grads),
    };
  }
  return result;
}

/** The chart of {@link runBiasCorrection}'s result. */
export function biasCorrectionChart(result: Record<StreamKind, StepSizes>): string {
  return lineChart({
    title: "Adam's effective step size |Δθ| / α, first steps",
    subtitle: 'b1 = 0.9, b2 = 0.999; mean over 1000 elements; constant gradient g = 1 and noisy g = 0.2 + N(0, 1)',
    xLabel: 'step t',
    yLabel: 'effective step size (units of α)',
    yMin: 0,
    yMax: 8.5,
    hLines: [{ y: 1, label: 'α' }],
    series: [
      { name: 'bias-corrected (scaleByAdam), g = 1', y: result.constant.corrected, color: '#0072B2' },
      { name: 'uncorrected, g = 1', y: result.constant.uncorrected, color: '#D55E00' },
      { name: 'bias-corrected, noisy g', y: result.noisy.corrected, color: '#0072B2', dashed: true },
      { name: 'uncorrected, noisy g', y: result.noisy.uncorrected, color: '#D55E00', dashed: true },
    ],
  });
}
