// createNodeOptimizer on the cpu backend (runs on every machine): the flat
// path (forced with `flatten: true`) against core's createOptimizer on the
// reference path, the tree-shaped state, variables, ownership, leaks, errors.
import {
  adam,
  adamw,
  chain,
  clipByBlockRms,
  clipByGlobalNorm,
  createOptimizer,
  type GradientTransformation,
  masked,
  type Params,
  scaleByAdam,
  scaleByLearningRate,
  scaleByTrustRatio,
  sgd,
} from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Packer } from './native.js';
import { createNodeOptimizer } from './optimizer.js';
import { cloneTree, expectClose, F32_STEPS, runSteps, SHAPES, toArrays, tree } from './test-utils/trees.js';

/** The transformations checked on every backend (the tensorflow test file reuses them). */
const CASES: [string, () => GradientTransformation][] = [
  ['adam', () => adam(0.1)],
  ['adamw + clipByGlobalNorm', () => chain(clipByGlobalNorm(1), adamw(0.05, { weightDecay: 0.1 }))],
  ['sgd with momentum', () => sgd(0.1, { momentum: 0.9, nesterov: true })],
  ['sgd without momentum (identity stage runs on the tree)', () => sgd(0.1)],
  [
    'a per-leaf stage in a flat chain',
    () =>
      chain(
        clipByBlockRms(0.5),
        scaleByAdam(),
        scaleByLearningRate((n) => 0.1 / (1 + n)),
      ),
  ],
  [
    'masked weight decay',
    () =>
      chain(
        scaleByAdam(),
        masked(scaleByTrustRatio(), { w: true, b: false, s: true, deep: [{ k: true }, null] }),
        scaleByLearningRate(0.05),
      ),
  ],
];

