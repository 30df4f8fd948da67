/**
 * The deterministic trees the factored-moment tests (factored, sm3) step, as
 * the optax scripts quoted in those tests build them: leaf `off` of a tree at
 * `step` holds ((k·7 + step·3 + off) mod 11 − 5) / 4 at flat index k.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTree, runSteps } from './index.js';

/** One leaf of the pattern. */
export function patternLeaf(shape: number[], step: number, off: number): tf.Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  const values = Array.from({ length: n }, (_, k) => (((k * 7 + step * 3 + off) % 11) - 5) / 4);
  return tf.tensor(values, shape, 'float32');
}

/** A tree with one leaf per name of `shapes` (the i-th name in sorted order gets offset i). */
export function patternTree(shapes: Record<string, number[]>, step: number): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.keys(shapes)
      .sort()
      .map((name, i) => [name, patternLeaf(shapes[name] as number[], step, i)]),
  );
}

/** Three steps of `tx` from the params `patternTree(shapes, 100)` with the gradients of steps 0, 1 and 2 ({@link runSteps}). */
export function runPatternSteps(tx: Parameters<typeof runSteps>[0], shapes: Record<string, number[]>): ReturnType<typeof runSteps> {
  const params = patternTree(shapes, 100);
  const grads = [0, 1, 2].map((step) => patternTree(shapes, step));
  const out = runSteps(tx, params, grads);
  disposeTree([params, grads]);
  return out;
}
