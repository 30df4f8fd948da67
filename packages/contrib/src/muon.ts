/**
 * Muon: `scaleByMuon` and `muon` (optax `contrib.scale_by_muon`,
 * `contrib.muon`), orthogonalized momentum by Newton–Schulz iterations.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  adamw,
  addDecayedWeights,
  chain,
  checkBoolean,
  checkDecay,
  checkFinite,
  checkInteger,
  checkNonNegative,
  checkScalarOrSchedule,
  checkStateKeys,
  f32,
  type GradientTransformation,
  type Mask,
  type Params,
  partition,
  resolveOptions,
  type ScalarOrSchedule,
  safeIncrement,
  scaleByLearningRate,
  treeBiasCorrection,
  treeMap,
  treeMapWithPath,
  treeUpdateMoment,
  treeZerosLike,
  type Updates,
} from './core-api.js';

/**
 * Which axes of a leaf Muon treats as the matrix (optax `MuonDimensionNumbers`):
 * the leaf is transposed to `[batch…, reduction…, output…]` and reshaped to a
 * batch of `fan_in × fan_out` matrices, every other axis a batch axis.
 * Negative axes count from the end.
 */
export interface MuonDimensionNumbers {
  /** The input axis or axes (optax's default 0). */
  reductionAxis: number | readonly number[];
  /** The output axis or axes (optax's default 1). */
  outputAxis: number | readonly number[];
}

/** Dimension numbers per leaf: one tree with the updates' structure (`null` for non-Muon leaves), or a function of the updates to one. */
export type MuonWeightDimensionNumbers = unknown | ((updates: Updates) => unknown);

/** A triple `[a, b, c]` of Newton–Schulz coefficients, `X ← a X + (b A + c A²) X` with `A = X Xᵀ`. */
export type NsCoeffs = readonly [number, number, number];

/** How the matrix is scaled before (or in) the first Newton–Schulz iteration. */
export type MuonPreconditioning = 'frobenius' | 'aol' | 'schatten';

/** The state of {@link scaleByMuon} (optax `MuonState`). */
export interface MuonState {
  count: number;
  /** The momentum, a tree like the params. */
  mu: Updates;
  /** The coefficients in use: one triple, or one triple per iteration (float32 values). */
  nsCoeffs: number[] | number[][];
}

/** Options of {@link scaleByMuon}. */
export interface ScaleByMuonOptions {
  /** One triple used at every iteration, or one per iteration (default optax's `[3.4445, -4.775, 2.0315]`). */
  nsCoeffs?: NsCoeffs | readonly NsCoeffs[];
  /** Newton–Schulz iterations (default 5); with one triple per iteration, the last `nsSteps` triples. */
  nsSteps?: number;
  /** Momentum decay (default 0.95), in [0, 1). */
  beta?: number;
  /** Added to the Frobenius norm before dividing (default 1e-8), ≥ 0. */
  eps?: number;
  /** Nesterov momentum (default true). */
  nesterov?: boolean;
  /** Scale the orthogonalized update by `<m̂, O>` (default false). */
  adaptive?: boolean;
  /** `'frobenius'` (default), `'aol'` or `'schatten'` (optax's `'spectral'` needs an SVD, which tfjs lacks). */
  preconditioning?: MuonPreconditioning;
  /** The matrix axes of each leaf (default: every leaf must be a matrix). */
  weightDimensionNumbers?: MuonWeightDimensionNumbers;
}

const DEFAULT_NS_COEFFS: NsCoeffs = [3.4445, -4.775, 2.0315];
/** optax's named coefficient sets (`'dion'`: one triple per iteration). */
const NS_COEFF_PRESETS: Record<string, NsCoeffs | readonly NsCoeffs[]> = {
  standard: DEFAULT_NS_COEFFS,
  dion: [
    [4.0848, -6.8946, 2.927],
    [3.9505, -6.3029, 2.6377],
    [3.7418, -5.5913, 2.3037],
    [2.8769, -3.1427, 1.2046],
    [2.8366, -3.0525, 1.2012],
  ],
};

