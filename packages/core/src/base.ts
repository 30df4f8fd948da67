/**
 * The core types: gradient transformations, schedules and the step count.
 *
 * @module
 */
import type { Tensor, Tensor1D, Variable } from '@tensorflow/tfjs-core';
import type { TensorTree } from './tree.js';

/** A schedule maps the step count (0 for the first update) to a value, in JS doubles. */
export type Schedule = (count: number) => number;

/** A hyperparameter given either as a constant or as a {@link Schedule}. */
export type ScalarOrSchedule = number | Schedule;

/** Params: a tree of float tensors (or `tf.Variable`s). */
export type Params = TensorTree;
/**
 * The type of a tree with the structure of `P` whose tensor leaves are fresh
 * tensors (a `tf.Variable` leaf becomes a `tf.Tensor` of its rank): the type
 * of a moment or trace kept for params `P`.
 */
export type AsTensors<P> = TensorTree extends P ? Params : TensorsOf<P>;
type TensorsOf<P> =
  P extends Variable<infer R>
    ? Tensor<R>
    : P extends Tensor
      ? P
      : P extends readonly unknown[]
        ? { -readonly [K in keyof P]: TensorsOf<P[K]> }
        : P extends object
          ? { -readonly [K in keyof P]: TensorsOf<P[K]> }
          : P;

declare const paramsTreeBrand: unique symbol;

/**
 * In a state type, a slot that holds a tree with the params' structure (an
 * Adam moment, a momentum trace): a {@link TensorTree} with a type-only mark.
 * `createOptimizer(tx, params)` replaces it with the params' own type (see
 * {@link StateFor}), so `opt.state[0].mu.w` type-checks for params `{ w }`.
 */
export type ParamsTree = TensorTree & { readonly [paramsTreeBrand]?: 'a tree with the params structure' };

declare const packedTreeBrand: unique symbol;

/**
 * In a state type, a tree with the params' structure whose leaves are 1-D
 * tensors: the int32 code words or float32 block scales of a slot stored in
 * a narrow format ({@link PackedSlot16}, {@link PackedSlot8}).
 * `createOptimizer(tx, params)` replaces it with the params' structure of
 * `tf.Tensor1D` leaves (see {@link StateFor}).
 */
export type PackedTree = TensorTree & { readonly [packedTreeBrand]?: 'a tree with the params structure of 1-D tensors' };

/** A tree with the structure of `P` whose leaves are 1-D tensors (the type of a {@link PackedTree} for params `P`). */
export type AsPackedTree<P> = TensorTree extends P ? Params : OneDimensionalOf<P>;
type OneDimensionalOf<P> = P extends Tensor
  ? Tensor1D
  : P extends readonly unknown[]
    ? { -readonly [K in keyof P]: OneDimensionalOf<P[K]> }
    : P extends object
      ? { -readonly [K in keyof P]: OneDimensionalOf<P[K]> }
      : P;

/**
 * The state type `S` of a transformation with every {@link ParamsTree} slot
 * replaced by the tensors of params `P` and every {@link PackedTree} by the
 * params' structure of 1-D tensors.
 */
export type StateFor<S, P> = unknown extends S
  ? S
  : [S] extends [never]
    ? never
    : typeof paramsTreeBrand extends keyof S
      ? AsTensors<P>
      : typeof packedTreeBrand extends keyof S
        ? AsPackedTree<P>
        : StateMap<S, P>;
type StateMap<S, P> = S extends Tensor | number | boolean | string | null | undefined
  ? S
  : S extends readonly unknown[]
    ? { -readonly [K in keyof S]: StateFor<S[K], P> }
    : S extends object
      ? { [K in keyof S]: StateFor<S[K], P> }
      : S;

/** The options type of a call that passes none: the default of the option type parameters of factories whose state depends on their options. */
export type NoOptions = Record<never, never>;

/**
 * Options `O` inferred by a factory whose state type depends on them, with
 * every key that the options interface `T` lacks typed `never`: a misspelt
 * option stays a type error (a generic parameter alone would accept it).
 */
