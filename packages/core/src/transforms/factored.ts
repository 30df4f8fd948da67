/**
 * Adafactor's factored second moments: `scaleByFactoredRms` (optax
 * `scale_by_factored_rms`, `factorized.py`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type Params, safeIncrement, type Updates } from '../base.js';
import { f32 } from '../lang/spec.js';
import {
  assertSameShapes,
  assertSameStructure,
  formatPath,
  type PathKey,
  treeFlatten,
  treeLeavesWithPath,
  treeMap,
  treeUnflatten,
} from '../tree.js';
import {
  checkBoolean,
  checkFinite,
  checkFloatTree,
  checkInteger,
  checkNonNegative,
  checkStateKeys,
  type OptionDefaults,
  requireParams,
  resolveOptions,
  showValue,
} from '../validate.js';

/**
 * A decay-rate schedule for {@link scaleByFactoredRms}: maps the shifted step
 * `count - stepOffset` and the `decayRate` option to the decay of the second
 * moments at that step.
 */
export type FactoredDecayRateFn = (step: number, decayRate: number) => number;

/** Options of {@link scaleByFactoredRms}. */
export interface ScaleByFactoredRmsOptions {
  /** Factor the second moment of leaves of rank ≥ 2 (default true). */
  factored?: boolean;
  /** The parameter of the decay schedule: the exponent of the default `decayRateFn` (default 0.8). */
  decayRate?: number;
  /** Subtracted from the step count before `decayRateFn` sees it, e.g. the first step of a fine-tuning phase (default 0), an integer. */
  stepOffset?: number;
  /** Factor a leaf only if its two largest dimensions are both at least this size (default 128), an integer ≥ 0. */
  minDimSizeToFactor?: number;
  /** Added to the squared gradients (default 1e-30), ≥ 0. */
  epsilon?: number;
  /**
   * The decay schedule (default: Adafactor's `1 - (step + 1)^-decayRate`,
   * computed in float32). It must return a finite number.
   */
  decayRateFn?: FactoredDecayRateFn;
}

/** The state of {@link scaleByFactoredRms}; every tree has the params' structure. */
export interface FactoredState {
  /** Number of updates so far (a JS number, saturating at 2^31 - 1). */
  count: number;
  /** Row statistics: for a factored leaf, its mean squared gradient over its largest axis; `[0]` (shape `[1]`) otherwise. */
  vRow: unknown;
  /** Column statistics: for a factored leaf, its mean squared gradient over its second-largest axis; `[0]` (shape `[1]`) otherwise. */
  vCol: unknown;
  /** The full second moment of a leaf that is not factored; `[0]` (shape `[1]`) for a factored one. */
  v: unknown;
}

/**
 * Adafactor's default second-moment decay schedule: `1 - (step + 1)^-exponent`,
 * computed in float32 (0 at step 0, tending to 1).
 */
function decayRatePow(step: number, exponent = 0.8): number {
  const t = f32(step + 1);
  return f32(1 - f32(t ** f32(-exponent)));
}

/**
 * The axes a leaf's second moment is factored over, `[d1, d0]` = the indices of
 * its second-largest and largest dimensions (ties broken by axis order, as
 * numpy's `argsort` orders them), or `null` when it is not factored.
 */
function factoredDims(shape: readonly number[], factored: boolean, minDimSizeToFactor: number): [number, number] | null {
  if (!factored || shape.length < 2) return null;
  const sorted = shape.map((_, i) => i).sort((a, b) => (shape[a] as number) - (shape[b] as number) || a - b);
  const d1 = sorted[sorted.length - 2] as number;
  const d0 = sorted[sorted.length - 1] as number;
  if ((shape[d1] as number) < minDimSizeToFactor) return null;
  return [d1, d0];
}

