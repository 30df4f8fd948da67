/**
 * A shared purity check for transformations: `update` must not mutate or
 * dispose its inputs, must return fresh tensors (none of the input tensors
 * reappears in its output), and must leak nothing.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { isTensor, treeLeaves } from '../tree.js';
import { disposeTree, expectNoLeaks, t, toArrays } from './index.js';

interface Tx {
  init(params: any): unknown;
  update(updates: any, state: any, params?: any): [unknown, unknown];
}

function tensorsOf(tree: unknown): tf.Tensor[] {
  return treeLeaves(tree).filter(isTensor);
}

/**
 * Builds params and per-step grads with `make` (inside the leak check), runs
 * `tx` for every step, and asserts after each update that the updates, state
 * and params given to it are unchanged and alive, and that no tensor among
 * them reappears in its output. The old state and updates are disposed
 * before the next step, so an output that still depends on them would fail.
 */
export async function expectPureSteps(tx: Tx, make: () => { params: unknown; grads: unknown[] }): Promise<void> {
  await expectNoLeaks(() => {
    const { params, grads } = make();
    let state = tx.init(params);
    for (const g of grads) {
      const before = toArrays([g, state, params]);
      const inputs = new Set(tensorsOf([g, state, params]));
      const [u, next] = tx.update(g, state, params);
      for (const x of inputs) expect(x.isDisposed, 'an input tensor was disposed').toBe(false);
      expect(toArrays([g, state, params]), 'an input was mutated').toEqual(before);
      for (const x of tensorsOf([u, next])) expect(inputs.has(x), 'an input tensor reappears in the output').toBe(false);
      disposeTree([state, u]);
      state = next;
    }
    disposeTree(state);
    return [params, grads];
  });
}

/**
 * The small problem the purity tests of clipping, trust ratios and
 * constraints step: params `{ w: [[1, 2], [3, 4]], b: [0.5] }` and gradients
 * `{ w: gradW, b: [1] }` (new tensors).
 */
export function purityProblem(
  gradW: number[][] = [
    [0.5, -0.5],
    [2, -3],
  ],
): { params: { w: tf.Tensor; b: tf.Tensor }; g: { w: tf.Tensor; b: tf.Tensor } } {
  return {
    params: {
      w: t([
        [1, 2],
        [3, 4],
      ]),
      b: t([0.5]),
    },
    g: { w: t(gradW), b: t([1]) },
  };
}
