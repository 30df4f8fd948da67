/**
 * The cases every device's packed-state tests share: transformations with
 * narrow state (every storage, option and combination), leaf shapes with
 * partial last words and blocks, gradients with NaN and Inf in a block,
 * and edge values for the codecs. A device's test runs them on its backend
 * against the reference path, bit for bit.
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import * as gx from '../index.js';
import { type ArrayLeaf, rng } from '../testing.js';

/** Leaves of 300 (a partial second block of 44 at 256 and at 64), 15 and 1 (partial words), 0 (empty), a scalar and 130. */
export const SHAPES: Readonly<Record<string, number[]>> = { w: [300], m: [3, 5], s: [], z: [0], v: [130] };

/** Random values in `(-scale, scale)` for `shapes`. */
export function arrays(seed: number, scale = 1, shapes = SHAPES): Record<string, ArrayLeaf> {
  const r = rng(seed);
  const leaf = (shape: number[]): ArrayLeaf => ({
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * 2 * scale),
  });
  return Object.fromEntries(Object.entries(shapes).map(([k, shape]) => [k, leaf(shape)]));
}

/** Gradients of four steps: ordinary ones, tiny ones, and (with `nonFinite`) a NaN in one block and an Inf in another leaf. */
export function gradients(nonFinite: boolean): Record<string, ArrayLeaf>[] {
  const [a, b, c, d] = [arrays(2), arrays(3, 1e-3), arrays(4, 10), arrays(5)];
  if (nonFinite) {
    (b.w as ArrayLeaf).values[270] = Number.NaN;
    (c.v as ArrayLeaf).values[3] = Number.POSITIVE_INFINITY;
  }
  return [a, b, c, d];
}

/** Transformations with narrow state: every storage, options and combinations, by name. */
export const CASES: readonly [string, () => GradientTransformation][] = [
  ['adam bfloat16/bfloat16', () => gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'bfloat16' })],
  ['adam float16/float16', () => gx.adam(1e-2, { muDtype: 'float16', nuDtype: 'float16' })],
  ['adam int8/int8', () => gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'int8' })],
  ['adam int8 (blocks of 64)/float32', () => gx.adam(1e-2, { muDtype: 'int8', int8BlockSize: 64 })],
  ['adam bfloat16/int8', () => gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' })],
  ['adamw float16/int8 (params read)', () => gx.adamw(1e-2, { muDtype: 'float16', nuDtype: 'int8' })],
  ['amsgrad int8/bfloat16', () => gx.amsgrad(1e-2, { muDtype: 'int8', nuDtype: 'bfloat16' })],
  ['adamax bfloat16/int8', () => gx.adamax(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' })],
  ['radam float16/bfloat16', () => gx.radam(1e-2, { muDtype: 'float16', nuDtype: 'bfloat16' })],
  ['adabelief int8/int8', () => gx.adabelief(1e-2, { muDtype: 'int8', nuDtype: 'int8' })],
  ['lion int8', () => gx.lion(1e-3, { muDtype: 'int8' })],
  ['nadam int8', () => gx.nadam(1e-2, { muDtype: 'int8' })],
  ['sgd momentum bfloat16 (trace)', () => gx.sgd(1e-2, { momentum: 0.9, accumulatorDtype: 'bfloat16' })],
  ['trace int8 (blocks of 64), nesterov', () => gx.trace({ decay: 0.9, nesterov: true, accumulatorDtype: 'int8', int8BlockSize: 64 })],
  ['signum int8 (ema)', () => gx.signum(1e-2, { accumulatorDtype: 'int8' })],
  ['ema float16', () => gx.ema(0.9, { accumulatorDtype: 'float16' })],
  ['multiSteps(adam, 2), accumulator int8', () => gx.multiSteps(gx.adam(1e-2), 2, { accumulatorDtype: 'int8' })],
  [
    'multiSteps(adam bfloat16/int8, 2), accumulator float16, sums',
    () => gx.multiSteps(gx.adam(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' }), 2, { accumulatorDtype: 'float16', useGradMean: false }),
  ],
  [
    'multiSteps(sgd momentum, 2), accumulator bfloat16',
    () => gx.multiSteps(gx.sgd(1e-2, { momentum: 0.9 }), 2, { accumulatorDtype: 'bfloat16' }),
  ],
  [
    'clip + adam int8 (64) + trace int8 (256): two block sizes in one kernel',
    () =>
      gx.chain(
        gx.clipByGlobalNorm(1),
        gx.scaleByAdam({ muDtype: 'int8', nuDtype: 'int8', int8BlockSize: 64 }),
        gx.trace({ decay: 0.5, accumulatorDtype: 'int8' }),
        gx.scale(-1e-2),
      ),
  ],
];

/** Edge values of the codecs: ±0, float32 subnormals, float16's subnormal and rounding boundaries, the largest finite, NaN, ±Inf. */
export const EDGE_VALUES: readonly number[] = [
  0,
  -0,
  1e-45,
  -1e-45,
  2 ** -25,
  2 ** -24,
  3 * 2 ** -25,
  2 ** -14,
  2 ** -14 * (1 - 2 ** -11),
  6.1e-5,
  65504,
  65519.99,
  65520,
  -65520,
  3.4028234e38,
  -3.4028234e38,
  1 + 2 ** -8,
  1 + 3 * 2 ** -8,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e30,
  1e-30,
  0.5,
  -0.25,
  1e-7,
  -1e-6,
  5e-7,
];

/**
 * Three steps of gradients that put `edges` (and their reverse and
 * negation) through a stored slot, with a block holding one huge value and
 * blocks of small and of equal values; `shapes` is their tree's shapes.
 */
export function edgeGradients(edges: readonly number[]): { shapes: Record<string, number[]>; grads: Record<string, ArrayLeaf>[] } {
  const shapes: Record<string, number[]> = { e: [edges.length], f: [9], g: [64] };
  const leaf = (values: readonly number[]): ArrayLeaf => ({ shape: [values.length], values: Float32Array.from(values) });
  const r = rng(9);
  const grads = [
    { e: leaf(edges), f: leaf([1e30, 1, -1, 1e-3, 0, 0, 0, 0, 2]), g: leaf(Array.from({ length: 64 }, () => r() - 0.5)) },
    { e: leaf([...edges].reverse()), f: leaf([0, 0, 0, 0, 0, 0, 0, 0, 0]), g: leaf(Array.from({ length: 64 }, () => r() * 1e-6)) },
    { e: leaf(edges.map((x) => -x)), f: leaf([-1, 2, -3, 4, -5, 6, -7, 8, Number.NaN]), g: leaf(Array.from({ length: 64 }, () => 1)) },
  ];
  return { shapes, grads };
}

/** The EMA with decay 0 and the given storage that stores each incoming update itself (the codecs' round trip as a step). */
export function storeEachUpdate(dtype: 'bfloat16' | 'float16' | 'int8'): GradientTransformation {
  return gx.chain(gx.ema(0, { debias: false, accumulatorDtype: dtype, ...(dtype === 'int8' ? { int8BlockSize: 8 } : {}) }), gx.scale(-1));
}
