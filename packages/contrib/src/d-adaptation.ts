/**
 * What the D-Adaptation family (Prodigy, D-Adapt AdamW) shares: the options
 * they have in common, optax's step-size correction, and the element-wise
 * spec they are both written as, with the distance estimate `d` and the
 * weighted numerator `r` as scalar state updated once per step from two
 * tree-wide sums (the numerator's increment and `|s|₁` of the new gradient
 * sum).
 *
 * @module
 */
import {
  biasCorrection,
  checkFinite,
  checkPositive,
  checkScalarOrSchedule,
  checkScheduleValue,
  type ElementwiseSpec,
  elementwise,
  f32,
  type GradientTransformation,
  type Ops,
  resolveScalar,
  type ScalarOrSchedule,
} from './core-api.js';
import { checkBetas } from './decay.js';

/** `sqrt(1 - b2^t) / (1 - b1^t)` with `t = count + 1`, every operation rounded to float32 (optax's `bc`). */
export function adamStepCorrection(b1: number, b2: number, count: number): number {
  return f32(f32(Math.sqrt(biasCorrection(b2, count + 1))) / biasCorrection(b1, count + 1));
}

/** The options Prodigy and D-Adapt AdamW share. */
export interface DistanceEstimateOptions {
  /** `[beta1, beta2]`: decays of the first and second moments (default `[0.9, 0.999]`). */
  betas?: readonly [number, number];
  /** Added to `sqrt(v)` (Prodigy: times `d`) (default 1e-8). */
  eps?: number;
  /** The initial distance estimate `d0` (default 1e-6), > 0. */
  estimLr0?: number;
  /** Weight decay, times `d · lr` (default 0). */
  weightDecay?: number;
}

/** The defaults of {@link DistanceEstimateOptions}. */
export const DISTANCE_ESTIMATE_DEFAULTS: Required<DistanceEstimateOptions> = {
  betas: [0.9, 0.999],
  eps: 1e-8,
  estimLr0: 1e-6,
  weightDecay: 0,
};

/** Values a body of the family reads. */
type Inputs<V> = { readonly u: V; readonly p: V } & { readonly [slot: string]: V };
type Scalars<V> = Readonly<Record<string, V>>;

/** What distinguishes one method of the family: its extra scalars and slots, and its four formulas. */
export interface DistanceEstimator {
  readonly fn: string;
  /** Identifies the formulas' shape (options that change them, e.g. Prodigy's `safeguardWarmup`). */
  readonly key: string;
  /** Slots beyond `expAvg`, `expAvgSq`, `gradSum`. */
  readonly extraSlots: ElementwiseSpec['slots'];
  /** Scalars beyond the shared ones (`lr`, `bc`, `b1`, `omb1`, `b2`, `omb2`, `eps`, `d0`, `negWd`). */
  readonly extraScalars: Readonly<Record<string, number>>;
  /** The per-element term of the numerator's increment (summed over the tree as `acc`), from the state before the step. */
  numeratorTerm<V>(m: Ops<V>, x: Inputs<V>, k: Scalars<V>): V;
  /** The new gradient sum `s` (`dlr` is `d · lr · bc`). */
  gradSum<V>(m: Ops<V>, x: Inputs<V>, k: Scalars<V>, dlr: V): V;
  /** The new numerator `r` and the candidate estimate, from `k.acc` (the numerator's increment) and `k.sNorm` (`|s|₁`). */
  estimate<V>(m: Ops<V>, k: Scalars<V>, dlr: V): { readonly numerator: V; readonly candidate: V };
  /** The new moments and the outgoing update (`k.dNext` is the new estimate). */
  step<V>(m: Ops<V>, x: Inputs<V>, k: Scalars<V>, dlr: V): { readonly u: V; readonly expAvg: V; readonly expAvgSq: V };
}

/** `d · lr · bc`, optax's `dlr`. */
const dlrOf = <V>(m: Ops<V>, k: Scalars<V>): V => m.mul(m.mul(k.estimLr, k.lr), k.bc);

/** `-weightDecay · dlr · p`, the decoupled weight decay of both methods. */
export function decayTerm<V>(m: Ops<V>, p: V, k: Scalars<V>, dlr: V): V {
  return m.mul(m.mul(k.negWd, dlr), p);
}

/**
 * A method of the family as a transformation: checks the options shared by
 * the family and builds the element-wise spec, whose state is optax's
 * (`expAvg`, `expAvgSq`, `gradSum`, the extra slots, `estimLr`,
 * `numeratorWeighted`, `count`).
 */
export function distanceEstimate(
  method: DistanceEstimator,
  learningRate: ScalarOrSchedule,
  o: Required<DistanceEstimateOptions>,
): GradientTransformation {
  const { fn } = method;
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const [b1, b2] = checkBetas(fn, o.betas);
  const eps = checkFinite(fn, 'eps', o.eps);
  const d0 = checkPositive(fn, 'estimLr0', o.estimLr0);
  const negWd = -checkFinite(fn, 'weightDecay', o.weightDecay);
  return elementwise({
    name: fn,
    key: method.key,
    slots: [{ name: 'expAvg', init: 0 }, { name: 'expAvgSq', init: 0 }, { name: 'gradSum', init: 0 }, ...method.extraSlots],
    counted: true,
    needsParams: true,
    scalarState: [
      { name: 'estimLr', init: d0, next: 'dNext' },
      { name: 'numeratorWeighted', init: 0, next: 'rNext' },
    ],
    expressionReductions: [
      { name: 'acc', op: 'sum', value: (m, x, k) => method.numeratorTerm(m, x, k) },
      { name: 'sNorm', op: 'sum', value: (m, x, k) => m.abs(method.gradSum(m, x, k, dlrOf(m, k))) },
    ],
    scalars: (count) => ({
      lr: checkScheduleValue(fn, 'learningRate', resolveScalar(learningRate, count), count),
      bc: adamStepCorrection(b1, b2, count),
      b1,
      omb1: f32(1 - b1),
      b2,
      omb2: f32(1 - b2),
      eps,
      d0,
      negWd,
      ...method.extraScalars,
    }),
    updateScalars(m, k) {
      const { numerator, candidate } = method.estimate(m, k, dlrOf(m, k));
      return { rNext: numerator, dNext: m.max(k.estimLr, candidate) };
    },
    body(m, x, k) {
      const dlr = dlrOf(m, k);
      return { ...method.step(m, x, k, dlr), gradSum: method.gradSum(m, x, k, dlr) };
    },
  }) as GradientTransformation;
}
