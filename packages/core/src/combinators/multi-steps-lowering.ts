/**
 * One mini-step of `multiSteps` as a chain of element-wise stages, so the
 * fused engine runs it: the accumulation `acc ← acc + (g − acc)/(n + 1)`
 * (or `g + acc`), the inner chain on the accumulator with every slot gated
 * by `emit` (`emit ? new : old`, as optax's `jnp.where`), and the inner
 * output scaled by `emit` (1 or 0). On an emitting mini-step the
 * accumulator becomes `0 · acc`, as optax multiplies it by `1 − emit`. The
 * step counts of the inner stages advance only when it emits (restored on
 * the host otherwise).
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
import type { SlotStorage } from '../lang/storage/slot-storage.js';
import { isPlainObject } from '../tree.js';

/** The name of the per-step scalar that gates the inner stages (1 on an emitting mini-step, else 0). */
const EMIT = 'multiSteps$emit';

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

/** The accumulation stage: outputs the new accumulator as the update (float32), keeps `keep · acc` (keep is 0 when emitting) in `storage`. */
function accumulateSpec(mean: boolean, n: number, keep: number, storage: SlotStorage): ElementwiseSpec {
  return {
    name: 'multiSteps',
    key: `${mean ? 'multiSteps.mean' : 'multiSteps.sum'}${storageKey(storage)}`,
    slots: [{ name: 'accGrads', init: 0, storage }],
    counted: false,
    needsParams: false,
    scalars: () => ({ n, keep }),
    body<V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>) {
      const a = x.accGrads as V;
      const acc = mean ? m.add(a, m.div(m.sub(x.u, a), k.n as V)) : m.add(x.u, a);
      return { u: acc, accGrads: m.mul(acc, k.keep as V) };
    },
  };
}

/** The inner output times `emit` (optax's `emit * updates`). */
function emitSpec(emit: number): ElementwiseSpec {
  return {
    name: 'multiSteps',
    key: 'multiSteps.emit',
    slots: [],
    counted: false,
    needsParams: false,
    scalars: () => ({ [EMIT]: emit }),
    body: <V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>) => ({ u: m.mul(x.u, k[EMIT] as V) }),
  };
}

/**
 * `spec` with every slot it writes gated: `emit ? new : old`; a reduction it
 * keeps in its state is kept only when emitting (a non-emitting mini-step
 * leaves it as it was).
 */
function gatedSpec(spec: ElementwiseSpec, emit: number): ElementwiseSpec {
  return {
    ...spec,
    key: `multiSteps.gated(${spec.key})`,
    reductionsInState: emit === 1 ? spec.reductionsInState : undefined,
    scalars: (count) => ({ ...spec.scalars(count), [EMIT]: emit }),
    body<V>(m: Ops<V>, x: BodyInputs<V>, k: Readonly<Record<string, V>>) {
      const out: Record<string, V> = spec.body(m, x, k);
      const keep = m.gt(k[EMIT] as V, m.c(0));
      const gated: Record<string, V> = { u: out.u as V };
      for (const s of spec.slots) {
        const next = out[s.name];
        if (next !== undefined) gated[s.name] = m.select(keep, next, x[s.name] as V);
      }
      return gated as BodyOutputs<V>;
    },
  };
}

/** The chain of `tx` with every element-wise stage gated; null when a stage is not element-wise. */
function gatedChain(tx: GradientTransformation, emit: number): GradientTransformation | null {
  const f = tx.fusion;
  if (f?.kind === 'elementwise') return elementwise(gatedSpec(f.spec, emit));
  if (f?.kind !== 'chain' || f.children === undefined) return null;
  const children: [number | string, GradientTransformation][] = [];
  for (const [key, child] of f.children) {
    const g = gatedChain(child, emit);
    if (g === null) return null;
    children.push([key, g]);
  }
  return children.every(([key]) => typeof key === 'number')
    ? chain(...children.map(([, c]) => c))
    : namedChain(...children.map(([key, c]) => [String(key), c] as [string, GradientTransformation]));
}

/** The gated chain's state for one mini-step: views of the inner state, and how to restore what a view leaves out. */
interface GatedState {
  readonly view: unknown;
  restore(state: unknown, donated: boolean): unknown;
}

/**
 * The state of the gated chain of `tx` (see {@link gatedChain}) on the inner
 * state. On a non-emitting mini-step, a reduction kept in a stage's state is
 * left out of the view and put back, unchanged, by `restore`.
 */
function gatedState(tx: GradientTransformation, state: unknown, emit: number): GatedState {
  const f = tx.fusion;
  if (f?.kind === 'elementwise') {
    const kept = emit === 1 ? [] : (f.spec.reductionsInState ?? []);
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
  const parts = children.map(([key, child]) => [key, gatedState(child, (state as Record<string | number, unknown>)[key], emit)] as const);
  const rebuild = (make: (key: number | string, g: GatedState) => unknown): unknown =>
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

/** The chain of one mini-step: accumulate, the gated inner chain, the output times `emit`; null when the inner chain cannot be gated. */
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
    const gated = gatedChain(inner, emit);
    tx = gated === null ? null : chain(elementwise(accumulateSpec(mean, n, 1 - emit, s.storage)), gated, elementwise(emitSpec(emit)));
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

/** One mini-step of `multiSteps` as a step of a chain of element-wise stages; null when the inner chain cannot be gated. */
export function lowerMiniStep(s: MiniStep): LoweredStep | null {
  const emit = s.miniStep === s.kSteps - 1 ? 1 : 0;
  const tx = miniStepChain(s.inner.tx, s, s.miniStep + 1, emit);
  if (tx === null) return null;
  const gated = gatedState(s.inner.tx, s.inner.state, emit);
  return {
    tx,
    state: [{ accGrads: s.accGrads }, gated.view, {}],
    finish(state, donated) {
      const [acc, inner] = state as [{ accGrads: unknown }, unknown];
      const innerOptState = s.inner.finish(gated.restore(inner, donated), donated);
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
