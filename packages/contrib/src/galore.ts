/**
 * GaLore: `scaleByGalore` and `galore` (optax `contrib.scale_by_galore`,
 * `contrib.galore`), low-rank projected optimizer states.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  addDecayedWeights,
  chain,
  checkFinite,
  checkInteger,
  checkScalarOrSchedule,
  checkStateKeys,
  checkTransformation,
  type GradientTransformation,
  type Mask,
  type Params,
  resolveOptions,
  type ScalarOrSchedule,
  safeIncrement,
  scaleByAdam,
  scaleByLearningRate,
  treeMap,
  treeMapWithPath,
  type Updates,
} from './core-api.js';
import { isDimensionNumbers, type MuonDimensionNumbers, normalizeAxes, pathString } from './muon.js';
import { leftSingularVectors } from './svd.js';

/** Which axes of a leaf GaLore treats as the matrix (optax `GaLoreDimensionNumbers`); every axis must be one of them. */
export type GaLoreDimensionNumbers = MuonDimensionNumbers;

/** The state of {@link scaleByGalore} (optax `GaLoreState`). */
export interface GaLoreState {
  count: number;
  /** The base optimizer's state, over the projected (low-rank) gradients. */
  baseOptimizerState: unknown;
  /** Per leaf the projector `P` (`m × r` or `n × r`), `[0, 0]` for a leaf GaLore leaves alone. */
  projector: Updates;
}

/** Options of {@link scaleByGalore}. */
export interface ScaleByGaloreOptions {
  /** The projection rank (default 128), an integer ≥ 1; per leaf `min(rank, m, n)`. */
  rank?: number;
  /** Recompute the projectors every `updateProjGap` steps (default 200), an integer ≥ 1. */
  updateProjGap?: number;
  /** Multiplies the projected-back updates (default 1). */
  scale?: number;
  /** The optimizer run on the projected gradients (default `scaleByAdam()`). */
  baseOptimizer?: GradientTransformation;
  /**
   * The matrix axes of each leaf: one {@link GaLoreDimensionNumbers} for
   * every leaf of rank ≥ 2, a tree of them (`null`: leave the leaf alone)
   * or a function of the params to one. Default: axes 0 and 1 of every
   * matrix; other leaves go to the base optimizer unprojected.
   */
  weightDimensionNumbers?: unknown;
}

const DEFAULTS = {
  rank: 128,
  updateProjGap: 200,
  scale: 1,
  baseOptimizer: undefined as GradientTransformation | undefined,
  weightDimensionNumbers: undefined as unknown,
};

/** A leaf's matrix view: `[m, n]` after moving the reduction axes first, and the maps there and back. */
interface MatrixView {
  m: number;
  n: number;
  to: (x: tf.Tensor) => tf.Tensor2D;
  from: (y: tf.Tensor) => tf.Tensor;
}

function matrixView(fn: string, where: string, shape: readonly number[], dims: GaLoreDimensionNumbers): MatrixView {
  if (shape.length < 2) throw new Error(`${fn}: GaLore needs a leaf of rank >= 2 at ${where}, got shape [${shape.join(', ')}]`);
  const [red, out] = normalizeAxes(fn, where, shape, dims);
  if (red.length + out.length !== shape.length) {
    throw new Error(`${fn}: the dimension numbers at ${where} must name every axis of shape [${shape.join(', ')}]`);
  }
  const perm = [...red, ...out];
  const size = (axes: number[]) => axes.reduce((p, a) => p * (shape[a] as number), 1);
  const [m, n] = [size(red), size(out)];
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return {
    m,
    n,
    to: (x) => tf.reshape(tf.transpose(x, perm), [m, n]) as tf.Tensor2D,
    from: (y) =>
      tf.transpose(
        tf.reshape(
          y,
          perm.map((a) => shape[a] as number),
        ),
        inverse,
      ),
  };
}

