/**
 * Microbatching (optax `microbatching.microbatch`, `optax.microbatch`): a
 * function evaluated on a large batch one microbatch at a time, its results
 * combined, so that peak memory is that of one microbatch.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTensor, treeFlatten, treeUnflatten } from './tree.js';
import { checkInteger, showValue } from './validate.js';

/**
 * How the results of the microbatches combine (optax `AccumulationType`):
 * `'sum'`, `'mean'` (the sum divided by the number of microbatches),
 * `'runningMean'` (`c ← c·i/(i+1) + v·(1 - i/(i+1))` at microbatch `i`) or
 * `'concat'` (the results in the batch order of the inputs, along axis 0).
 */
export type AccumulationType = 'sum' | 'mean' | 'runningMean' | 'concat';

/**
 * A custom way of combining the microbatches' results (optax `Accumulator`),
 * leaf by leaf: `carry = init(like, n)`, then `carry = update(carry, value_i, i)`
 * for each microbatch, then `finalize(carry, n)`.
 */
export interface Accumulator {
  /** The initial carry, from the shape and dtype of one microbatch's result and the number of microbatches. */
  init(like: { readonly shape: readonly number[]; readonly dtype: tf.DataType }, numMicrobatches: number): tf.Tensor;
  /** The carry after microbatch `index`'s result `value` (a new tensor; the caller disposes the old carry). */
  update(carry: tf.Tensor, value: tf.Tensor, index: number): tf.Tensor;
  /** The result from the last carry (a new tensor, or the carry itself). */
  finalize(carry: tf.Tensor, numMicrobatches: number): tf.Tensor;
}

/** An accumulator for each part of the function's result: one for all, or a prefix of the result's tree. */
export type AccumulatorTree = AccumulationType | Accumulator | readonly AccumulatorTree[] | { readonly [key: string]: AccumulatorTree };

/** Options of {@link microbatch}. */
export interface MicrobatchOptions {
  /** The positions of the arguments that have a batch axis (required). */
  argnums: number | readonly number[];
  /** Rows per microbatch (required); `null` returns the function as it is. It must divide the batch size. */
  microbatchSize: number | null;
  /** How results combine (default `'sum'`). */
  accumulator?: AccumulatorTree;
  /** The batch axis of each batch argument, aligned with `argnums` (default 0 for all). */
  inAxes?: number | readonly number[];
  /** Stop after this many microbatches (default: all); the others count as zeros ('mean' still divides by all). */
  numRealMicrobatches?: number | null;
}

const zerosLike = (like: { shape: readonly number[]; dtype: tf.DataType }) => tf.zeros(like.shape as number[], like.dtype);

function requireFloat(kind: string, like: { dtype: tf.DataType }): void {
  if (like.dtype !== 'float32') throw new Error(`microbatch: the '${kind}' accumulator needs floating-point results, got ${like.dtype}`);
}

/** The built-in accumulators (optax's `_sum`, `_mean`, `_running_mean`, `_concat`). */
const BUILT_IN: Record<AccumulationType, Accumulator> = {
  sum: { init: zerosLike, update: (c, v) => tf.add(c, v), finalize: (c) => c },
  mean: {
    init: (like) => {
      requireFloat('mean', like);
      return zerosLike(like);
    },
    update: (c, v) => tf.add(c, v),
    finalize: (c, n) => tf.div(c, n),
  },
  runningMean: {
    init: (like) => {
      requireFloat('runningMean', like);
      return zerosLike(like);
    },
    update: (c, v, i) => tf.add(tf.mul(c, i / (i + 1)), tf.mul(v, 1 - i / (i + 1))),
    finalize: (c) => c,
  },
  concat: {
    // the carry stacks the results: [numMicrobatches, ...shape], microbatch i at row i
    init: (like, n) => tf.zeros([n, ...like.shape], like.dtype),
    update: (c, v, i) => tf.concat([tf.slice(c, [0], [i]), tf.expandDims(v, 0), tf.slice(c, [i + 1])]),
    // back in the inputs' batch order: row j of microbatch i is row i + j·n of the batch
    finalize: (c) =>
      c.rank < 2 ? c : tf.reshape(tf.transpose(c, [1, 0, ...c.shape.slice(2).map((_, k) => k + 2)]), [-1, ...c.shape.slice(2)]),
  },
};

