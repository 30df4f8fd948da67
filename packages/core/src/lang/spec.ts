/**
 * The per-element language shared by the reference path and every fused code
 * generator.
 *
 * An element-wise transform describes, once, what happens to one element of
 * one leaf in one step: which per-element state slots it keeps, which per-step
 * scalars it needs (computed in JS doubles from the step count and the
 * hyperparameters), which reductions over a leaf or the whole tree must run
 * before it, and the per-element body written against an abstract {@link Ops}
 * vocabulary. The reference path evaluates the body with tfjs ops; the fused
 * engine traces it into an expression graph and prints it as a JS loop, as
 * WebAssembly SIMD or as WGSL.
 *
 * Rules for authors of a body:
 * - every number that can change between instances (a hyperparameter, a bias
 *   correction) comes through `k`, never as a literal captured from the
 *   closure, so compiled kernels can be cached per {@link ElementwiseSpec.key};
 * - literals that never change (`0`, `1`, `0.5`) use `m.c(x)`;
 * - branches on options that change the expression's shape (e.g. `nesterov`)
 *   must be reflected in `key`.
 *
 * @module
 */
import type { SlotStorage } from './storage/slot-storage.js';

/**
 * The operations a per-element body may use. `V` is a tensor on the reference
 * path and an expression node in the code generators. Comparisons return a
 * mask (1/0 or true/false, backend-defined) that is only consumed by
 * `select`, `and`, `or` and `not`.
 */
export interface Ops<V> {
  /** A constant that is the same for every instance of the transform. */
  c(x: number): V;
  add(a: V, b: V): V;
  sub(a: V, b: V): V;
  mul(a: V, b: V): V;
  div(a: V, b: V): V;
  /** Element-wise maximum (NaN-propagating, like `jnp.maximum`). */
  max(a: V, b: V): V;
  /** Element-wise minimum (NaN-propagating, like `jnp.minimum`). */
  min(a: V, b: V): V;
  neg(a: V): V;
  abs(a: V): V;
  sqrt(a: V): V;
  square(a: V): V;
  /** -1, 0 or 1 (`jnp.sign`). */
  sign(a: V): V;
  exp(a: V): V;
  log(a: V): V;
  lt(a: V, b: V): V;
  le(a: V, b: V): V;
  gt(a: V, b: V): V;
  ge(a: V, b: V): V;
  eq(a: V, b: V): V;
  and(a: V, b: V): V;
  or(a: V, b: V): V;
  not(a: V): V;
  isNaN(a: V): V;
  isFinite(a: V): V;
  /** `cond ? a : b`, element-wise (`jnp.where`). */
  select(cond: V, a: V, b: V): V;
}

/** A per-element state slot, initialised to `init` everywhere (zeros for most), or to a copy of the params (`'params'`). */
export interface SlotSpec {
  readonly name: string;
  readonly init: number | 'params';
  /**
   * How the slot is stored between steps (default float32). A narrow storage
   * (bfloat16, float16, block-wise int8) is decoded to float32 before the
   * body and its outputs are encoded again after it; the body always works
   * in float32. See `lang/storage/slot-storage.ts`.
   */
  readonly storage?: SlotStorage;
}

/**
 * A reduction that runs before the body; its value reaches the body as the
 * scalar `k[name]`. `of` is the incoming update (`u`) or the param (`p`);
 * `scope` is one value for the whole tree or one per leaf.
 */
export interface ReductionSpec {
  readonly name: string;
  readonly of: 'u' | 'p';
  /**
   * `l2`: sqrt of the sum of squares; `sumSq`: the sum of squares; `sum`;
   * `maxAbs`: the largest |x|; `meanSq`: the sum of squares divided by the
   * number of elements in the scope (summed first, then divided once, as
   * `jnp.mean` does; NaN for an empty scope).
   */
  readonly op: 'l2' | 'sumSq' | 'sum' | 'maxAbs' | 'meanSq';
  readonly scope: 'global' | 'leaf';
}