/**
 * GaLore's projection: each chosen leaf's gradient, as an `m × n` matrix
 * `G`, is projected onto its `r = min(rank, m, n)` leading singular
 * directions, the base optimizer runs on the projections, and its updates
 * are projected back:
 * $$
 * \hat g = P^{\top} G, \qquad u = s\, P\, \mathrm{base}(\hat g) \qquad (m \ge n;\ \text{else } \hat g = G P,\ u = s\, \mathrm{base}(\hat g)\, P^{\top})
 * $$
 *
 * ```
 * m ≥ n:  P = U[:, :r] of G (m × r)      ĝ = Pᵀ G      u = scale · P · base(ĝ)
 * m < n:  P = V[:, :r] of G (n × r)      ĝ = G P       u = scale · base(ĝ) · Pᵀ
 * ```
 * with `P` recomputed from the current gradient every `updateProjGap` steps
 * (at steps 0, gap, 2·gap, …). Other leaves go to the base optimizer as they
 * are (and come back unscaled). The singular vectors are computed on the
 * host in float64 by Jacobi rotations (tfjs has no SVD), `O(m n²)` per
 * refresh. A singular vector's sign is arbitrary: until the first refresh
 * after step 0 the updates do not depend on it (they equal optax's), but at
 * a refresh the base optimizer's moments, kept from the old projection, meet
 * the new projector's signs, which may differ from LAPACK's in optax.
 *
 * State {@link GaLoreState}. Defaults `rank = 128, updateProjGap = 200,
 * scale = 1, baseOptimizer = scaleByAdam()`. Fuses: no (matrix products and
 * the SVD; reference path). Reference: Zhao et al., "GaLore: Memory-Efficient
 * LLM Training by Gradient Low-Rank Projection" (ICML 2024); optax
 * `contrib.scale_by_galore`.
 */
export function scaleByGalore(options?: ScaleByGaloreOptions): GradientTransformation<GaLoreState> {
  const fn = 'scaleByGalore';
  const o = resolveOptions(fn, options, DEFAULTS);
  const rank = checkInteger(fn, 'rank', o.rank, 1);
  const gap = checkInteger(fn, 'updateProjGap', o.updateProjGap, 1);
  const scale = checkFinite(fn, 'scale', o.scale);
  const base = o.baseOptimizer ?? scaleByAdam();
  checkTransformation(fn, '`baseOptimizer`', base);
  const given = o.weightDimensionNumbers;
  const dimsOf = (tree: unknown): unknown => {
    if (given === undefined || given === null)
      return treeMap((p: tf.Tensor) => (p.rank === 2 ? { reductionAxis: 0, outputAxis: 1 } : null), tree);
    if (typeof given === 'function') return (given as (t: unknown) => unknown)(tree);
    if (isDimensionNumbers(given)) return treeMap((p: tf.Tensor) => (p.rank >= 2 ? given : null), tree);
    return given;
  };
  /** Maps every leaf with its dimension numbers (null when GaLore leaves it alone) and matrix view. */
  const mapLeaves = <R>(tree: unknown, rest: unknown[], f: (x: tf.Tensor, view: MatrixView | null, ...others: unknown[]) => R) => {
    const dims = dimsOf(tree);
    return treeMapWithPath(
      (path, x: tf.Tensor, d: unknown, ...others: unknown[]) =>
        f(x, isDimensionNumbers(d) ? matrixView(fn, pathString(path), x.shape, d) : null, ...others),
      tree,
      [dims, ...rest],
    );
  };
  return {
    init(params) {
      const [projector, proxies] = tf.tidy(() => {
        const parts = mapLeaves(params, [], (p, view) => {
          if (view === null) return [tf.zeros([0, 0]), tf.zerosLike(p)];
          const r = Math.min(rank, view.m, view.n);
          return view.m >= view.n ? [tf.zeros([view.m, r]), tf.zeros([r, view.n])] : [tf.zeros([view.n, r]), tf.zeros([view.m, r])];
        });
        const isPair = (x: unknown) => Array.isArray(x) && x.length === 2 && x[0] instanceof tf.Tensor;
        return [
          treeMap((x: tf.Tensor[]) => x[0], parts, [], { isLeaf: isPair }),
          treeMap((x: tf.Tensor[]) => x[1], parts, [], { isLeaf: isPair }),
        ];
      }) as [Updates, Params];
      const baseOptimizerState = base.init(proxies);
      const kept = new Set(collectTensors(baseOptimizerState));
      tf.dispose(collectTensors(proxies).filter((t) => !kept.has(t)));
      return { count: 0, baseOptimizerState, projector };
    },
    update(updates, state) {
      checkStateKeys(fn, state, ['count', 'baseOptimizerState', 'projector']);
      const refresh = state.count % gap === 0;
      const [low, projector] = tf.tidy(() => {
        const pairs = mapLeaves(updates, [state.projector], (g, view, old) => {
          if (view === null) return [g, tf.clone(old as tf.Tensor)];
          const g2 = view.to(g);
          const left = view.m >= view.n;
          const r = Math.min(rank, view.m, view.n);
          const p = refresh ? projectorOf(left ? g2 : tf.transpose(g2), r) : tf.clone(old as tf.Tensor);
          return [left ? tf.matMul(p, g2, true, false) : tf.matMul(g2, p), p];
        });
        const isPair = (x: unknown) => Array.isArray(x) && x.length === 2 && x[0] instanceof tf.Tensor;
        return [
          treeMap((x: tf.Tensor[]) => x[0], pairs, [], { isLeaf: isPair }),
          treeMap((x: tf.Tensor[]) => x[1], pairs, [], { isLeaf: isPair }),
        ];
      }) as [Updates, Updates];
      const [lowUpdates, baseOptimizerState] = base.update(low, state.baseOptimizerState);
      const out = tf.tidy(
        () =>
          mapLeaves(updates, [lowUpdates, projector], (_g, view, u, p) => {
            if (view === null) return tf.clone(u as tf.Tensor);
            const full =
              view.m >= view.n ? tf.matMul(p as tf.Tensor2D, u as tf.Tensor2D) : tf.matMul(u as tf.Tensor2D, p as tf.Tensor2D, false, true);
            return tf.mul(scale, view.from(full));
          }) as tf.TensorContainer,
      ) as Updates;
      const inputs = new Set(collectTensors(updates));
      tf.dispose([...collectTensors(low), ...collectTensors(lowUpdates)].filter((t) => !inputs.has(t)));
      return [out, { count: safeIncrement(state.count), baseOptimizerState, projector }];
    },
  };
}

