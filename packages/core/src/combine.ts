/**
 * The algebra of gradient transformations: `chain`, `namedChain`, `identity`,
 * `setToZero`, `stateless` and `statelessWithTreeMap` (optax `combine.py` and
 * `base.py`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, StateOf, Updates } from './base.js';
import type { BodyInputs, ElementwiseSpec, Ops } from './lang/spec.js';
import { isTensor, treeLeaves, treeMap } from './tree.js';
import { checkFloatTree, checkTransformation, showValue } from './validate.js';

/** The state of `chain(...txs)`: the tuple of the members' states. */
export type ChainState<T extends readonly GradientTransformation[]> = { -readonly [K in keyof T]: StateOf<T[K]> };

/**
 * Applies transformations in sequence: the updates returned by one are the
 * input of the next. The state is an array with one entry per transformation.
 * `extraArgs` are passed to every transformation.
 *
 * `chain()` with no arguments is the identity. Reference: optax `chain`.
 */
export function chain<const T extends readonly GradientTransformation[]>(...txs: T): GradientTransformation<ChainState<T>>;
export function chain(...txs: GradientTransformation[]): GradientTransformation<unknown[]> {
  txs.forEach((tx, i) => {
    checkTransformation('chain', `argument ${i}`, tx);
  });
  return {
    fusion: { kind: 'chain', children: txs.map((tx, i) => [i, tx] as const) },
    init: (params) => txs.map((tx) => tx.init(params)),
    update(updates, state, params, extraArgs?: ExtraArgs) {
      if (!Array.isArray(state) || state.length !== txs.length) {
        throw new Error(
          `chain: expected a state array of length ${txs.length} (one per transformation), got ${Array.isArray(state) ? `length ${state.length}` : String(state)} (a state from a different transformation?)`,
        );
      }
      // With no stages the input updates would come back as they are; the
      // result must be fresh tensors, so clone them (the identity).
      if (txs.length === 0) return [treeMap((u: unknown) => (isTensor(u) ? tf.clone(u) : u), updates), []];
      return tf.tidy(() => {
        let current: Updates = updates;
        const next: unknown[] = [];
        txs.forEach((tx, i) => {
          const [u, s] = extraArgs === undefined ? tx.update(current, state[i], params) : tx.update(current, state[i], params, extraArgs);
          current = u;
          next.push(s);
        });
        return [current, next] as never;
      }) as unknown as [Updates, unknown[]];
    },
  };
}

/**
 * Like {@link chain}, but the state is an object keyed by the given names
 * (optax `named_chain`). Takes `[name, tx]` pairs, or one object of them.
 */
export function namedChain(
  ...pairs: [string, GradientTransformation][] | [Record<string, GradientTransformation>]
): GradientTransformation<Record<string, unknown>> {
  const entries: [string, GradientTransformation][] =
    pairs.length === 1 && !Array.isArray(pairs[0])
      ? Object.entries(pairs[0] as Record<string, GradientTransformation>)
      : (pairs as [string, GradientTransformation][]);
  const names = new Set<string>();
  for (const [name, tx] of entries) {
    if (typeof name !== 'string') throw new Error(`namedChain: every name must be a string, got ${showValue(name)}`);
    if (names.has(name)) throw new Error(`namedChain: the name \`${name}\` is used twice`);
    names.add(name);
    checkTransformation('namedChain', `the transformation named \`${name}\``, tx);
  }
  const inner = chain(...entries.map(([, tx]) => tx));
  return {
    fusion: { kind: 'chain', children: entries },
    init: (params) => Object.fromEntries(entries.map(([name, tx]) => [name, tx.init(params)])),
    update(updates, state, params, extraArgs?: ExtraArgs) {
      if (state === null || typeof state !== 'object')
        throw new Error(`namedChain: expected a state object keyed by name, got ${showValue(state)}`);
      const missing = entries.find(([name]) => !(name in state));
      if (missing) throw new Error(`namedChain: the state has no entry \`${missing[0]}\` (a state from a different transformation?)`);
      const [u, s] = inner.update(
        updates,
        entries.map(([name]) => state[name]),
        params,
        extraArgs,
      );
      return [u, Object.fromEntries(entries.map(([name], i) => [name, s[i]]))];
    },
  };
}