export type Exact<O, T> = O & { readonly [K in Exclude<keyof O, keyof T>]: never };

/** The state type of a transformation. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;

/** Updates (gradients on the way in): a tree with the params' structure. */
export type Updates = TensorTree;

/**
 * A gradient transformation (optax's `GradientTransformation`): a pair of pure
 * functions. `init` builds the state from the params; `update` maps incoming
 * updates (gradients) and the state to outgoing updates and the next state.
 *
 * `update` never mutates or disposes its inputs and returns fresh tensors; the
 * caller owns (and disposes) what it returns. State is plain data: nested
 * objects and arrays of tensors, numbers, booleans and `null`.
 */
export interface GradientTransformation<S = any> {
  /** Builds the initial state for `params`. */
  init(params: Params): S;
  /**
   * Transforms `updates`, returning the new updates and the next state.
   * `extraArgs` (optax's `**extra_args`) is optional: transformations that do
   * not use it ignore it, and combinators forward it to the ones they wrap.
   */
  update(updates: Updates, state: S, params?: Params, extraArgs?: UpdateExtras): [Updates, S];
  /**
   * How this transformation may be executed by the fused engine: set by
   * element-wise transforms and by `chain`; absent for transforms that only
   * run on the reference path.
   */
  readonly fusion?: Fusion;
}

/** What the fused engine needs to know about a transformation. */
export type Fusion =
  | { readonly kind: 'elementwise'; readonly spec: import('./lang/spec.js').ElementwiseSpec }
  | {
      readonly kind: 'chain';
      /**
       * The chain's direct members with the key of each one's state in the
       * chain's state (an array index for `chain`, a name for `namedChain`),
       * so the fused engine can find every stage's state.
       */
      readonly children: readonly (readonly [key: number | string, tx: GradientTransformation])[];
    }
  | {
      /**
       * A combinator whose every step can be rewritten, on the host, as a
       * step of a plain transformation the engine fuses (see
       * {@link LoweredStep}): `injectHyperparams` (the inner transformation
       * built from this step's hyperparameters), `multiSteps` (the
       * accumulation and the inner chain, frozen on a non-emitting
       * mini-step, as element-wise stages).
       */
      readonly kind: 'lowering';
      /**
       * This step, for `state` (and the extra arguments), as a step of a
       * plain transformation; `null` when this step cannot be written so
       * (the step then runs as the combinator's own `update`). Pure: it
       * changes nothing and may throw on bad state (the reference path then
       * raises the canonical error).
       */
      lower(state: any, extraArgs?: UpdateExtras, inputs?: LoweringInputs): LoweredStep | null;
    }
  | {
      /**
       * A combinator that applies a transformation of its own to each group
       * of leaves (`masked`, `partition`): each step is split, on the host,
       * into one step per group on the updates and params with the other
       * groups' subtrees `null` (see {@link GroupedStep}), each taken by the
       * fused engine as a step of its own.
       */
      readonly kind: 'groups';
      /**
       * This step, for `state` and the step's inputs, split by groups of
       * leaves; `null` when it cannot be (the step then runs as the
       * combinator's own `update`). Pure; may throw on bad state.
       */
      split(state: any, extraArgs: UpdateExtras | undefined, inputs: LoweringInputs): GroupedStep | null;
    };

/** One group of a {@link GroupedStep}: a transformation stepped on some of the leaves. */
export interface LeafGroup {
  readonly tx: GradientTransformation;
  /** Its state (a view of the combinator's state). */
  readonly state: unknown;
  /** A tree of the params' structure with every leaf outside the group replaced by `null`. */
  select(tree: unknown): unknown;
  /** The extra arguments its update sees. */
  readonly extraArgs?: UpdateExtras;
}

/**
 * One step of a combinator as independent steps of its groups of leaves
 * (every leaf in exactly one group): stepping each group's transformation
 * on its leaves and then `finish` on the groups' new states (in order)
 * gives exactly what the combinator's own `update` and `applyUpdates` give.
 */
