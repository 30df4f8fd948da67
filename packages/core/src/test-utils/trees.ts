/**
 * fast-check arbitraries for trees of float32 tensors, shared by the property
 * tests of the algebra (chain, masked, partition, ...).
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { isTensor, treeMap } from '../tree.js';

/** A leaf before it becomes a tensor: float32 values (finite, moderate). */
const leafValues = fc.float32Array({ minLength: 1, maxLength: 4, noNaN: true, noDefaultInfinity: true, min: -100, max: 100 });

const key = fc.constantFrom('a', 'b', 'w', 'bias', 'kernel', 'z');

/** A tree of `Float32Array` leaves in nested plain objects and arrays (at least one leaf). */
export const floatTreeArb: fc.Arbitrary<unknown> = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafValues,
    fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
    fc.dictionary(key, tie('tree'), { minKeys: 1, maxKeys: 3 }),
  ),
})).tree;

/** The tree with each `Float32Array` leaf made a 1-D float32 tensor. */
export function toTensors<T = unknown>(tree: unknown): T {
  return treeMap((x: Float32Array) => tf.tensor1d(x, 'float32'), tree, [], { isLeaf: (x) => x instanceof Float32Array }) as T;
}

/** A tree with the same structure as `tree` and new values from `f(leafValues, leafIndex)`. */
export function mapValues(tree: unknown, f: (v: Float32Array, i: number) => Float32Array): unknown {
  let i = 0;
  return treeMap((x: Float32Array) => f(x, i++), tree, [], { isLeaf: (x) => x instanceof Float32Array });
}

/** Every tensor leaf of a tree as a plain array of numbers (for exact comparisons). */
export function values(tree: unknown): unknown {
  return treeMap((x: unknown) => (isTensor(x) ? Array.from(x.dataSync()) : x), tree);
}
