/**
 * One mini-step of `multiSteps` as a chain of element-wise stages, so the
 * fused engine runs it. Its two kinds are two plans: an emitting mini-step
 * is the accumulation `acc ← acc + (g − acc)/(n + 1)` (or `g + acc`), with
 * the accumulator kept as `0 · acc` (optax multiplies it by `1 − emit`),
 * then the inner chain on the accumulator as it is; a non-emitting one is
 * the accumulation, the inner chain *frozen* (it computes its update but
 * writes none of its state: optax's `jnp.where(emit, new, old)` keeps the
 * old one) and its output times 0 (optax's `emit * updates`). The step
 * counts of the inner stages advance only when it emits (restored on the
 * host otherwise).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation, LoweredStep } from '../base.js';
import { safeIncrement } from '../base.js';
import { chain, namedChain } from '../combine.js';
import { elementwise } from '../elementwise.js';
import { storageKey } from '../lang/packed-columns.js';
import type { BodyInputs, BodyOutputs, ElementwiseSpec, Ops } from '../lang/spec.js';
import { isPacked, type SlotStorage } from '../lang/storage/slot-storage.js';
import { isPlainObject } from '../tree.js';

/** What one mini-step needs, read from the state on the host. */
export interface MiniStep {
  readonly miniStep: number;
  readonly gradientStep: number;
  readonly kSteps: number;
  readonly accGrads: unknown;
  readonly innerOptState: unknown;
  readonly useGradMean: boolean;
  /** How `accGrads` is stored (a packed accumulator is decoded and encoded in the accumulation stage, as any packed slot). */
  readonly storage: SlotStorage;
  /** The inner transformation's step, lowered (a plain chain of stages) on its state. */
  readonly inner: LoweredStep;
}

/**
 * The accumulation stage: outputs the new accumulator as the update
 * (float32) and keeps it in `storage` (`0 · acc` when emitting). The mean's
 * `(g − acc) / n` is a multiplication by `1 / n` when `n` is a power of
 * two: both are the correctly rounded value of the same exact quotient, so
 * the bits are optax's, without a division per element on most mini-steps.
 */
function accumulateSpec(mean: boolean, n: number, emit: number, storage: SlotStorage): ElementwiseSpec {
  const byReciprocal = mean && Number.isInteger(Math.log2(n));
  return {
    name: 'multiSteps',
    key: `multiSteps.${mean ? (byReciprocal ? 'mean/pow2' : 'mean') : 'sum'}${emit ? '/emit' : ''}${storageKey(storage)}`,
    slots: [{ name: 'accGrads', init: 0, storage }],
    counted: false,
    needsParams: false,
    // (0 as a scalar, not a constant: a shader compiler may fold `x * 0.0` to 0, losing optax's NaN and -0)
    scalars: (): Record<string, number> => ({ ...(byReciprocal ? { r: 1 / n } : { n }), zero: 0 }),
    body<V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>) {
      const a = x.accGrads as V;
      const d = (): V => m.sub(x.u, a);
      const acc = !mean ? m.add(x.u, a) : m.add(a, byReciprocal ? m.mul(d(), k.r as V) : m.div(d(), k.n as V));
      return { u: acc, accGrads: emit ? m.mul(acc, k.zero as V) : acc };
    },
  };
}

/** The inner output times 0 on a non-emitting mini-step (optax's `emit * updates`: NaN where it is not finite). */
const timesZero: ElementwiseSpec = {
  name: 'multiSteps',
  key: 'multiSteps.timesZero',
  slots: [],
  counted: false,
  needsParams: false,
  // (0 as a scalar, not a constant: a shader compiler may fold `x * 0.0` to 0, losing optax's NaN and -0)
  scalars: () => ({ zero: 0 }),
  body: <V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>) => ({ u: m.mul(x.u, k.zero as V) }),
};

/**
 * `spec` reading its slots without writing them, for a non-emitting
 * mini-step (optax's `jnp.where(emit, new, old)` keeps the old state): its
 * kernel computes the update (its value matters: `p + 0 · u` is NaN where
 * `u` is not finite, and `+0` where `p` is `-0` and `u ≥ 0`) but writes no
 * slot (a packed slot, whose codes the engine always writes, is written
 * back as it was read), and keeps no reduction in the state.
 */
function frozenSpec(spec: ElementwiseSpec): ElementwiseSpec {
  const packed = spec.slots.filter((s) => isPacked(s.storage)).map((s) => s.name);
  return {
    ...spec,
    key: `multiSteps.frozen(${spec.key})`,
    reductionsInState: undefined,
    body<V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>): BodyOutputs<V> {
      const out: Record<string, V> = { u: spec.body(m, x, k).u };
      for (const name of packed) out[name] = x[name] as V;
      return out as BodyOutputs<V>;
    },
  };
}

/** The chain of `tx` with every element-wise stage frozen (see {@link frozenSpec}); null when a stage is not element-wise. */
function frozenChain(tx: GradientTransformation): GradientTransformation | null {
  const f = tx.fusion;
  if (f?.kind === 'elementwise') return elementwise(frozenSpec(f.spec));
  if (f?.kind !== 'chain' || f.children === undefined) return null;
  const children: [number | string, GradientTransformation][] = [];
  for (const [key, child] of f.children) {
    const g = frozenChain(child);
    if (g === null) return null;
    children.push([key, g]);
  }
  return children.every(([key]) => typeof key === 'number')
    ? chain(...children.map(([, c]) => c))
    : namedChain(...children.map(([key, c]) => [String(key), c] as [string, GradientTransformation]));
}