/** One accumulator per leaf of the result `out`, from a prefix tree of accumulators. */
function accumulatorsFor(acc: AccumulatorTree, out: unknown, path: string): Accumulator[] {
  if (typeof acc === 'string') {
    const a = BUILT_IN[acc as AccumulationType];
    if (!a) throw new Error(`microbatch: unknown accumulator ${showValue(acc)} at ${path}; use 'sum', 'mean', 'runningMean' or 'concat'`);
    return treeFlatten(out).leaves.map(() => a);
  }
  if (!Array.isArray(acc) && typeof (acc as Accumulator).update === 'function')
    return treeFlatten(out).leaves.map(() => acc as Accumulator);
  if (acc === null || typeof acc !== 'object' || out === null || typeof out !== 'object' || Array.isArray(acc) !== Array.isArray(out)) {
    throw new Error(`microbatch: the accumulator at ${path} (${showValue(acc)}) is not a prefix of the function's result there`);
  }
  const keys = Object.keys(out as object).sort();
  const accKeys = Object.keys(acc).sort();
  if (keys.join() !== accKeys.join()) throw new Error(`microbatch: the accumulator at ${path} has keys ${accKeys}, the result ${keys}`);
  const ordered = Array.isArray(out) ? keys.map(Number).sort((a, b) => a - b) : keys;
  return ordered.flatMap((k) =>
    accumulatorsFor((acc as Record<string, AccumulatorTree>)[k] as AccumulatorTree, (out as Record<string, unknown>)[k], `${path}.${k}`),
  );
}

/**
 * Reshapes the batch axis `axis` of every leaf into two axes
 * `[numMicrobatches, microbatchSize]`, column-major as optax does: element
 * `[i, j]` is row `i + j · numMicrobatches` of the batch, so microbatch `i`
 * holds the rows `i, i + n, i + 2n, …`. Reference: optax
 * `microbatching.reshape_batch_axis`.
 */
export function reshapeBatchAxis<T>(tree: T, microbatchSize: number, axis = 0): T {
  const { leaves, treedef } = treeFlatten<tf.Tensor>(tree);
  return treeUnflatten(
    treedef,
    leaves.map((x) =>
      tf.tidy(() => {
        const n = (x.shape[axis] as number) / microbatchSize;
        const rowMajor = tf.reshape(x, [...x.shape.slice(0, axis), microbatchSize, n, ...x.shape.slice(axis + 1)]);
        const perm = rowMajor.shape.map((_, k) => (k === axis ? axis + 1 : k === axis + 1 ? axis : k));
        return tf.transpose(rowMajor, perm);
      }),
    ),
  ) as T;
}

/** The batch size shared by every leaf of the batch arguments, checked to be divisible by `size`. */
function batchSizeOf(batchArgs: readonly unknown[], axes: readonly number[], size: number): number {
  const sizes = batchArgs.flatMap((a, j) => treeFlatten<tf.Tensor>(a).leaves.map((x) => x.shape[axes[j] as number]));
  if (sizes.length === 0 || sizes.some((s) => s !== sizes[0])) {
    throw new Error(`microbatch: the batch arguments must have equal-size batch axes, got ${JSON.stringify(sizes)}`);
  }
  const b = sizes[0] as number;
  if (b % size !== 0) throw new Error(`microbatch: the batch size ${b} must be divisible by microbatchSize ${size}`);
  return b;
}

/**
 * A function that evaluates `fun` on the batch arguments one microbatch at a
 * time and combines the results with `accumulator`: for `'sum'`,
 * $$f_{\mu}(x) = \sum_{i=0}^{n-1} f(x_{(i)}),\qquad n = B / \mathrm{microbatchSize},$$
 * where the microbatch $x_{(i)}$ holds the rows $i, i + n, i + 2n, \dots$ of
 * each batch argument (optax's column-major split; `'concat'` puts the rows
 * back in the input order). Arguments not in `argnums` are passed to every
 * call as they are. Each microbatch runs inside `tf.tidy`, so peak memory is
 * one microbatch's; `fun` must return a tree of tensors and must not keep
 * its inputs. Defaults: `accumulator = 'sum'`, `inAxes = 0`. Reference: optax
 * `microbatching.microbatch` (`optax.microbatch`); keyword arguments
 * (`argnames`) have no JS counterpart.
 *
 * @example
 * ```ts
 * const lossOf = (w: tf.Tensor, x: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, w)));
 * const total = microbatch(lossOf, { argnums: 1, microbatchSize: 32 })(w, bigBatch);
 * ```
 */