function without(shape: readonly number[], axis: number): number[] {
  return shape.filter((_, i) => i !== axis);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The defaults of {@link scaleByFactoredRms}'s options (`undefined`: no default). */
export const scaleByFactoredRmsDefaults: OptionDefaults<ScaleByFactoredRmsOptions> = Object.freeze({
  factored: true,
  decayRate: 0.8,
  stepOffset: 0,
  minDimSizeToFactor: 128,
  epsilon: 1e-30,
  decayRateFn: decayRatePow,
});

/**
 * Rescales updates by a factored estimate of their root mean square, as in
 * Adafactor: a leaf of rank ≥ 2 whose two largest dimensions (`d0` the
 * largest, `d1` the second) are at least `minDimSizeToFactor` keeps only a row
 * and a column statistic; any other leaf keeps a full second moment.
 *
 * $$
 * \hat v = \frac{v_{\mathrm{row}}\, v_{\mathrm{col}}^{\top}}{\operatorname{mean}(v_{\mathrm{row}})}, \qquad u = \frac{g}{\sqrt{\hat v}} \qquad (\text{unfactored leaves: } u = g / \sqrt{v})
 * $$
 *
 * With `β = decayRateFn(count - stepOffset, decayRate)` and `G = g² + epsilon`:
 * ```
 * factored:  vRow = β vRow + (1 - β) mean(G, d0)      vCol = β vCol + (1 - β) mean(G, d1)
 *            u    = g · (vRow / mean(vRow, d1))^-1/2 · vCol^-1/2   (broadcast back over d0, d1)
 * otherwise: v    = β v + (1 - β) G                    u = g · v^-1/2
 * ```
 * State `{ count, vRow, vCol, v }` (see {@link FactoredState}). Defaults:
 * `factored = true, decayRate = 0.8, stepOffset = 0, minDimSizeToFactor = 128,
 * epsilon = 1e-30`, and `decayRateFn` Adafactor's `1 - (step + 1)^-decayRate`. Needs `params` (for
 * the leaves' shapes). Where optax would silently produce NaN because the
 * decay rate is not finite (e.g. `count < stepOffset` with the default
 * schedule), this throws instead.
 * Reference: Shazeer & Stern, "Adafactor: Adaptive Learning Rates with
 * Sublinear Memory Cost" (2018); optax `scale_by_factored_rms`.
 */
export function scaleByFactoredRms(options: ScaleByFactoredRmsOptions = {}): GradientTransformation<FactoredState> {
  const fn = 'scaleByFactoredRms';
  const o = resolveOptions(fn, options, scaleByFactoredRmsDefaults);
  const factored = checkBoolean(fn, 'factored', o.factored);
  const decayRate = checkFinite(fn, 'decayRate', o.decayRate);
  const stepOffset = o.stepOffset;
  if (!Number.isInteger(stepOffset)) throw new Error(`${fn}: \`stepOffset\` must be an integer, got ${showValue(stepOffset)}`);
  const minDim = checkInteger(fn, 'minDimSizeToFactor', o.minDimSizeToFactor, 0);
  const epsilon = checkNonNegative(fn, 'epsilon', o.epsilon);
  const decayRateFn = o.decayRateFn;
  if (typeof decayRateFn !== 'function') {
    throw new Error(`${fn}: \`decayRateFn\` must be a function (step, decayRate) => number, got ${showValue(decayRateFn)}`);
  }
  const dimsOf = (x: tf.Tensor) => factoredDims(x.shape, factored, minDim);
  return {
    init(params: Params): FactoredState {
      checkFloatTree(fn, 'params', params);
      const one = () => tf.zeros([1], 'float32');
      const dims = (p: tf.Tensor) => dimsOf(p);
      return {
        count: 0,
        vRow: treeMap((p: tf.Tensor) => {
          const d = dims(p);
          return d ? tf.zeros(without(p.shape, d[1]), 'float32') : one();
        }, params),
        vCol: treeMap((p: tf.Tensor) => {
          const d = dims(p);
          return d ? tf.zeros(without(p.shape, d[0]), 'float32') : one();
        }, params),
        v: treeMap((p: tf.Tensor) => (dims(p) ? one() : tf.zeros(p.shape, 'float32')), params),
      };
    },
    update(updates: Updates, state: FactoredState, params?: Params): [Updates, FactoredState] {
      requireParams(fn, params);
      checkFloatTree(fn, 'updates', updates);
      checkFloatTree(fn, 'params', params);
      assertSameShapes(updates, params, ['updates', 'params']);
      checkStateKeys(fn, state, ['count', 'vRow', 'vCol', 'v']);
      const count = state.count;
      if (typeof count !== 'number' || !(count >= 0)) throw new Error(`${fn}: state.count must be a number >= 0, got ${showValue(count)}`);
      const { leaves: ps, treedef } = treeFlatten<tf.Tensor>(params);
      const slots = (['vRow', 'vCol', 'v'] as const).map((name) => {
        assertSameStructure(params, state[name], ['params', `state.${name}`]);
        return treeLeavesWithPath(state[name]) as [PathKey[], tf.Tensor][];
      });
      // Check every statistic's shape against the one init gives for its param.
      ps.forEach((p, i) => {
        const d = dimsOf(p);
        const want = d ? [without(p.shape, d[1]), without(p.shape, d[0]), [1]] : [[1], [1], p.shape];
        (['vRow', 'vCol', 'v'] as const).forEach((name, j) => {
          const [path, leaf] = (slots[j] as [PathKey[], tf.Tensor][])[i] as [PathKey[], tf.Tensor];
          if (!sameShape(leaf.shape, want[j] as number[])) {
            throw new Error(
              `${fn}: state.${name} at \`${formatPath(path)}\` has shape [${leaf.shape.join(', ')}], expected [${(want[j] as number[]).join(', ')}] for a param of shape [${p.shape.join(', ')}]`,
            );
          }
        });
      });
      const beta = decayRateFn(count - stepOffset, decayRate);
      if (typeof beta !== 'number' || !Number.isFinite(beta)) {
        throw new Error(
          `${fn}: the decay rate decayRateFn(${count - stepOffset}, ${decayRate}) at count ${count} is ${String(beta)}; it must be finite (is stepOffset larger than the step count?)`,
        );
      }
      const out = tf.tidy(() => {
        const gs = treeFlatten<tf.Tensor>(updates).leaves;
        const [vRows, vCols, vs] = slots.map((s) => s.map(([, x]) => x)) as [tf.Tensor[], tf.Tensor[], tf.Tensor[]];
        const b = tf.scalar(beta, 'float32');
        const omb = tf.scalar(f32(1 - beta), 'float32');
        const eps = tf.scalar(epsilon, 'float32');
        const minusHalf = tf.scalar(-0.5, 'float32');
        const outU: tf.Tensor[] = [];
        const outRow: tf.Tensor[] = [];
        const outCol: tf.Tensor[] = [];
        const outV: tf.Tensor[] = [];
        ps.forEach((p, i) => {
          const g = gs[i] as tf.Tensor;
          const gradSqr = tf.add(tf.square(g), eps);
          const d = dimsOf(p);
          if (d) {
            const [d1, d0] = d;
            const vRow = tf.add(tf.mul(b, vRows[i] as tf.Tensor), tf.mul(omb, tf.mean(gradSqr, d0)));
            const vCol = tf.add(tf.mul(b, vCols[i] as tf.Tensor), tf.mul(omb, tf.mean(gradSqr, d1)));
            const reducedD1 = d1 > d0 ? d1 - 1 : d1;
            const rowColMean = tf.mean(vRow, reducedD1, true);
            const rowFactor = tf.pow(tf.div(vRow, rowColMean), minusHalf);
            const colFactor = tf.pow(vCol, minusHalf);
            outU.push(tf.mul(tf.mul(g, tf.expandDims(rowFactor, d0)), tf.expandDims(colFactor, d1)));
            outRow.push(vRow);
            outCol.push(vCol);
            outV.push(tf.zeros([1], 'float32'));
          } else {
            const v = tf.add(tf.mul(b, vs[i] as tf.Tensor), tf.mul(omb, gradSqr));
            outU.push(tf.mul(g, tf.pow(v, minusHalf)));
            outRow.push(tf.zeros([1], 'float32'));
            outCol.push(tf.zeros([1], 'float32'));
            outV.push(v);
          }
        });
        return {
          u: treeUnflatten(treedef, outU),
          vRow: treeUnflatten(treedef, outRow),
          vCol: treeUnflatten(treedef, outCol),
          v: treeUnflatten(treedef, outV),
        } as tf.TensorContainer;
      }) as unknown as { u: Updates; vRow: unknown; vCol: unknown; v: unknown };
      return [out.u, { count: safeIncrement(count), vRow: out.vRow, vCol: out.vCol, v: out.v }];
    },
  };
}