export interface GroupedStep {
  readonly groups: readonly LeafGroup[];
  /** Whether the groups were chosen from the values of the updates (a callable mask or labels), not from the combinator's arguments alone. */
  readonly readsUpdates: boolean;
  /** The combinator's new state from its groups' (`donated` as in {@link LoweredStep.finish}). */
  finish(states: readonly unknown[], donated: boolean): unknown;
}

/**
 * What a lowering may read of the step's inputs besides the state: the
 * incoming updates (a callable mask is evaluated on them) and whether they
 * are all finite (`applyIfFinite` decides its step by it). Absent when the
 * combinator's inner transformation does not see the step's updates (inside
 * `multiSteps`, it sees the accumulator).
 */
export interface LoweringInputs {
  /** The step's incoming updates. */
  readonly updates: Updates;
  /** Whether every element of the updates is finite (computed at most once per step, on the host). */
  allFinite(): boolean;
}

/**
 * One step of a combinator as a step of a plain transformation: running
 * `tx.update(updates, state, params)` and then `finish` on the new state
 * gives exactly what the combinator's own `update` gives (bit for bit).
 */
export interface LoweredStep {
  /** The transformation that takes this step (chains and element-wise stages, so the engine can fuse it). */
  readonly tx: GradientTransformation;
  /** Its state: views of the combinator's state (the same tensors). */
  readonly state: unknown;
  /**
   * The combinator's new state from the new state of `tx`; `donated` says
   * whether the step's input state was donated (its tensors may be kept as
   * they are) or not (a kept tensor must be cloned: the caller may dispose
   * the old state).
   */
  finish(state: unknown, donated: boolean): unknown;
}

/**
 * Extra named arguments of an update (optax's `**extra_args`):
 * `tx.update(updates, state, params, extras)` and `opt.step(grads, extras)`.
 * Transformations that do not use them ignore them; `chain` and every
 * combinator forward them to what they wrap. A transformation that needs one
 * throws an error naming it when it is missing (`requireExtra`).
 */
export interface UpdateExtras {
  /** The loss at the current params (optax's `value`), e.g. for Polyak steps and line searches. */
  readonly value?: number | Tensor;
  /** The gradient at the current params (optax's `grad`), for line searches. */
  readonly grad?: Updates;
  /**
   * The objective (optax's `value_fn`): params to a scalar loss, for line
   * searches and L-BFGS. It must not dispose its argument.
   */
  readonly valueFn?: (params: Params) => number | Tensor;
  /** Any other named argument, forwarded unchanged. */
  readonly [name: string]: unknown;
}

/** The extra arguments of an update: the same as {@link UpdateExtras}. */
export type ExtraArgs = UpdateExtras;

/** A gradient transformation whose `update` requires `params`. */
export type GradientTransformationExtraArgs<S = any> = GradientTransformation<S>;

/** The largest step count; counts saturate here, as optax's int32 `safe_increment` does. */
export const MAX_COUNT = 2 ** 31 - 1;

/**
 * `count + 1`, saturating at {@link MAX_COUNT} (optax `safe_increment`):
 *
 * $$
 * \mathrm{count}' = \min(\mathrm{count} + 1,\; 2^{31} - 1)
 * $$
 */
export function safeIncrement(count: number): number {
  return count < MAX_COUNT ? count + 1 : MAX_COUNT;
}

/**
 * optax's `safe_int32_increment`: {@link safeIncrement} under optax's other
 * name (a count is a JS number that saturates at 2^31 - 1, the int32
 * maximum, as optax's int32 counts do).
 */
export const safeInt32Increment: (count: number) => number = safeIncrement;

/**
 * Evaluates a {@link ScalarOrSchedule} at `count`.
 *
 * @internal
 */
export function resolveScalar(value: ScalarOrSchedule, count: number): number {
  return typeof value === 'function' ? value(count) : value;
}

/** A tensor leaf type, re-exported for convenience. */
export type { Tensor };
