// One validation policy: every factory rejects unknown option keys and a
// misplaced positional, createOptimizer checks its options, params, state and
// extra arguments, and messages quote strings and name functions.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from './base.js';
import * as gx from './index.js';
import { createOptimizer } from './optimizer.js';
import { isTensor, treeLeaves } from './tree.js';

/** The leading arguments each factory with a `…Defaults` object takes before its options. */
const LEADING: Record<string, unknown[]> = {
  scaleByRprop: [0.1],
  scaleByLearningRate: [0.1],
  adaptiveGradClip: [0.1],
  addDecayedWeights: [0.1],
  ema: [0.9],
  lookahead: [gx.sgd(0.1), 2, 0.5],
  masked: [gx.scale(1), true],
  multiSteps: [gx.sgd(0.1), 2],
  partition: [{ a: gx.scale(1) }, () => 'a'],
  selectiveTransform: [gx.scale(1)],
  injectHyperparams: [gx.adam],
  conditionallyTransform: [gx.scale(1), () => true],
  conditionallyMask: [gx.scale(1), () => true],
  adafactor: [undefined],
  adadelta: [undefined],
  normalizeByUpdateNorm: [],
  polyakSgd: [],
  scaleByZoomLinesearch: [20],
  scaleByBacktrackingLinesearch: [20],
  measureWithEma: [gx.treeL2Norm, 0.9],
};

function factoriesWithDefaults(): [string, (...args: unknown[]) => unknown, object][] {
  const all = gx as unknown as Record<string, unknown>;
  return Object.keys(all)
    .filter((k) => k.endsWith('Defaults') && k !== 'conditionallyDefaults' && k !== 'createOptimizerDefaults')
    .map((k) => {
      const name = k.slice(0, -'Defaults'.length);
      return [name, all[name] as (...args: unknown[]) => unknown, all[k] as object] as [string, (...args: unknown[]) => unknown, object];
    });
}

function disposeTree(tree: unknown): void {
  tf.dispose(treeLeaves(tree).filter(isTensor) as tf.Tensor[]);
}

describe('one option policy for every factory', () => {
  const factories = factoriesWithDefaults();

  it('covers the transforms, aliases and combinators', () => {
    expect(factories.length).toBeGreaterThan(45);
    for (const [name, f] of factories) expect(typeof f, name).toBe('function');
  });

  for (const [name, f, defaults] of factoriesWithDefaults()) {
    it(`${name} rejects an unknown key naming it and the valid keys, and a number where the options belong`, () => {
      const lead = LEADING[name] ?? (name.startsWith('scaleBy') || name === 'trace' ? [] : [0.1]);
      const keys = Object.keys(defaults)
        .map((k) => `\`${k}\``)
        .join(', ');
      const required = name === 'selectiveTransform' ? { freezeMask: true } : {};
      expect(() => f(...lead, { ...required, beta_1: 0.5 })).toThrow(`${name}: unknown option \`beta_1\`; the options are ${keys}`);
      if (name !== 'trace' && name !== 'selectiveTransform')
        expect(() => f(...lead, 0.9)).toThrow(`${name}: the options must be an object, got 0.9`);
    });
  }

  it('scaleByAdam({ beta1 }) and scaleByAdam(0.9) throw, as the issue reports', () => {
    expect(() => gx.scaleByAdam({ beta1: 0.5 } as never)).toThrow(/^scaleByAdam: unknown option `beta1`; the options are `b1`, `b2`/);
    expect(() => gx.scaleByAdam(0.9 as never)).toThrow(/^scaleByAdam: the options must be an object, got 0.9$/);
  });

  it('alias defaults are composed from the transforms’ defaults', () => {
    expect(gx.adamwDefaults).toMatchObject(gx.scaleByAdamDefaults);
    expect(gx.adamwDefaults.weightDecay).toBe(1e-4);
    expect(gx.nadamDefaults.nesterov).toBe(true);
    expect(Object.isFrozen(gx.scaleByAdamDefaults)).toBe(true);
  });
});

describe('messages', () => {
  it('quote strings, name functions and name the option the user gave', () => {
    expect(() => gx.adam('0.1' as never)).toThrow("adam: `learningRate` must be a finite number >= 0, got '0.1'");
    expect(() => gx.sm3(0.1, { momentum: 2 })).toThrow('sm3: `momentum` must be in [0, 1], got 2');
    expect(() => gx.freeze(42 as never)).toThrow('freeze: `mask` must be a boolean or a tree of booleans, got number 42');
    function myLossFn() {
      return 'a long body that must not appear in the message';
    }
    expect(() => gx.chain(myLossFn as never)).toThrow(/got the function myLossFn$/);
  });

  it('schedules must return what the constant would have to be', () => {
    const p = { w: tf.tensor1d([1, 2]) };
    const g = { w: tf.tensor1d([0.1, 0.2]) };
    for (const [bad, shown] of [
      [Infinity, 'Infinity'],
      [-0.1, '-0.1'],
      ['0.1', "'0.1'"],
    ] as const) {
      const tx = gx.sgd(() => bad as never);
      expect(() => tx.update(g, tx.init(p), p)).toThrow(`returned ${shown} at count 0`);
    }
    disposeTree([p, g]);
  });
});

describe('createOptimizer checks', () => {
  const make = () => ({ w: tf.tensor1d([1, 2]) });

  it('rejects unknown options, missing params and a number as extra arguments', () => {
    const p = make();
    expect(() => createOptimizer(gx.adam(0.1), p, { inplace: false } as never)).toThrow(
      'createOptimizer: unknown option `inplace`; the options are `fused`, `inPlace`',
    );
    expect(() => createOptimizer(gx.adam(0.1), undefined as never)).toThrow(/createOptimizer: `params` must be a tree of tensors/);
    const opt = createOptimizer(gx.adam(0.1), p);
    const g = { w: tf.tensor1d([0.1, 0.2]) };
    expect(() => opt.step(g, 42 as never)).toThrow(/step's `extraArgs` must be an object of named arguments, got number 42/);
    opt.dispose();
    disposeTree([p, g]);
  });

  it('refuses the same tf.Variable twice in the params', () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
    expect(() => createOptimizer(gx.adam(0.1), { a: v, b: [v] })).toThrow(/the same tensor is at `a` and at `b\[0\]` of the params/);
    v.dispose();
  });

  const stateCases: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    [
      'a disposed moment',
      (s) => ((s.mu as Record<string, tf.Tensor>).w as tf.Tensor).dispose(),
      /the tensor at `w` of state.mu has been disposed/,
    ],
    ['a non-integer count', (s) => Object.assign(s, { count: 1.5 }), /state.count must be an integer from 0 to 2147483647, got number 1.5/],
    [
      'an int32 moment',
      (s) => {
        const mu = s.mu as Record<string, tf.Tensor>;
        (mu.w as tf.Tensor).dispose();
        mu.w = tf.tensor1d([0, 0], 'int32');
      },
      /the tensor at `w` of state.nu|the tensor at `w` of state.mu has dtype int32/,
    ],
  ];
  for (const [what, spoil, message] of stateCases) {
    for (const fused of [true, false]) {
      it(`names the path of ${what} in the state (${fused ? 'fused' : 'reference'} path)`, () => {
        const p = make();
        const tx: GradientTransformation = gx.scaleByAdam();
        const opt = createOptimizer(tx, p, { fused });
        const g = { w: tf.tensor1d([0.1, 0.2]) };
        opt.step(g);
        spoil(opt.state as Record<string, unknown>);
        expect(() => opt.step(g)).toThrow(message);
        opt.dispose();
        disposeTree([opt.params, g]);
      });
    }
  }
});