export function microbatch<A extends unknown[], R>(fun: (...args: A) => R, options: MicrobatchOptions): (...args: A) => R {
  const fn = 'microbatch';
  if (typeof fun !== 'function') throw new Error(`${fn}: \`fun\` must be a function, got ${showValue(fun)}`);
  if (options.microbatchSize === null) return fun;
  const size = checkInteger(fn, 'microbatchSize', options.microbatchSize, 1);
  const argnums = typeof options.argnums === 'number' ? [options.argnums] : [...options.argnums];
  for (const a of argnums) checkInteger(fn, 'argnums', a, 0);
  const axes =
    typeof (options.inAxes ?? 0) === 'number' ? argnums.map(() => (options.inAxes ?? 0) as number) : [...(options.inAxes as number[])];
  if (axes.length !== argnums.length) throw new Error(`${fn}: \`inAxes\` has ${axes.length} entries, \`argnums\` ${argnums.length}`);
  const accumulator = options.accumulator ?? 'sum';
  return (...args: A): R => {
    const b = batchSizeOf(
      argnums.map((i) => args[i]),
      axes,
      size,
    );
    const n = b / size;
    const real = options.numRealMicrobatches ?? n;
    checkInteger(fn, 'numRealMicrobatches', real, 0);
    if (real > n) throw new Error(`${fn}: \`numRealMicrobatches\` ${real} exceeds the ${n} microbatches`);
    const reshaped = argnums.map((i, j) => reshapeBatchAxis(args[i], size, axes[j] as number));
    const microbatchArgs = (index: number): A => {
      const out = [...args] as unknown as A;
      argnums.forEach((i, j) => {
        const { leaves, treedef } = treeFlatten<tf.Tensor>(reshaped[j]);
        out[i] = treeUnflatten(
          treedef,
          leaves.map((x) => tf.squeeze(tf.gather(x, [index], axes[j] as number), [axes[j] as number])),
        );
      });
      return out;
    };
    const inputs = new Set(treeFlatten(args).leaves);
    try {
      return accumulate(fun, microbatchArgs, accumulator, n, real, inputs);
    } finally {
      tf.dispose(reshaped.flatMap((t) => treeFlatten<tf.Tensor>(t).leaves));
    }
  };
}

/** Runs the microbatches and combines their results (the carries stay alive across the loop, nothing else does). */
function accumulate<A extends unknown[], R>(
  fun: (...args: A) => R,
  argsOf: (index: number) => A,
  accumulator: AccumulatorTree,
  n: number,
  real: number,
  inputs: ReadonlySet<unknown>,
): R {
  // a result that is one of the caller's inputs is the caller's: never disposed here
  const disposeValues = (ts: tf.Tensor[]) => tf.dispose(ts.filter((t) => !inputs.has(t)));
  // the shape of one microbatch's result, from the first microbatch (as optax's eval_shape)
  let treedef: unknown;
  let accs: Accumulator[] = [];
  let carries: tf.Tensor[] = [];
  const first = tf.tidy(() => {
    const out = fun(...argsOf(0));
    const flat = treeFlatten<tf.Tensor>(out);
    for (const [l, t] of flat.leaves.entries()) {
      if (!isTensor(t)) throw new Error(`microbatch: the function's result must be a tree of tensors, got ${showValue(t)} at leaf ${l}`);
    }
    treedef = flat.treedef;
    accs = accumulatorsFor(accumulator, out, 'result');
    carries = flat.leaves.map((t, l) => tf.keep((accs[l] as Accumulator).init({ shape: t.shape, dtype: t.dtype }, n)));
    return flat.leaves;
  });
  try {
    for (let i = 0; i < real; i++) {
      const values = i === 0 ? first : tf.tidy(() => treeFlatten<tf.Tensor>(fun(...argsOf(i))).leaves);
      carries = carries.map((c, l) => {
        const next = tf.tidy(() => (accs[l] as Accumulator).update(c, values[l] as tf.Tensor, i));
        // a carry that update returned as it is stays
        if (next !== c) c.dispose();
        return next;
      });
      disposeValues(values);
    }
    if (real === 0) disposeValues(first);
    const results = carries.map((c, l) => tf.tidy(() => (accs[l] as Accumulator).finalize(c, n)));
    carries.forEach((c, l) => {
      if (c !== results[l]) c.dispose();
    });
    return treeUnflatten(treedef as never, results) as R;
  } catch (e) {
    tf.dispose(carries);
    disposeValues(first);
    throw e;
  }
}