/** The per-element form of {@link identity} (`u ← u`), so the fused engine runs it inside a fused run at no cost. */
const identitySpec: ElementwiseSpec = {
  name: 'identity',
  key: 'identity',
  slots: [],
  counted: false,
  needsParams: false,
  scalars: () => ({}),
  body: <V>(_m: Ops<V>, x: BodyInputs<V>) => ({ u: x.u }),
};

/** Passes updates through unchanged (as fresh tensors). Stateless. Reference: optax `identity`. */
export function identity(): GradientTransformation<Record<string, never>> {
  return {
    fusion: { kind: 'elementwise', spec: identitySpec },
    init: () => ({}),
    update(updates) {
      checkFloatTree('identity', 'updates', updates);
      return [treeMap((u: tf.Tensor) => tf.clone(u), updates), {}];
    },
  };
}

/** The per-element form of {@link setToZero} (`u ← +0`). */
const zeroSpec: ElementwiseSpec = { ...identitySpec, name: 'setToZero', key: 'setToZero', body: <V>(m: Ops<V>) => ({ u: m.c(0) }) };

/** Replaces every update by zeros, so params stay fixed. Stateless. Reference: optax `set_to_zero`. */
export function setToZero(): GradientTransformation<Record<string, never>> {
  return {
    fusion: { kind: 'elementwise', spec: zeroSpec },
    init: () => ({}),
    update(updates) {
      checkFloatTree('setToZero', 'updates', updates);
      return [treeMap((u: tf.Tensor) => tf.zerosLike(u), updates), {}];
    },
  };
}

/** The state of a transformation that keeps none (optax `EmptyState`): `{}`. */
export type EmptyState = Record<string, never>;

/**
 * An `init` for transformations that keep no state: `{}`, whatever the
 * params (which it does not read). Reference: optax `init_empty_state`.
 */
export function initEmptyState(_params?: Params): EmptyState {
  return {};
}

/**
 * `tx` itself. optax wraps a transformation whose `update` does not take
 * `**extra_args` so that it accepts (and ignores) them; in gradtx every
 * `update` already takes the extra arguments as its fourth argument
 * (`tx.update(updates, state, params, extras)`), ignores those it does not
 * use, and `chain` and every combinator forward them, so there is nothing to
 * wrap. Checks that `tx` is a transformation. Reference: optax
 * `with_extra_args_support`.
 */
export function withExtraArgsSupport<S>(tx: GradientTransformation<S>): GradientTransformation<S> {
  checkTransformation('withExtraArgsSupport', 'tx', tx);
  return tx;
}

/**
 * A stateless transformation from a function of the whole updates (and
 * params) tree. Any tensor of the inputs that `fn` returns as it is is
 * cloned, so the result is always fresh. Reference: optax `stateless`.
 */
export function stateless(fn: (updates: Updates, params?: Params) => Updates): GradientTransformation<Record<string, never>> {
  if (typeof fn !== 'function') throw new Error(`stateless: \`fn\` must be a function, got ${showValue(fn)}`);
  return {
    init: () => ({}),
    update: (updates, _state, params) => {
      const inputs = new Set<unknown>([...treeLeaves(updates), ...treeLeaves(params)]);
      const out = tf.tidy(
        () => treeMap((x: unknown) => (isTensor(x) && inputs.has(x) ? tf.clone(x) : x), fn(updates, params)) as never,
      ) as unknown as Updates;
      return [out, {}];
    },
  };
}

/**
 * A stateless transformation from a per-leaf function `fn(update, param?)`.
 * Reference: optax `stateless_with_tree_map`.
 */
export function statelessWithTreeMap(
  fn: (update: tf.Tensor, param?: tf.Tensor) => tf.Tensor,
): GradientTransformation<Record<string, never>> {
  if (typeof fn !== 'function') throw new Error(`statelessWithTreeMap: \`fn\` must be a function, got ${showValue(fn)}`);
  return stateless((updates, params) =>
    params === undefined || params === null
      ? treeMap((u: tf.Tensor) => fn(u), updates)
      : treeMap((u: tf.Tensor, p: tf.Tensor) => fn(u, p), updates, [params], { names: ['updates', 'params'] }),
  );
}