const SCALE_DEFAULTS: Required<Omit<ScaleByMuonOptions, 'weightDimensionNumbers'>> & Pick<ScaleByMuonOptions, 'weightDimensionNumbers'> = {
  nsCoeffs: DEFAULT_NS_COEFFS,
  nsSteps: 5,
  beta: 0.95,
  eps: 1e-8,
  nesterov: true,
  adaptive: false,
  preconditioning: 'frobenius',
  weightDimensionNumbers: undefined,
};

export function isDimensionNumbers(x: unknown): x is MuonDimensionNumbers {
  return x !== null && typeof x === 'object' && 'reductionAxis' in x && 'outputAxis' in x;
}

const axesOf = (a: number | readonly number[]): readonly number[] => (typeof a === 'number' ? [a] : a);
const prod = (xs: readonly number[]): number => xs.reduce((p, x) => p * x, 1);

/** The leaf's reduction and output axes in [0, rank), checked (shared with GaLore). */
export function normalizeAxes(fn: string, where: string, shape: readonly number[], dims: MuonDimensionNumbers): [number[], number[]] {
  const norm = (a: number | readonly number[]) =>
    axesOf(a).map((ax) => {
      if (!Number.isInteger(ax) || ax < -shape.length || ax >= shape.length) {
        throw new Error(
          `${fn}: axis ${String(ax)} of the dimension numbers at ${where} is out of range for a leaf of shape [${shape.join(', ')}]`,
        );
      }
      return ((ax % shape.length) + shape.length) % shape.length;
    });
  const [red, out] = [norm(dims.reductionAxis), norm(dims.outputAxis)];
  if (red.some((ax) => out.includes(ax))) {
    throw new Error(`${fn}: the reduction axes [${red.join(', ')}] and output axes [${out.join(', ')}] at ${where} must be disjoint`);
  }
  return [red, out];
}

/** The Newton–Schulz coefficients of one iteration, `X ← c0 X + (c1 A + (c2 A) A) X`, with `A` given. */
function nsIteration(x: tf.Tensor3D, a: tf.Tensor3D, [c0, c1, c2]: readonly number[]): tf.Tensor3D {
  const b = tf.add(tf.mul(c1 as number, a), tf.matMul(tf.mul(c2 as number, a), a));
  return tf.add(tf.mul(c0 as number, x), tf.matMul(b, x));
}

/** One Newton–Schulz iteration; the first one of `'aol'`/`'schatten'` rescales `X` (and `A`) first. */
function nsStep(x: tf.Tensor3D, coeffs: readonly number[], first: boolean, pre: MuonPreconditioning, eps: number): tf.Tensor3D {
  const a = tf.matMul(x, x, false, true) as tf.Tensor3D;
  if (!first || pre === 'frobenius') return nsIteration(x, a, coeffs);
  if (pre === 'aol') {
    const s = tf.rsqrt(tf.maximum(tf.sum(tf.abs(a), -1, true), eps)) as tf.Tensor3D;
    return nsIteration(tf.mul(x, s), tf.mul(tf.mul(a, s), tf.transpose(s, [0, 2, 1])), coeffs);
  }
  const s = tf.rsqrt(tf.maximum(tf.sqrt(tf.sum(tf.square(a), [1, 2], true)), eps));
  return nsIteration(tf.mul(x, s), tf.mul(a, tf.mul(s, s)), coeffs);
}

/**
 * Orthogonalizes a batch of matrices `[batch, m, n]` by Newton–Schulz
 * iterations (on the transpose when `m > n`), after dividing each by its
 * Frobenius norm plus `eps` for `'frobenius'`.
 */
function orthogonalize(x: tf.Tensor3D, iterations: readonly (readonly number[])[], pre: MuonPreconditioning, eps: number): tf.Tensor3D {
  const transposed = (x.shape[1] as number) > (x.shape[2] as number);
  let y: tf.Tensor3D = transposed ? tf.transpose(x, [0, 2, 1]) : x;
  if (pre === 'frobenius') y = tf.div(y, tf.add(tf.sqrt(tf.sum(tf.square(y), [1, 2], true)), eps));
  iterations.forEach((coeffs, i) => {
    y = nsStep(y, coeffs, i === 0, pre, eps);
  });
  return transposed ? tf.transpose(y, [0, 2, 1]) : y;
}