describe('createNodeOptimizer, flat path on the cpu backend (flatten: true)', () => {
  for (const [name, make] of CASES) {
    it(`${name}: params and state match core createOptimizer on the reference path`, () => {
      const before = tf.memory().numTensors;
      const ref = runSteps((p) => createOptimizer(make(), p, { fused: false }), SHAPES, 4);
      const got = runSteps((p) => createNodeOptimizer(make(), p, { flatten: true }), SHAPES, 4);
      got.params.forEach((p, i) => {
        expectClose(p, ref.params[i], F32_STEPS);
      });
      expectClose(got.state, ref.state, F32_STEPS);
      expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    });
  }

  it('reports why it runs flat, and which stages see the tree', () => {
    const p = tree(SHAPES, 1);
    const a = createNodeOptimizer(adam(0.1), p, { flatten: true });
    expect(a.flattened).toBe(true);
    expect(a.reason).toBe('steps run on one flat buffer on the cpu backend (all 2 stages are element-wise)');
    a.dispose();
    const b = createNodeOptimizer(chain(clipByBlockRms(1), adam(0.1)), a.params, { flatten: true });
    expect(b.reason).toBe(
      'steps run on one flat buffer on the cpu backend; 1 of 3 stages see the tree (clipByBlockRms reduces over each leaf (`blockMeanSq`))',
    );
    b.dispose();
    const c = createNodeOptimizer(masked(scaleByTrustRatio(), { w: true, b: true, s: true, deep: [{ k: true }, null] }), b.params, {
      flatten: true,
    });
    expect(c.flattened).toBe(false);
    expect(c.reason).toBe(
      'the transformation has no element-wise stage to run flat (not element-wise): steps run on the tree (core createOptimizer)',
    );
    c.dispose();
    tf.dispose(c.params as tf.TensorContainer);
  });

  it('flatten: auto runs core createOptimizer on backends other than tensorflow', () => {
    const p = tree(SHAPES, 1);
    const opt = createNodeOptimizer(adam(0.1), p);
    expect(opt.flattened).toBe(false);
    expect(opt.reason).toBe(
      'the cpu backend is not tensorflow: steps run on the tree (core createOptimizer, fused where the backend allows)',
    );
    expect(opt.flatParams).toBeNull();
    expect(opt.params).toBe(p);
    opt.dispose();
    tf.dispose(p as tf.TensorContainer);
  });

  it('keeps the flat buffers: one 1-D params buffer and 1-D slots', () => {
    const p = tree(SHAPES, 1);
    const opt = createNodeOptimizer(adam(0.1), p, { flatten: true });
    const g = tree(SHAPES, 2);
    opt.step(g);
    expect(opt.flatParams?.shape).toEqual([12 + 4 + 1 + 12]);
    const [adamState] = opt.flatState as [{ count: number; mu: tf.Tensor; nu: tf.Tensor }];
    expect(adamState.count).toBe(1);
    expect(adamState.mu.shape).toEqual([29]);
    // the tree-shaped state has the params' structure, null slot included
    const treeState = opt.state as [{ mu: { w: tf.Tensor; deep: [{ k: tf.Tensor }, null] } }];
    expect(treeState[0].mu.w.shape).toEqual([3, 4]);
    expect(treeState[0].mu.deep[0].k.shape).toEqual([2, 2, 3]);
    expect(treeState[0].mu.deep[1]).toBeNull();
    expect(opt.state).toBe(treeState); // cached until the next step
    const out = opt.params;
    opt.dispose();
    tf.dispose([g, out] as tf.TensorContainer);
  });

  it('tf.Variable params are assigned in place after every step and stay the same objects', () => {
    const ref = runSteps((p) => createOptimizer(adam(0.1), p, { fused: false }), SHAPES, 3);
    const init = tree(SHAPES, 1) as { w: tf.Tensor; b: tf.Tensor; s: tf.Tensor; deep: [{ k: tf.Tensor }, null] };
    const vars = {
      w: tf.variable(init.w),
      b: tf.variable(init.b),
      s: tf.variable(init.s),
      deep: [{ k: tf.variable(init.deep[0].k) }, null],
    };
    tf.dispose(init as never);
    const before = tf.memory().numTensors;
    const opt = createNodeOptimizer(adam(0.1), vars, { flatten: true });
    for (let i = 0; i < 3; i++) {
      const g = tree(SHAPES, 100 + i, 2);
      opt.step(g);
      tf.dispose(g as tf.TensorContainer);
      // read through the variables themselves, not opt.params
      expectClose(vars, ref.params[i], F32_STEPS);
    }
    const p = opt.params as typeof vars;
    expect(p.w).toBe(vars.w);
    expect(p.deep[0]?.k).toBe(vars.deep[0]?.k);
    opt.dispose();
    expect(tf.memory().numTensors, 'the optimizer left tensors behind').toBe(before);
    expect(vars.w.isDisposed).toBe(false);
    tf.dispose(vars as never);
  });

  it('keeps tf.memory().numTensors flat step after step, and leaves the params to the caller after dispose()', () => {
    const before = tf.memory().numTensors;
    const opt = createNodeOptimizer(chain(clipByGlobalNorm(1), adamw(0.05)), tree(SHAPES, 1), { flatten: true });
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const g = tree(SHAPES, 100 + i);
      opt.step(g);
      tf.dispose(g as tf.TensorContainer);
      void opt.params; // read every step: the split leaves are replaced, not accumulated
      void opt.state;
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size, `numTensors per step: ${counts.join(', ')}`).toBe(1);
    const params = opt.params;
    opt.dispose();
    expect(() => opt.step(params)).toThrow('createNodeOptimizer: step() after dispose()');
    expect(() => opt.state).toThrow('createNodeOptimizer: state after dispose()');
    expect(opt.params).toEqual(params);
    expect(toArrays(params)).toBeTruthy(); // still readable
    tf.dispose(params as tf.TensorContainer);
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  });

  it('never changes or disposes the grads', () => {
    const opt = createNodeOptimizer(adam(0.1), tree(SHAPES, 1), { flatten: true });
    const g = tree(SHAPES, 5);
    const copy = toArrays(g);
    opt.step(g);
    opt.step(g);
    expect(toArrays(g)).toEqual(copy);
    const p = opt.params;
    opt.dispose();
    tf.dispose([g, p] as tf.TensorContainer);
  });

  it('rejects grads that do not match the params, naming the path', () => {
    const p = tree(SHAPES, 1);
    const opt = createNodeOptimizer(adam(0.1), p, { flatten: true });
    const g = tree(SHAPES, 2) as { w: tf.Tensor; b: tf.Tensor; s: tf.Tensor; deep: unknown[] };
    const wrongShape = { ...g, b: tf.zeros([5]) };
    expect(() => opt.step(wrongShape as Params)).toThrow('tree mismatch at `b`: params has shape [4] but grads has shape [5]');
    const missing = { w: g.w, b: g.b, deep: g.deep };
    expect(() => opt.step(missing as Params)).toThrow('tree mismatch at `s`: present in params but missing in grads');
    const ints = { ...g, s: tf.scalar(1, 'int32') };
    expect(() => opt.step(ints as Params)).toThrow(
      "createNodeOptimizer: the tensor at `s` of grads has dtype int32; gradient transformations need float32 (cast it with tf.cast(x, 'float32'))",
    );
    // nothing changed: the params are the initial ones
    expect(toArrays(opt.params)).toEqual(toArrays(p));
    opt.dispose();
    tf.dispose([g, wrongShape.b, ints.s, opt.params] as tf.TensorContainer);
  });

  it('rejects bad arguments', () => {
    const p = tree(SHAPES, 1);
    expect(() => createNodeOptimizer({} as never, p)).toThrow(
      'createNodeOptimizer: `tx` is not a gradient transformation (an object with init and update), got [object Object]',
    );
    expect(() => createNodeOptimizer(adam(0.1), p, { flatten: 'yes' as never })).toThrow(
      "createNodeOptimizer: `flatten` must be 'auto', true or false, got yes",
    );
    expect(() => createNodeOptimizer(adam(0.1), { a: null }, { flatten: true })).toThrow(
      'createNodeOptimizer: params has no tensor leaves',
    );
    tf.dispose(p as tf.TensorContainer);
  });
});