/** The tensors of a tree. */
function collectTensors(tree: unknown): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  treeMap((x: unknown) => {
    if (x instanceof tf.Tensor) out.push(x);
    return null;
  }, tree);
  return out;
}

/** The `r` leading left singular vectors of the tall matrix `b` (float32, `rows × r`). */
function projectorOf(b: tf.Tensor, r: number): tf.Tensor2D {
  const [rows, cols] = b.shape as [number, number];
  return tf.tensor2d(Float32Array.from(leftSingularVectors(b.dataSync(), rows, cols, r)), [rows, r], 'float32');
}

/** Options of {@link galore}. */
export interface GaloreOptions extends ScaleByGaloreOptions {
  /** Decoupled weight decay (default 0). */
  weightDecay?: number;
  /** Which params get weight decay (a boolean tree or a function of the params). */
  mask?: Mask;
}

/**
 * GaLore: `chain(scaleByGalore(opts), addDecayedWeights(weightDecay, mask),
 * scaleByLearningRate(learningRate))`, Adam (by default) with low-rank
 * projected gradients and states (see {@link scaleByGalore}). Defaults as
 * there, `weightDecay = 0`. Fuses: no (reference path; the decay and
 * learning-rate stages fuse). Reference: Zhao et al., "GaLore:
 * Memory-Efficient LLM Training by Gradient Low-Rank Projection" (ICML
 * 2024); optax `contrib.galore`.
 *
 * $$
 * u = -\eta \left( s\, P\, \mathrm{base}(P^{\top} G) + \lambda p \right) \qquad (m \ge n;\ \text{else } s\, \mathrm{base}(G P)\, P^{\top})
 * $$
 */
export function galore(learningRate: ScalarOrSchedule, options?: GaloreOptions): GradientTransformation {
  const fn = 'galore';
  checkScalarOrSchedule(fn, 'learningRate', learningRate);
  const { weightDecay, mask, ...rest } = resolveOptions(fn, options, { ...DEFAULTS, weightDecay: 0, mask: undefined as Mask | undefined });
  checkFinite(fn, 'weightDecay', weightDecay);
  return chain(scaleByGalore(rest), addDecayedWeights(weightDecay, { mask }), scaleByLearningRate(learningRate));
}