/**
 * Orthogonalizes one leaf: a matrix as it is (optax uses axes 0 and 1 for
 * every rank-2 leaf), a higher-rank leaf as the batch of matrices its
 * dimension numbers choose.
 */
function orthogonalizeLeaf(
  fn: string,
  where: string,
  x: tf.Tensor,
  dims: MuonDimensionNumbers | null,
  iterations: readonly (readonly number[])[],
  pre: MuonPreconditioning,
  eps: number,
): tf.Tensor {
  if (x.rank === 2)
    return tf.reshape(
      orthogonalize(tf.reshape(x, [1, x.shape[0] as number, x.shape[1] as number]) as tf.Tensor3D, iterations, pre, eps),
      x.shape,
    );
  if (dims === null) {
    throw new Error(`${fn}: the leaf at ${where} has shape [${x.shape.join(', ')}]: a leaf that is not a matrix needs dimension numbers`);
  }
  const [red, out] = normalizeAxes(fn, where, x.shape, dims);
  const batch = x.shape.map((_, i) => i).filter((i) => !red.includes(i) && !out.includes(i));
  const perm = [...batch, ...red, ...out];
  const size = (axes: number[]) => prod(axes.map((i) => x.shape[i] as number));
  const flat = tf.reshape(tf.transpose(x, perm), [size(batch), size(red), size(out)]) as tf.Tensor3D;
  const o = orthogonalize(flat, iterations, pre, eps);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return tf.transpose(
    tf.reshape(
      o,
      perm.map((i) => x.shape[i] as number),
    ),
    inverse,
  );
}

/** A path for messages, e.g. `layers[2].kernel`. */
export const pathString = (path: readonly (string | number)[]): string =>
  path.length === 0 ? 'the root' : path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

/** The dimension numbers of `updates` (a tree or a function's result), or `null` per leaf when none are given. */
function resolveDims(spec: MuonWeightDimensionNumbers, updates: Updates): unknown {
  return typeof spec === 'function' ? (spec as (u: Updates) => unknown)(updates) : spec;
}

/** The coefficient triples as float32 values: one triple, or the last `nsSteps` of several. */
function checkNsCoeffs(fn: string, coeffs: unknown, nsSteps: number): number[] | number[][] {
  const triple = (t: unknown, what: string): number[] => {
    if (!Array.isArray(t) || t.length !== 3 || t.some((c) => typeof c !== 'number' || !Number.isFinite(c))) {
      throw new Error(`${fn}: ${what} must be a triple of finite numbers [a, b, c], got ${JSON.stringify(t)}`);
    }
    return t.map((c) => f32(c as number));
  };
  if (Array.isArray(coeffs) && coeffs.length > 0 && Array.isArray(coeffs[0])) {
    if (coeffs.length > nsSteps) {
      throw new Error(`${fn}: \`nsCoeffs\` has ${coeffs.length} triples, more than nsSteps = ${nsSteps} (optax: not enough coeffs)`);
    }
    return coeffs.map((t, i) => triple(t, `\`nsCoeffs[${i}]\``)).slice(-nsSteps);
  }
  return triple(coeffs, '`nsCoeffs`');
}