describe('Packer (cpu backend)', () => {
  it('packs leaves into one buffer in order and splits it back with the shapes', () => {
    const leaves = [
      tf.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      tf.scalar(7),
      tf.tensor([8, 9]),
      tf.zeros([0, 3]),
      tf.tensor([[[10]]]),
    ];
    const packer = new Packer(leaves.map((l) => l.shape));
    expect(packer.total).toBe(10);
    const flat = packer.pack(leaves);
    expect(Array.from(flat.dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const back = packer.unpack(flat);
    expect(back.map((t) => t.shape)).toEqual([[2, 3], [], [2], [0, 3], [1, 1, 1]]);
    expect(back.map((t) => t.arraySync())).toEqual(leaves.map((t) => t.arraySync()));
    expect(() => packer.unpack(tf.zeros([3]))).toThrow('Packer: expected a buffer of 10 elements, got 3');
    expect(() => packer.pack(leaves.slice(1))).toThrow('Packer: expected 5 leaves, got 4');
    tf.dispose([...leaves, flat, ...back]);
    packer.dispose();
  });

  it('a cloned tree gives an independent optimizer', () => {
    const p = tree(SHAPES, 1);
    const q = cloneTree(p);
    const a = createNodeOptimizer(adam(0.1), p, { flatten: true });
    const g = tree(SHAPES, 3);
    a.step(g);
    const fresh = tree(SHAPES, 1);
    expect(toArrays(q)).toEqual(toArrays(fresh));
    const out = a.params;
    a.dispose();
    tf.dispose([q, g, out, fresh] as tf.TensorContainer);
  });
});
