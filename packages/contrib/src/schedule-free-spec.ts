/**
 * The element-wise spec that `scheduleFreeSgd` and `scheduleFreeAdamw` are
 * written as: `scheduleFree` around their element-wise base (SGD, or
 * AdamW without momentum), with the base's iterate `z` (and AdamW's second
 * moment `nu`) as slots and `b1`, `weightSum` and `maxLr` as scalar state
 * updated once per step, so the fused engine runs the whole step as one
 * kernel.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  type BodyOutputs,
  biasCorrection,
  checkScheduleValue,
  type ElementwiseSpec,
  elementwise,
  f32,
  type GradientTransformation,
  type Ops,
  type Params,
  resolveScalar,
  type ScalarOrSchedule,
  type Updates,
} from './core-api.js';

/** The state of `scheduleFreeSgd` and `scheduleFreeAdamw` (optax `ScheduleFreeState`, with the base's state flattened into it). */
export interface ScheduleFreeSpecState {
  /** The base optimizer's iterate `z` (a copy of the params at `init`). */
  z: Params;
  /** AdamW only: the EMA of the squared gradients (the base's `scaleByRms` state). */
  nu?: Updates;
  /** The number of updates so far (optax's `step_count` is `count + 1`). */
  count: number;
  /** The interpolation `b1` (a float32 scalar tensor). */
  b1: tf.Scalar;
  /** The sum of the weights `maxLr^weightLrPower` so far (a float32 scalar tensor). */
  weightSum: tf.Scalar;
  /** The largest learning rate so far (a float32 scalar tensor). */
  maxLr: tf.Scalar;
}

/** The base of a schedule-free alias: SGD, or AdamW without momentum (`scaleByRms` with bias correction, `eps` outside the root). */
export type ScheduleFreeBase = { readonly kind: 'sgd' } | { readonly kind: 'adamw'; readonly b2: number; readonly eps: number };

/** What a schedule-free alias is built from, its options checked. */
export interface ScheduleFreeSpecOptions {
  readonly fn: string;
  readonly learningRate: ScalarOrSchedule;
  readonly b1: number;
  readonly weightLrPower: number;
  /** Weight decay added to the base's direction (`null`: none, as `scheduleFreeSgd` without it). */
  readonly weightDecay: number | null;
  readonly base: ScheduleFreeBase;
}

type Scalars<V> = Readonly<Record<string, V>>;

/** The base's step `z' - z`: `-lr (d + λ y)` with `d = g` (SGD) or `g / (sqrt(ν̂) + eps)` (AdamW). */
function baseStep<V>(m: Ops<V>, o: ScheduleFreeSpecOptions, u: V, y: V, nu: V | undefined, k: Scalars<V>): [V, V | undefined] {
  let direction = u;
  let nu1: V | undefined;
  if (o.base.kind === 'adamw') {
    nu1 = m.add(m.mul(k.omb2, m.square(u)), m.mul(k.b2, nu as V));
    direction = m.mul(m.div(m.c(1), m.add(m.sqrt(m.div(nu1, k.bc2)), k.eps)), u);
  }
  if (o.weightDecay !== null) direction = m.add(direction, m.mul(k.wd, y));
  return [m.mul(k.negLr, direction), nu1];
}

/**
 * A schedule-free alias as an element-wise transformation. Per step, with
 * `t = count + 1`: `maxLr' = max(maxLr, lr(t))`, `w = maxLr'^power`,
 * `weightSum' = weightSum + w`, `c = w / weightSum'` (0 for 0 / 0), then per
 * element `z' = z + base(g)`, `x = (y - (1 - b1) z) / b1`,
 * `x' = (1 - c) x + c z'`, `u = b1 x' + (1 - b1) z' - y`, every operation in
 * float32 as `scheduleFree` does. The base reads `lr(count)`, as the
 * base optimizer's own schedule does. With `weightLrPower` 2 (or 1) the weight
 * is computed from the scalar state; with another power it is
 * `f32(lr(t)^power)` in JS doubles, which equals `maxLr'^power` because the
 * aliases' learning rate (a constant, or a warmup from 0 to a constant) never
 * decreases.
 */
export function scheduleFreeSpec(o: ScheduleFreeSpecOptions): GradientTransformation<ScheduleFreeSpecState> {
  const { fn, learningRate, base } = o;
  const power = o.weightLrPower;
  const weightFromState = power === 1 || power === 2;
  const lrAt = (count: number) => f32(checkScheduleValue(fn, 'learningRate', resolveScalar(learningRate, count), count));
  const spec: ElementwiseSpec = {
    name: fn,
    key: `${fn}:${base.kind}:${o.weightDecay === null ? 'plain' : 'decay'}:${weightFromState ? `pow${power}` : 'powJs'}`,
    slots: [{ name: 'z', init: 'params' }, ...(base.kind === 'adamw' ? [{ name: 'nu', init: 0 }] : [])],
    counted: true,
    needsParams: true,
    scalarState: [
      { name: 'b1', init: f32(o.b1), next: 'b1Next' },
      { name: 'weightSum', init: 0, next: 'weightSumNext' },
      { name: 'maxLr', init: 0, next: 'maxLrNext' },
    ],
    scalars(count) {
      const lrWeight = lrAt(count + 1);
      return {
        lrWeight,
        weightJs: weightFromState ? 0 : f32(lrWeight ** power),
        negLr: -lrAt(count),
        omb1: f32(1 - o.b1),
        wd: o.weightDecay ?? 0,
        ...(base.kind === 'adamw' ? { b2: base.b2, omb2: f32(1 - base.b2), bc2: biasCorrection(base.b2, count + 1), eps: base.eps } : {}),
      };
    },
    updateScalars(m, k) {
      const maxLrNext = m.max(k.maxLr, k.lrWeight);
      const weight = !weightFromState ? k.weightJs : power === 2 ? m.mul(maxLrNext, maxLrNext) : maxLrNext;
      const weightSumNext = m.add(k.weightSum, weight);
      const raw = m.div(weight, weightSumNext);
      // optax: 0 / 0 gives 0; a NaN weight or sum stays NaN
      const zeroOverZero = m.and(m.isNaN(raw), m.not(m.or(m.isNaN(weight), m.isNaN(weightSumNext))));
      const c = m.select(zeroOverZero, m.c(0), raw);
      return { b1Next: k.b1, weightSumNext, maxLrNext, c, omc: m.sub(m.c(1), c) };
    },
    body<V>(m: Ops<V>, x: Readonly<Record<string, V>>, k: Scalars<V>): BodyOutputs<V> {
      const [step, nu] = baseStep(m, o, x.u, x.p, x.nu, k);
      const z1 = m.add(x.z, step);
      const avg = m.div(m.sub(x.p, m.mul(k.omb1, x.z)), k.b1);
      const avg1 = m.add(m.mul(k.omc, avg), m.mul(k.c, z1));
      const u = m.sub(m.add(m.mul(k.b1, avg1), m.mul(k.omb1, z1)), x.p);
      const out: Record<string, V> = { u, z: z1 };
      if (nu !== undefined) out.nu = nu;
      return out as BodyOutputs<V>;
    },
  };
  return elementwise(spec) as unknown as GradientTransformation<ScheduleFreeSpecState>;
}