/** The frozen chain's state for one mini-step: views of the inner state, and how to restore what a view leaves out. */
interface FrozenState {
  readonly view: unknown;
  restore(state: unknown, donated: boolean): unknown;
}

/**
 * The state of the frozen chain of `tx` (see {@link frozenChain}) on the
 * inner state: a reduction kept in a stage's state is left out of the view
 * and put back, unchanged, by `restore`.
 */
function frozenState(tx: GradientTransformation, state: unknown): FrozenState {
  const f = tx.fusion;
  if (f?.kind === 'elementwise') {
    const kept = f.spec.reductionsInState ?? [];
    if (kept.length === 0) return { view: state, restore: (s) => s };
    const st = state as Record<string, tf.Tensor>;
    return {
      view: Object.fromEntries(Object.entries(st).filter(([key]) => !kept.includes(key))),
      restore: (s, donated) => ({
        ...(s as object),
        ...Object.fromEntries(kept.map((key) => [key, donated ? st[key] : tf.clone(st[key] as tf.Tensor)])),
      }),
    };
  }
  const children = f?.kind === 'chain' ? (f.children ?? []) : [];
  const array = children.every(([key]) => typeof key === 'number');
  const parts = children.map(([key, child]) => [key, frozenState(child, (state as Record<string | number, unknown>)[key])] as const);
  const rebuild = (make: (key: number | string, g: FrozenState) => unknown): unknown =>
    array ? parts.map(([key, g]) => make(key, g)) : Object.fromEntries(parts.map(([key, g]) => [key, make(key, g)]));
  return {
    view: rebuild((_key, g) => g.view),
    restore: (s, donated) => rebuild((key, g) => g.restore((s as Record<string | number, unknown>)[key], donated)),
  };
}

/**
 * The chains a mini-step runs, by inner transformation and by
 * `mean/n/emit` (a handful per inner transformation, as `n` runs from 1 to
 * `k`): a replayed step then finds its plan without rebuilding it.
 */
const loweredChains = new WeakMap<GradientTransformation, Map<string, GradientTransformation | null>>();
const MAX_CACHED = 64;

/**
 * The chain of one mini-step: accumulate, then the inner chain (emitting),
 * or the frozen inner chain and the output times 0; null when the inner
 * chain cannot be frozen.
 */
function miniStepChain(inner: GradientTransformation, s: MiniStep, n: number, emit: number): GradientTransformation | null {
  const mean = s.useGradMean;
  let byStep = loweredChains.get(inner);
  if (byStep === undefined) {
    byStep = new Map();
    loweredChains.set(inner, byStep);
  }
  const key = `${mean}/${n}/${emit}/${storageKey(s.storage)}`;
  let tx = byStep.get(key);
  if (tx === undefined) {
    const frozen = frozenChain(inner);
    const accumulate = elementwise(accumulateSpec(mean, n, emit, s.storage));
    tx = frozen === null ? null : emit === 1 ? chain(accumulate, inner) : chain(accumulate, frozen, elementwise(timesZero));
    if (byStep.size < MAX_CACHED) byStep.set(key, tx);
  }
  return tx;
}

/** `old` with its tensors replaced by those at the same places in `fresh` (a non-emitting mini-step keeps the inner counts). */
function withTensorsOf(old: unknown, fresh: unknown): unknown {
  if (old instanceof tf.Tensor) return fresh; // (a donated old tensor may be consumed: not read)
  if (Array.isArray(old)) return old.map((x, i) => withTensorsOf(x, Array.isArray(fresh) ? fresh[i] : undefined));
  if (isPlainObject(old)) {
    const f = isPlainObject(fresh) ? fresh : {};
    return Object.fromEntries(Object.keys(old).map((key) => [key, withTensorsOf(old[key], f[key])]));
  }
  return old;
}

/** One mini-step of `multiSteps` as a step of a chain of element-wise stages; null when the inner chain cannot be frozen. */
export function lowerMiniStep(s: MiniStep): LoweredStep | null {
  const emit = s.miniStep === s.kSteps - 1 ? 1 : 0;
  const tx = miniStepChain(s.inner.tx, s, s.miniStep + 1, emit);
  if (tx === null) return null;
  const inner: FrozenState = emit ? { view: s.inner.state, restore: (st) => st } : frozenState(s.inner.tx, s.inner.state);
  return {
    tx,
    state: emit ? [{ accGrads: s.accGrads }, inner.view] : [{ accGrads: s.accGrads }, inner.view, {}],
    finish(state, donated) {
      const [acc, next] = state as [{ accGrads: unknown }, unknown];
      const innerOptState = s.inner.finish(inner.restore(next, donated), donated);
      return {
        miniStep: safeIncrement(s.miniStep) % s.kSteps,
        gradientStep: emit ? safeIncrement(s.gradientStep) : s.gradientStep,
        innerOptState: emit ? innerOptState : withTensorsOf(s.innerOptState, innerOptState),
        accGrads: acc.accGrads,
        skipState: [],
      };
    },
  };
}
