/**
 * The one table of reductions ({@link ReductionSpec.op}) that every target
 * reads: the reference path (tfjs ops), the host side of the fused engine
 * (which combines per-leaf partials in JS), and the device code generators
 * (WGSL prints its combine and finish from the same entries).
 *
 * Every reduction is computed in two levels: each leaf (or chunk) gives a
 * *partial* of one of three kinds (`sumSq`, `sum`, `maxAbs`), partials are
 * combined (float32 addition, or the NaN-propagating maximum) starting from
 * the partial's identity, and the total is *finished* with the number of
 * elements reduced over (`l2` takes the square root, `meanSq` divides by the
 * count, as `jnp.mean` does: NaN for an empty scope).
 *
 * @module
 */
import type { ReductionSpec } from './spec.js';

/** A reduction of {@link ReductionSpec.op}. */
export type ReductionOp = ReductionSpec['op'];

/**
 * The partial a leaf contributes: the float32 sum of float32 squares, the
 * float32 sum, or the largest |x| (NaN-propagating; 0 for an empty leaf).
 */
export type PartialOp = 'sumSq' | 'sum' | 'maxAbs';

/** How partials combine: float32 addition, or the NaN-propagating maximum. */
export type CombineOp = 'add' | 'max';

/** How the combined total becomes the value: as it is, its square root, or divided by the element count. */
export type FinishOp = 'none' | 'sqrt' | 'mean';

/** One row of {@link REDUCTIONS}. */
export interface ReductionRule {
  /** The per-leaf partial. */
  readonly partial: PartialOp;
  /** The identity of {@link ReductionRule.combine} (the value of an empty scope before finishing). */
  readonly identity: number;
  readonly combine: CombineOp;
  readonly finish: FinishOp;
}

/** The reductions: `op → partial, identity, combine, finish`. */
export const REDUCTIONS: Readonly<Record<ReductionOp, ReductionRule>> = {
  l2: { partial: 'sumSq', identity: 0, combine: 'add', finish: 'sqrt' },
  sumSq: { partial: 'sumSq', identity: 0, combine: 'add', finish: 'none' },
  sum: { partial: 'sum', identity: 0, combine: 'add', finish: 'none' },
  maxAbs: { partial: 'maxAbs', identity: 0, combine: 'max', finish: 'none' },
  meanSq: { partial: 'sumSq', identity: 0, combine: 'add', finish: 'mean' },
};

/** The partial that reduction `op` reads from each leaf. */
export function partialOf(op: ReductionOp): PartialOp {
  return REDUCTIONS[op].partial;
}

/** Combines two float32 values as `op` does: `fround(a + b)`, or the NaN-propagating maximum. */
export function combineValues(combine: CombineOp, a: number, b: number): number {
  if (combine === 'max') return Number.isNaN(b) || b > a ? b : a;
  return Math.fround(a + b);
}

/** Finishes a combined total over `count` elements, in float32. */
export function finishValue(finish: FinishOp, total: number, count: number): number {
  if (finish === 'sqrt') return Math.fround(Math.sqrt(total));
  if (finish === 'mean') return Math.fround(total / count);
  return total;
}

/**
 * The value of reduction `op` from its per-leaf partials (in leaf order) over
 * `count` elements in all, in float32 as the reference path computes it.
 */
export function reduceHost(op: ReductionOp, partials: readonly number[], count: number): number {
  const rule = REDUCTIONS[op];
  let total = rule.identity;
  for (const x of partials) total = combineValues(rule.combine, total, x);
  return finishValue(rule.finish, total, count);
}
