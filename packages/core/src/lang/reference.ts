/**
 * The reference evaluation of the per-element language: {@link Ops} over
 * tfjs tensors, and the reductions of {@link ReductionSpec}.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { REDUCTIONS } from './reductions.js';
import type { BodyInputs, ElementwiseSpec, Ops, ReductionSpec } from './spec.js';

/** {@link Ops} implemented with tfjs-core ops (the reference path). Masks are bool tensors. */
export const tfOps: Ops<tf.Tensor> = {
  c: (x) => tf.scalar(x, 'float32'),
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  max: (a, b) => tf.where(tf.logicalOr(tf.isNaN(a), tf.isNaN(b)), tf.add(a, b), tf.maximum(a, b)),
  min: (a, b) => tf.where(tf.logicalOr(tf.isNaN(a), tf.isNaN(b)), tf.add(a, b), tf.minimum(a, b)),
  neg: (a) => tf.neg(a),
  abs: (a) => tf.abs(a),
  sqrt: (a) => tf.sqrt(a),
  square: (a) => tf.square(a),
  // (a > 0) - (a < 0), as the kernels compute it: tf.sign maps NaN to 0 on some backends (jnp.sign keeps NaN),
  // and tfjs-wasm's Sign returns 0 for |a| below ~1e-6.
  sign: (a) => tf.where(tf.isNaN(a), a, tf.sub(tf.cast(tf.greater(a, 0), 'float32'), tf.cast(tf.less(a, 0), 'float32'))),
  exp: (a) => tf.exp(a),
  log: (a) => tf.log(a),
  lt: (a, b) => tf.less(a, b),
  le: (a, b) => tf.lessEqual(a, b),
  gt: (a, b) => tf.greater(a, b),
  ge: (a, b) => tf.greaterEqual(a, b),
  eq: (a, b) => tf.equal(a, b),
  and: (a, b) => tf.logicalAnd(a, b),
  or: (a, b) => tf.logicalOr(a, b),
  not: (a) => tf.logicalNot(a),
  isNaN: (a) => tf.isNaN(a),
  isFinite: (a) => tf.isFinite(a),
  select: (cond, a, b) => tf.where(cond, a, b),
};

/** One leaf's partial of reduction `op` (a scalar tensor; see {@link REDUCTIONS}). */
export function reduceLeaf(op: ReductionSpec['op'], x: tf.Tensor): tf.Scalar {
  const partial = REDUCTIONS[op].partial;
  // an empty leaf adds nothing (tfjs-webgpu cannot reduce an empty tensor)
  if (x.size === 0) return tf.scalar(REDUCTIONS[op].identity);
  // tfjs-wasm accumulates sums in float32; the kernels (and tfjs-cpu) in float64
  if (partial !== 'maxAbs' && tf.getBackend() === 'wasm') return tf.scalar(hostSum(x.dataSync() as Float32Array, partial === 'sumSq'));
  if (partial === 'sumSq') return tf.sum(tf.square(x));
  if (partial === 'sum') return tf.sum(x);
  return tf.max(tf.abs(x));
}

/** The float64 sum of `values` (of their float32 squares when `squares`), rounded to float32. */
function hostSum(values: Float32Array, squares: boolean): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    s += squares ? Math.fround(v * v) : v;
  }
  return Math.fround(s);
}

/**
 * Combines per-leaf partial reductions into the final value (a scalar tensor),
 * as {@link REDUCTIONS} says. `count` is the number of elements reduced over,
 * all partials together; only a finish by the mean (`meanSq`) reads it.
 */
export function combineReduction(op: ReductionSpec['op'], partials: readonly tf.Scalar[], count = 0): tf.Scalar {
  const rule = REDUCTIONS[op];
  if (partials.length === 0) return tf.scalar(rule.finish === 'mean' ? Number.NaN : rule.identity);
  const total = rule.combine === 'max' ? tf.max(tf.stack(partials as tf.Scalar[])) : tf.addN(partials as tf.Scalar[]);
  if (rule.finish === 'mean') return tf.div(total, tf.scalar(count, 'float32'));
  return (rule.finish === 'sqrt' ? tf.sqrt(total) : total) as tf.Scalar;
}

/** A per-element value as a leaf of `shape` (a value built from scalars alone is broadcast), so it reduces over every element. */
function asLeaf(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (tf.util.arraysEqual(t.shape, shape as number[])) return t;
  return tf.util.sizeFromShape(shape as number[]) === 0 ? tf.zeros(shape as number[]) : tf.broadcastTo(t, shape as number[]);
}

/**
 * The global reduction `op` of per-leaf values (one tensor per leaf, in leaf
 * order, each of its leaf's `shape`), as the reference path and the fused
 * engine both compute an {@link ExpressionReduction}.
 */
export function reduceLeafValues(op: ReductionSpec['op'], values: readonly tf.Tensor[], shapes: readonly (readonly number[])[]): tf.Scalar {
  const leaves = values.map((v, i) => asLeaf(v, shapes[i] as number[]));
  return combineReduction(
    op,
    leaves.map((x) => reduceLeaf(op, x)),
    leaves.reduce((n, x) => n + x.size, 0),
  );
}

/**
 * The expression reductions of `spec` on the reference path: each value
 * evaluated with {@link tfOps} on every leaf's inputs (`x[l]`), then reduced
 * over the tree. `k` holds the per-step scalars and the scalar state.
 */
export function expressionReductionsReference(
  spec: ElementwiseSpec,
  x: readonly BodyInputs<tf.Tensor>[],
  k: Readonly<Record<string, tf.Tensor>>,
): Record<string, tf.Scalar> {
  const out: Record<string, tf.Scalar> = {};
  const shapes = x.map((xi) => xi.u.shape);
  for (const r of spec.expressionReductions ?? []) {
    out[r.name] = reduceLeafValues(
      r.op,
      x.map((xi) => r.value(tfOps, xi, k)),
      shapes,
    );
  }
  return out;
}