/**
 * Muon's direction: momentum, then each matrix leaf orthogonalized by
 * Newton–Schulz iterations. With `β = beta`, `t` the step:
 * $$
 * X_0 = \frac{\hat m}{\lVert \hat m \rVert_F + \epsilon}, \qquad X_{k+1} = a X_k + \big(b A_k + c A_k^2\big) X_k, \quad A_k = X_k X_k^{\top}, \qquad u = X_K
 * $$
 *
 * ```
 * m = (1 - β) g + β m
 * m̂ = β m / (1 - β^(t+1)) + (1 - β) g / (1 - β^t)     (nesterov; else m̂ = m / (1 - β^t))
 * X = m̂ / (‖m̂‖_F + eps)          X ← a X + (b A + (c A) A) X,  A = X Xᵀ   (nsSteps times)
 * u = X                            (adaptive: u = <m̂, X> X)
 * ```
 * on `Xᵀ` when the matrix is taller than wide. A leaf of higher rank is a
 * batch of matrices chosen by its {@link MuonDimensionNumbers}; without
 * them every leaf must be a matrix (use {@link muon} for Adam on the rest;
 * optax 0.2.8 then takes a single array only).
 *
 * State {@link MuonState}. Defaults: `nsCoeffs = [3.4445, -4.775, 2.0315],
 * nsSteps = 5, beta = 0.95, eps = 1e-8, nesterov = true, adaptive = false,
 * preconditioning = 'frobenius'`. optax's `mu_dtype` is not offered. Fuses:
 * no (matrix products; reference path). Reference: Jordan et al., "Muon: An
 * optimizer for hidden layers in neural networks" (2024); Bernstein &
 * Newhouse, "Old optimizer, new norm" (2024); optax `contrib.scale_by_muon`.
 */
export function scaleByMuon(options?: ScaleByMuonOptions): GradientTransformation<MuonState> {
  const fn = 'scaleByMuon';
  const o = resolveOptions(fn, options, SCALE_DEFAULTS);
  const nsSteps = checkInteger(fn, 'nsSteps', o.nsSteps, 0);
  const coeffs = checkNsCoeffs(fn, o.nsCoeffs, nsSteps);
  const beta = checkDecay(fn, 'beta', o.beta);
  const eps = checkNonNegative(fn, 'eps', o.eps);
  const nesterov = checkBoolean(fn, 'nesterov', o.nesterov);
  const adaptive = checkBoolean(fn, 'adaptive', o.adaptive);
  if (!['frobenius', 'aol', 'schatten'].includes(o.preconditioning)) {
    throw new Error(`${fn}: \`preconditioning\` must be 'frobenius', 'aol' or 'schatten', got ${JSON.stringify(o.preconditioning)}`);
  }
  const pre = o.preconditioning;
  const omb = f32(1 - beta);
  return {
    init: (params) => ({
      count: 0,
      mu: treeZerosLike(params) as Updates,
      nsCoeffs: coeffs.map((c) => (Array.isArray(c) ? [...c] : c)) as number[] | number[][],
    }),
    update(updates, state) {
      checkStateKeys(fn, state, ['count', 'mu', 'nsCoeffs']);
      const iterations = (Array.isArray(state.nsCoeffs[0]) ? state.nsCoeffs : Array(nsSteps).fill(state.nsCoeffs)) as number[][];
      const dims = resolveDims(o.weightDimensionNumbers, updates) ?? null;
      const countInc = safeIncrement(state.count);
      const [out, mu] = tf.tidy((): tf.TensorContainer => {
        const mu = treeUpdateMoment(updates, state.mu, beta, 1);
        const muHat = nesterov
          ? treeMap(
              (m: tf.Tensor, g: tf.Tensor) => tf.add(tf.mul(beta, m), tf.mul(omb, g)),
              treeBiasCorrection(mu, beta, safeIncrement(countInc)),
              [treeBiasCorrection(updates, beta, countInc)],
            )
          : treeBiasCorrection(mu, beta, countInc);
        const leafDims = (path: readonly (string | number)[]): MuonDimensionNumbers | null => {
          let d: unknown = dims;
          for (const k of path) d = isDimensionNumbers(d) || d === null || d === undefined ? d : (d as Record<string | number, unknown>)[k];
          return isDimensionNumbers(d) ? d : null;
        };
        const orth = treeMapWithPath(
          (path, x: tf.Tensor) => orthogonalizeLeaf(fn, pathString(path), x, leafDims(path), iterations, pre, eps),
          muHat,
        );
        const u = adaptive ? treeMap((m: tf.Tensor, x: tf.Tensor) => tf.mul(tf.sum(tf.mul(m, x)), x), muHat, [orth]) : orth;
        return [u, mu] as tf.TensorContainer;
      }) as [Updates, Updates];
      return [out, { count: countInc, mu, nsCoeffs: state.nsCoeffs }];
    },
  };
}