/**
 * A global reduction over a per-element expression of the body's inputs (the
 * incoming update, the params, the slots before the step) and of the step's
 * scalars (`scalars(count)` and the {@link ScalarStateSpec scalar state} before
 * the step): e.g. `<g, x0 - x>` or `|s_new|₁`. Its value reaches
 * {@link ElementwiseSpec.updateScalars} and the body as `k[name]`.
 */
export interface ExpressionReduction {
  readonly name: string;
  readonly op: ReductionSpec['op'];
  /** The per-element value reduced over the whole tree. */
  value<V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>): V;
}

/**
 * A float32 scalar kept in the state (a scalar tensor, `init` at first) that
 * changes once per step from tree-wide reductions, as Prodigy's and
 * D-Adaptation's distance estimate `d`: reductions and the body read the
 * value before the step as `k[name]`; the new value is the scalar `next` of
 * {@link ElementwiseSpec.updateScalars}, which the body may read too.
 */
export interface ScalarStateSpec {
  readonly name: string;
  readonly init: number;
  /** The name of the `updateScalars` result that becomes the new value. */
  readonly next: string;
}

/** The values a body reads: the incoming update `u`, the param `p` (when `needsParams`), and the slots by name. */
export type BodyInputs<V> = { readonly u: V; readonly p: V } & { readonly [slot: string]: V };

/** What a body returns: the outgoing update `u` and the new value of each slot it changes. */
export type BodyOutputs<V> = { readonly u: V } & { readonly [slot: string]: V };

/**
 * The complete per-element description of an element-wise transform. See the
 * module comment for the rules a body follows.
 */
export interface ElementwiseSpec {
  /** The transform's public name, for messages (e.g. `scaleByAdam`). */
  readonly name: string;
  /** Identifies the body's expression shape: equal keys must mean equal bodies for equal `k`. */
  readonly key: string;
  /** Per-element state slots, in the order they appear in the state object. */
  readonly slots: readonly SlotSpec[];
  /** Whether the state keeps a step `count` (incremented by every update, saturating). */
  readonly counted: boolean;
  /** Whether the body reads the params (`x.p`). */
  readonly needsParams: boolean;
  /** Reductions computed before the body. */
  readonly reductions?: readonly ReductionSpec[];
  /**
   * Names of `global` reductions whose value is also kept in the state, under
   * the same name, as a scalar float32 tensor (0 at init): after an update it
   * holds the value computed from that update's inputs, before the body ran
   * (e.g. `clipByGlobalNorm`'s `globalNorm`). The body never reads it back.
   * These keys come after `count` and the slots in the state object.
   */
  readonly reductionsInState?: readonly string[];
  /**
   * Global reductions over per-element expressions, computed before
   * `updateScalars` and the body (see {@link ExpressionReduction}).
   */
  readonly expressionReductions?: readonly ExpressionReduction[];
  /** Scalars kept in the state and updated once per step (see {@link ScalarStateSpec}); their keys come last in the state object. */
  readonly scalarState?: readonly ScalarStateSpec[];
  /**
   * The per-step scalar update, written against {@link Ops} on scalars: from
   * `k` (the per-step scalars, the scalar state before the step and the
   * expression reductions) it returns new scalars, the
   * body reads them as `k[name]`, and those named by a scalar state's `next`
   * become its new value.
   */
  updateScalars?<V>(m: Ops<V>, k: Readonly<Record<string, V>>): Readonly<Record<string, V>>;
  /**
   * Per-step scalars in JS doubles, from the step count before this update
   * (0 at the first update) and the transform's hyperparameters.
   */
  scalars(count: number): Readonly<Record<string, number>>;
  /** The per-element body. */
  body<V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>): BodyOutputs<V>;
}

/**
 * Rounds a JS double to float32. Per-step scalars that optax computes in
 * float32 (bias corrections such as `1 - b1 ** t`) are computed through this,
 * so gradtx feeds its kernels the same float32 values optax does.
 *
 * @internal
 */
export const f32: (x: number) => number = Math.fround;

/** optax's float32 bias correction `1 - decay ** count`, in float32 arithmetic. */
export function biasCorrection(decay: number, count: number): number {
  return f32(1 - f32(f32(decay) ** count));
}
