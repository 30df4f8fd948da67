import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation, UpdateExtras } from './base.js';
import { chain, initEmptyState, withExtraArgsSupport } from './combine.js';
import { createOptimizer } from './optimizer.js';
import { disposeTree } from './test-utils/index.js';
import { requireExtra } from './validate.js';

/** A stateless transformation that scales the updates by the `value` extra argument. */
function scaleByValue(): GradientTransformation<null> {
  return {
    init: () => null,
    update(updates, state, _params, extras?: UpdateExtras) {
      const value = requireExtra('scaleByValue', extras, 'value');
      return [tf.tidy(() => tf.mul(updates as tf.Tensor, value)), state];
    },
  };
}

describe('update extras', () => {
  it('a missing extra argument is an error naming it', () => {
    expect(() => requireExtra('f', undefined, 'value')).toThrow(
      /f: this transformation needs the extra argument `value`.*no extra arguments/,
    );
    expect(() => requireExtra('f', { grad: 1 as never }, 'valueFn')).toThrow(/`valueFn`.*\{grad\}/);
    expect(requireExtra('f', { value: 2 }, 'value')).toBe(2);
  });

  it('chain forwards the extras, and createOptimizer step passes them', () => {
    const tx = chain(scaleByValue(), scaleByValue());
    const g = tf.tensor1d([1, 2]);
    const [u] = tx.update(g, tx.init(g), undefined, { value: 3 });
    expect(Array.from((u as tf.Tensor).dataSync())).toEqual([9, 18]);
    expect(() => tx.update(g, tx.init(g))).toThrow(/`value`/);
    const opt = createOptimizer(tx, tf.tensor1d([0, 0]));
    opt.step(g, { value: 2 });
    expect(Array.from((opt.params as tf.Tensor).dataSync())).toEqual([4, 8]);
    const p = opt.params;
    opt.dispose();
    disposeTree([u, g, p]);
  });
});

describe('withExtraArgsSupport and initEmptyState (optax names)', () => {
  it('withExtraArgsSupport is the transformation itself: its update already takes and forwards the extra arguments', () => {
    const tx = chain(scaleByValue());
    expect(withExtraArgsSupport(tx)).toBe(tx);
    const u = tf.tensor1d([1, 2]);
    const [out] = withExtraArgsSupport(tx).update(u, tx.init(u), undefined, { value: 3 });
    expect(Array.from((out as tf.Tensor).dataSync())).toEqual([3, 6]);
    expect(() => withExtraArgsSupport({} as never)).toThrow(/withExtraArgsSupport: tx is not a gradient transformation/);
    tf.dispose([u, out as tf.Tensor]);
  });
  it('initEmptyState returns {} whatever the params', () => {
    expect(initEmptyState()).toEqual({});
    expect(initEmptyState({ w: tf.zeros([2]) })).toEqual({});
  });
});