/**
 * Scales each Muon leaf by its shape: `sqrt(max(1, fan_out / fan_in))`, or
 * `sqrt(max(fan_in, fan_out)) · consistentRms` (optax's private
 * `scale_by_shape` inside `muon`).
 */
function scaleByShape(
  dimsOf: (updates: Updates) => unknown,
  consistentRms: number | undefined,
): GradientTransformation<Record<string, never>> {
  const fn = 'muon';
  return {
    init: () => ({}),
    update(updates, state) {
      const dims = dimsOf(updates);
      const out = tf.tidy(
        () =>
          treeMapWithPath(
            (path, u: tf.Tensor, d: MuonDimensionNumbers) => {
              const [red, outAxes] = normalizeAxes(fn, pathString(path), u.shape, d);
              const [fanIn, fanOut] = [prod(red.map((i) => u.shape[i] as number)), prod(outAxes.map((i) => u.shape[i] as number))];
              const s =
                consistentRms === undefined
                  ? f32(Math.sqrt(f32(Math.max(1, fanOut / fanIn))))
                  : f32(f32(Math.sqrt(Math.max(fanIn, fanOut))) * f32(consistentRms));
              return tf.mul(s, u);
            },
            updates,
            [dims],
          ) as tf.TensorContainer,
      ) as Updates;
      return [out, state];
    },
  };
}

/** Options of {@link muon}: {@link scaleByMuon}'s (but `weightDimensionNumbers`) and the Adam branch's. */
export interface MuonOptions extends Omit<ScaleByMuonOptions, 'weightDimensionNumbers' | 'nsCoeffs'> {
  /** As in {@link scaleByMuon}, or optax's preset name `'standard'` or `'dion'`. */
  nsCoeffs?: NsCoeffs | readonly NsCoeffs[] | 'standard' | 'dion';
  /** Decoupled weight decay of the Muon leaves (default 0). */
  weightDecay?: number;
  /** Which Muon leaves get weight decay (a boolean tree or a function of the params). */
  weightDecayMask?: Mask;
  /** The Adam branch's `b1` (default 0.9). */
  adamB1?: number;
  /** The Adam branch's `b2` (default 0.999). */
  adamB2?: number;
  /** The Adam branch's `epsRoot` (default 0); its `eps` is `eps`. */
  adamEpsRoot?: number;
  /** The Adam branch's decoupled weight decay (default 0). */
  adamWeightDecay?: number;
  /** The Adam branch's learning rate (default: `learningRate`). */
  adamLearningRate?: ScalarOrSchedule;
  /**
   * The leaves Muon takes and their matrix axes: a tree with the params'
   * structure of {@link MuonDimensionNumbers} (Muon) and `null` (Adam), or a
   * function of the params to one. Default: Muon on every matrix, Adam on
   * every other leaf.
   */
  muonWeightDimensionNumbers?: MuonWeightDimensionNumbers;
  /** Scale Muon's updates to this RMS: `sqrt(max(fan_in, fan_out)) · consistentRms` (default: width transfer `sqrt(max(1, fan_out / fan_in))`). */
  consistentRms?: number;
}

const MUON_DEFAULTS: Required<Omit<MuonOptions, 'weightDecayMask' | 'adamLearningRate' | 'muonWeightDimensionNumbers' | 'consistentRms'>> &
  Pick<MuonOptions, 'weightDecayMask' | 'adamLearningRate' | 'muonWeightDimensionNumbers' | 'consistentRms'> = {
  nsCoeffs: DEFAULT_NS_COEFFS,
  nsSteps: 5,
  beta: 0.95,
  eps: 1e-8,
  nesterov: true,
  adaptive: false,
  preconditioning: 'frobenius',
  weightDecay: 0,
  weightDecayMask: undefined,
  adamB1: 0.9,
  adamB2: 0.999,
  adamEpsRoot: 0,
  adamWeightDecay: 0,
  adamLearningRate: undefined,
  muonWeightDimensionNumbers: undefined,
  consistentRms: undefined,
};

const DEFAULT_DIMS: MuonDimensionNumbers = { reductionAxis: 0, outputAxis: 1 };

