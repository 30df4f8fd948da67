/**
 * Opt-in fast arithmetic: per-step divisions by scalars (Adam's bias
 * corrections and the like) become multiplications by reciprocals computed
 * once per step.
 *
 * @module
 */
import type { GradientTransformation } from './base.js';
import { chain, namedChain } from './combine.js';
import { elementwise } from './elementwise.js';
import type { ElementwiseSpec, Ops } from './lang/spec.js';
import { describe } from './tree.js';

/**
 * The arithmetic of a step: `'exact'` (the default) computes every operation
 * as optax does, bit for bit with the reference path; `'fast'` multiplies by
 * reciprocals of the per-step scalars instead of dividing by them (see
 * {@link fastPrecision}).
 */
export type Precision = 'exact' | 'fast';

/** The suffix of the reciprocal of a per-step scalar among a fast spec's scalars. */
const RECIPROCAL = '$reciprocal';

const fastOf = new WeakMap<GradientTransformation, GradientTransformation>();

/**
 * The same transformation with fast arithmetic: in every element-wise stage
 * (directly or through `chain` / `namedChain`), a division by a per-step
 * scalar of the stage, `x / k` (Adam's `mu / (1 - b1^t)`, `nu / (1 - b2^t)`,
 * ...), becomes `x * (1/k)`, with `1/k` computed once per step in float64
 * and rounded to float32. Each such operation may then differ from the exact
 * result by about one float32 ulp (a division rounds once; a reciprocal and a
 * product round twice). Divisions by per-element values (Adam's
 * `/ (sqrt(nu) + eps)`) and by reductions (`clipByGlobalNorm`'s norm) stay
 * divisions; other stages (combinators such as `injectHyperparams`,
 * non-element-wise transforms) are kept as they are. The state has the same
 * structure as `tx`'s, so states and checkpoints carry over either way.
 * The result is cached per `tx`.
 *
 * @example
 * ```ts
 * [params, state] = fusedUpdate(fastPrecision(tx), grads, state, params, { donate: true });
 * ```
 */
export function fastPrecision<S>(tx: GradientTransformation<S>): GradientTransformation<S> {
  const cached = fastOf.get(tx as GradientTransformation);
  if (cached !== undefined) return cached as GradientTransformation<S>;
  const f = tx.fusion;
  let fast: GradientTransformation = tx as GradientTransformation;
  if (f?.kind === 'elementwise') fast = { ...tx, ...elementwise(reciprocalSpec(f.spec)) } as GradientTransformation;
  else if (f?.kind === 'chain' && f.children !== undefined) {
    const children = f.children.map(([key, child]) => [key, fastPrecision(child)] as const);
    fast = children.every(([key]) => typeof key === 'number')
      ? chain(...children.map(([, child]) => child))
      : namedChain(...children.map(([key, child]) => [String(key), child] as [string, GradientTransformation]));
  }
  fastOf.set(tx as GradientTransformation, fast);
  return fast as GradientTransformation<S>;
}

/** `tx` with the arithmetic `precision` asks for; `fn` names the caller in the error for a bad value. */
export function withPrecision<S>(fn: string, tx: GradientTransformation<S>, precision: unknown): GradientTransformation<S> {
  if (precision === undefined || precision === 'exact') return tx;
  if (precision === 'fast') return fastPrecision(tx);
  const got = typeof precision === 'string' ? `'${precision}'` : describe(precision);
  throw new Error(`${fn}: \`precision\` must be 'exact' or 'fast', got ${got}`);
}

/** The spec with every division by one of its per-step scalars turned into a multiplication by that scalar's reciprocal. */
function reciprocalSpec(spec: ElementwiseSpec): ElementwiseSpec {
  let names: string[] | undefined;
  return {
    ...spec,
    key: `${spec.key}${RECIPROCAL}`,
    scalars(count) {
      const s = spec.scalars(count);
      const out: Record<string, number> = { ...s };
      for (const [name, v] of Object.entries(s)) out[name + RECIPROCAL] = 1 / v;
      return out;
    },
    body<V>(m: Ops<V>, x: Parameters<ElementwiseSpec['body']>[1], k: Readonly<Record<string, V>>) {
      names ??= Object.keys(spec.scalars(0));
      // read each scalar once, so the body and the division below see the same value objects
      const seen = new Map<string, V>();
      const read = (name: string): V => {
        if (!seen.has(name)) seen.set(name, k[name] as V);
        return seen.get(name) as V;
      };
      const reciprocalOf = new Map<V, V>();
      for (const name of names) reciprocalOf.set(read(name), k[name + RECIPROCAL] as V);
      const ops: Ops<V> = Object.create(m);
      ops.div = (a: V, b: V): V => {
        const r = reciprocalOf.get(b);
        return r === undefined ? m.div(a, b) : m.mul(a, r);
      };
      const scalars = new Proxy({} as Record<string, V>, { get: (_t, p) => (typeof p === 'string' ? read(p) : undefined) });
      return spec.body(ops, x as never, scalars);
    },
  };
}