/**
 * Muon with an AdamW fall-back, as optax's `muon`: the leaves Muon takes (by
 * default every matrix) get
 * `chain(scaleByMuon, scale by shape, addDecayedWeights(weightDecay, weightDecayMask), scaleByLearningRate(learningRate))`,
 * where "scale by shape" multiplies each update by
 * `sqrt(max(1, fan_out / fan_in))` (or `sqrt(max(fan_in, fan_out)) · consistentRms`);
 * every other leaf gets `adamw(adamLearningRate ?? learningRate, { b1: adamB1,
 * b2: adamB2, eps, epsRoot: adamEpsRoot, weightDecay: adamWeightDecay, nesterov })`.
 * The two are a {@link partition} with labels `'muon'` and `'adam'`.
 *
 * $$
 * u = -\eta \left( \kappa\, \mathrm{NS}(\hat m) + \lambda p \right), \qquad \kappa = \sqrt{\max(1, n_{\mathrm{out}} / n_{\mathrm{in}})} \quad \text{(matrices; AdamW on the other leaves)}
 * $$
 *
 * Defaults as {@link scaleByMuon}, `weightDecay = 0, adamB1 = 0.9,
 * adamB2 = 0.999, adamEpsRoot = 0, adamWeightDecay = 0`. Fuses: the Adam
 * branch does; Muon's stages run on the reference path. Reference: Jordan et
 * al., "Muon: An optimizer for hidden layers in neural networks" (2024);
 * optax `contrib.muon`.
 */
export function muon(learningRate: ScalarOrSchedule, options?: MuonOptions): GradientTransformation {
  const fn = 'muon';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const o = resolveOptions(fn, options, MUON_DEFAULTS);
  let nsCoeffs = o.nsCoeffs;
  if (typeof nsCoeffs === 'string') {
    const preset = NS_COEFF_PRESETS[nsCoeffs];
    if (preset === undefined)
      throw new Error(`${fn}: \`nsCoeffs\` must be 'standard', 'dion' or coefficients, got ${JSON.stringify(nsCoeffs)}`);
    nsCoeffs = preset;
  }
  if (o.consistentRms !== undefined) checkFinite(fn, 'consistentRms', o.consistentRms);
  checkFinite(fn, 'weightDecay', o.weightDecay);
  checkDecay(fn, 'adamB1', o.adamB1);
  checkDecay(fn, 'adamB2', o.adamB2);
  checkNonNegative(fn, 'adamEpsRoot', o.adamEpsRoot);
  checkFinite(fn, 'adamWeightDecay', o.adamWeightDecay);
  if (o.adamLearningRate !== undefined) checkScalarOrSchedule(fn, 'adamLearningRate', o.adamLearningRate);
  const given = o.muonWeightDimensionNumbers;
  const paramLabels = (params: Params) =>
    given === undefined
      ? treeMap((x: tf.Tensor) => (x.rank === 2 ? 'muon' : 'adam'), params)
      : treeMap((_x: tf.Tensor, d: unknown) => (isDimensionNumbers(d) ? 'muon' : 'adam'), params, [resolveDims(given, params as Updates)]);
  const muonDims = (updates: Updates) =>
    given === undefined
      ? treeMap(() => DEFAULT_DIMS, updates)
      : treeMap((_u: tf.Tensor, d: unknown) => d, updates, [resolveDims(given, updates)]);
  return partition(
    {
      muon: chain(
        scaleByMuon({
          nsCoeffs,
          nsSteps: o.nsSteps,
          beta: o.beta,
          eps: o.eps,
          nesterov: o.nesterov,
          adaptive: o.adaptive,
          preconditioning: o.preconditioning,
          weightDimensionNumbers: muonDims,
        }),
        scaleByShape(muonDims, o.consistentRms),
        addDecayedWeights(o.weightDecay, { mask: o.weightDecayMask }),
        scaleByLearningRate(learningRate),
      ),
      adam: adamw(o.adamLearningRate ?? learningRate, {
        b1: o.adamB1,
        b2: o.adamB2,
        eps: o.eps,
        epsRoot: o.adamEpsRoot,
        weightDecay: o.adamWeightDecay,
        nesterov: o.nesterov,
      }),
    },
    paramLabels,
  );
}
