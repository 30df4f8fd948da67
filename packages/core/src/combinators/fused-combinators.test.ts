// Combinators on the fused engine: injectHyperparams and multiSteps lower
// each step to a plain chain of element-wise stages, so their steps run fused
// (and, in createOptimizer, replayed in place). On cpu the fused path rounds
// every operation as the reference path does: compared bit for bit.
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GradientTransformation, LoweredStep } from '../base.js';
import { chain } from '../combine.js';
import { planOf } from '../fused/plan.js';
import { setFusedEnabled } from '../fused/registry.js';
import { fusedStats } from '../fused/stats.js';
import { adamw, addDecayedWeights, normalizeByUpdateNorm } from '../index.js';
import { lowerStep } from '../lowering.js';
import { createOptimizer } from '../optimizer.js';
import { type ArrayTree, randomArrays, rng, runFused, runReference, snapshot, type Trace, toTensors } from '../test-utils/fused.js';
import { agree, COMBINATOR_SHAPES, expectSameBits } from '../test-utils/fused-agree.js';
import type { StateEdit } from '../testing.js';
import { scaleByAdam } from '../transforms/adam.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { scale } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { injectHyperparams } from './inject-hyperparams.js';
import { multiSteps, skipNotFinite } from './multi-steps.js';

const SHAPES = COMBINATOR_SHAPES;

function disposeAll(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
}

afterEach(() => setFusedEnabled(true));

describe('injectHyperparams on the fused engine', () => {
  it('adamw with constant hyperparameters: fused, replayed from the second step', () => {
    agree(injectHyperparams(adamw)(1e-2, { weightDecay: 0.1 }), 'injectHyperparams(adamw)', { fastSteps: 5 });
  });

  it('a scheduled learning rate and b1: every step replayed with its own scalars', () => {
    const tx = injectHyperparams(adamw)((c: number) => 0.05 / (c + 1), { b1: (c: number) => 0.9 - 0.01 * c, weightDecay: 0.01 });
    agree(tx, 'scheduled', { fastSteps: 5 });
  });

  it('hyperparameters edited in the state between steps take effect on the replayed path', () => {
    const edit: StateEdit = (s, i) => {
      if (i === 2) s.hyperparams.learningRate = 0.2;
      if (i === 4) s.hyperparams = { ...s.hyperparams, b2: 0.9, weightDecay: 0 };
    };
    // weightDecay 0 drops a stage of adamw: that step takes the general fused path (and is captured again)
    agree(injectHyperparams(adamw)(1e-2, { b2: 0.99, weightDecay: 0.1 }), 'edited', { edit, fastSteps: 4 });
    // the edits change the result (so the comparison above could fail)
    const r = rng(7);
    const params = randomArrays(r, SHAPES);
    const grads = Array.from({ length: 6 }, () => randomArrays(r, SHAPES));
    const tx = injectHyperparams(adamw)(1e-2, { b2: 0.99, weightDecay: 0.1 });
    expect(JSON.stringify(runReference(tx, params, grads, edit).params[5])).not.toBe(
      JSON.stringify(runReference(tx, params, grads).params[5]),
    );
  });

  it('inside the inner chain: injectHyperparams of a factory returning chain(clip, adamw)', () => {
    const factory = (lr: number, o: { maxNorm: number }) => chain(clipByGlobalNorm(o.maxNorm), adamw(lr));
    agree(injectHyperparams(factory)(0.05, { maxNorm: 0.5 }), 'injectHyperparams(chain(clip, adamw))', { fastSteps: 5 });
  });
});

describe('multiSteps on the fused engine', () => {
  it('multiSteps(adamw, 3): every mini-step fused; accumulating and emitting mini-steps are two plans, each captured once, then replayed', () => {
    agree(multiSteps(adamw(0.05, { weightDecay: 0.1 }), 3), 'multiSteps(adamw, 3)', { steps: 8, fastSteps: 6 });
    // k = 4: the mean divides by 3 at the third mini-step and multiplies by 1, 1/2, 1/4 at the others: three plans, all replayed
    agree(multiSteps(adamw(0.05, { weightDecay: 0.1 }), 4), 'multiSteps(adamw, 4)', { steps: 9, fastSteps: 6 });
  });

  it('the sum of the gradients (useGradMean false) and a schedule of k', () => {
    agree(
      multiSteps(adamw(0.05), (step) => step + 1, { useGradMean: false }),
      'multiSteps(adamw, step + 1, sum)',
      { steps: 7, fastSteps: 5 },
    );
  });

  it('multiSteps(chain(clip, adamw), 2): the accumulator and the clipped chain fuse (two runs), the pre-clip norm kept only when emitting', () => {
    const tx = multiSteps(chain(clipByGlobalNorm(0.5), adamw(0.05)), 2);
    // accumulating and emitting mini-steps differ in shape (the kept norm): each captured once, then replayed
    agree(tx, 'multiSteps(chain(clip, adamw), 2)', { steps: 6, fastSteps: 4 });
    agree(multiSteps(chain(clipByGlobalNorm(0.5), adamw(0.05)), 3), 'multiSteps(chain(clip, adamw), 3)', { steps: 9, fastSteps: 7 });
    const params = toTensors(randomArrays(rng(1), SHAPES));
    const state = tx.init(params);
    const low = lowerStep(tx, state);
    expect(low).not.toBeNull();
    expect(planOf((low as LoweredStep).tx).segments.map((s) => s.kind)).toEqual(['fused', 'fused']);
    disposeAll(params, state);
  });

  it('multiSteps(injectHyperparams(adamw)): the inner combinator lowers too, its counts and schedules advance only when emitting', () => {
    const edit: StateEdit = (s, i) => {
      if (i === 3) s.innerOptState.hyperparams.learningRate = 0.2;
    };
    const tx = multiSteps(
      injectHyperparams(adamw)((c: number) => 0.05 / (c + 1), { weightDecay: 0.1 }),
      2,
    );
    agree(tx, 'multiSteps(injectHyperparams(adamw), 2)', { steps: 7, edit, fastSteps: 5 });
  });

  it('a non-emitting mini-step computes the frozen inner update: p + 0 · u turns -0 into +0 where u >= 0 and is NaN where u is not finite', () => {
    // -0 params under gradients of both signs; an infinite gradient at the second mini-step of the first gradient step
    const leaf = (values: number[]) => ({ shape: [values.length], values: Float32Array.from(values) });
    const params = { a: leaf([-0, -0, -0, -0, 1, -0, 2]), b: leaf([-0, -0, -0]) };
    const grads = Array.from({ length: 6 }, (_, i) => ({
      a: leaf([1, -1, 0, -0, 1e30, i === 1 ? Infinity : 0.5, -2]),
      b: leaf([i % 2 === 0 ? 1 : -1, -0, 3]),
    }));
    const tx = multiSteps(chain(clipByGlobalNorm(0.5), adamw(0.05)), 3);
    agree(tx, 'multiSteps(chain(clip, adamw), 3) on -0 and Infinity', { params, grads, fastSteps: 4 });
    const finite = grads.map((g) => ({ ...g, a: leaf(Array.from(g.a.values, (x) => (Number.isFinite(x) ? x : 1))) }));
    agree(multiSteps(adamw(0.05), 3), 'multiSteps(adamw, 3) on -0', { params, grads: finite, fastSteps: 4 });
  });

  it('an inner chain with packed slots (bfloat16, int8 moments): the frozen chain writes their codes back as it read them, bit for bit', () => {
    for (const muDtype of ['bfloat16', 'int8'] as const)
      agree(multiSteps(adamw(0.05, { muDtype }), 3), `multiSteps(adamw(${muDtype} mu), 3)`, { steps: 7 });
  });

  it('a skip decision (shouldSkipUpdateFn) is not lowered: multiSteps runs as its own update (an opaque stage), never replayed', () => {
    agree(multiSteps(adamw(0.05), 2, { shouldSkipUpdateFn: skipNotFinite }), 'multiSteps(adamw, 2, skipNotFinite)', {
      steps: 4,
      fastSteps: 0,
    });
  });
});

describe('two fused runs replayed (a reduction of an intermediate)', () => {
  it('chain(scaleByAdam, clipByGlobalNorm, scale): both runs replayed, the intermediate kept between steps and freed by dispose', () => {
    agree(chain(scaleByAdam(), clipByGlobalNorm(0.1), scale(-0.05)), 'chain(adam, clip, scale)', { fastSteps: 5 });
  });

  it('a first run that leaves the updates as they are: the second run reads the gradients', () => {
    agree(chain(addDecayedWeights(), normalizeByUpdateNorm(), scale(-0.05)), 'chain(addDecayedWeights(), normalize, scale)', {
      fastSteps: 5,
    });
  });

  it('inside tf.tidy, and after a state replaced by the user (the general path takes over), without leaks', () => {
    const before = tf.memory().numTensors;
    const r = rng(5);
    const opt = createOptimizer(chain(scaleByAdam(), clipByGlobalNorm(0.1), scale(-0.05)), toTensors(randomArrays(r, SHAPES)));
    const grads = toTensors(randomArrays(r, SHAPES));
    const stats = { ...fusedStats };
    for (let i = 0; i < 3; i++) tf.tidy(() => opt.step(grads));
    const s = opt.state as unknown as [{ mu: Record<string, tf.Tensor> }];
    const old = s[0].mu.a as tf.Tensor;
    s[0].mu.a = tf.zerosLike(old);
    old.dispose();
    for (let i = 0; i < 3; i++) tf.tidy(() => opt.step(grads));
    expect(fusedStats.fast - stats.fast).toBe(4);
    expect(fusedStats.fused - stats.fused).toBe(2);
    const p = opt.params;
    opt.dispose();
    disposeAll(p, grads);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a replayed step whose buffers are shared falls back to a fresh fused step', () => {
  /**
   * Steps `tx` through createOptimizer, taking before step 2 a reshape of a
   * param and of every state tensor (sharing their buffers on every
   * backend), kept over steps 2 and 3: those steps must not write the shared
   * buffers (the reshapes keep their values), and every step must agree bit
   * for bit with `expected` (the reference path). Step 2 leaves the replayed path (it writes fresh
   * tensors where buffers are shared, so it is not captured) and step 3 is
   * captured again: `fastSteps` replayed steps in all.
   */
  function sharedOverSteps(
    tx: GradientTransformation,
    label: string,
    steps: number,
    fastSteps: number,
    expected: (tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[]) => Trace = runReference,
  ): void {
    const r = rng(11);
    const params = randomArrays(r, SHAPES);
    const grads = Array.from({ length: steps }, () => randomArrays(r, SHAPES));
    const want = expected(tx, params, grads);
    const before = tf.memory().numTensors;
    const stats = { ...fusedStats };
    const opt = createOptimizer(tx, toTensors(params));
    const got: Trace = { params: [], states: [] };
    let clones: { clone: tf.Tensor; values: number[] }[] = [];
    grads.forEach((g, i) => {
      if (i === 2) {
        const shared = [
          (opt.params as Record<string, tf.Tensor>).a as tf.Tensor,
          ...(treeLeaves(opt.state).filter(isTensor) as tf.Tensor[]),
        ];
        clones = shared.map((t) => ({ clone: tf.reshape(t, [-1]), values: Array.from(t.dataSync()) }));
      }
      if (i === 4) {
        for (const c of clones) {
          expect(Array.from(c.clone.dataSync()), `${label}: a reshape taken before step 2 was overwritten`).toEqual(c.values);
          c.clone.dispose();
        }
        clones = [];
      }
      const gt = toTensors(g);
      opt.step(gt);
      disposeAll(gt);
      got.params.push(snapshot(opt.params));
      got.states.push(snapshot(opt.state));
    });
    expectSameBits(got, want, label);
    expect(fusedStats.reference - stats.reference, `${label}: steps on the reference path`).toBe(0);
    expect(fusedStats.fast - stats.fast, `${label}: replayed steps`).toBe(fastSteps);
    const last = opt.params;
    opt.dispose();
    disposeAll(last);
    expect(tf.memory().numTensors, `${label}: tensors leaked`).toBe(before);
  }

  describe('on wasm (compared with the same steps replayed without sharing: the fused path there is not the reference rounding)', () => {
    const unshared = (tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[]) => runFused(tx, params, grads, 'optimizer');
    beforeAll(async () => {
      setWasmPaths(
        createRequire(import.meta.url)
          .resolve('@tensorflow/tfjs-backend-wasm')
          .replace(/[^/\\]*$/, ''),
      );
      await tf.setBackend('wasm');
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    it('one fused run: injectHyperparams(adamw) with a scheduled learning rate', () => {
      sharedOverSteps(
        injectHyperparams(adamw)((c: number) => 0.05 / (c + 1), { weightDecay: 0.1 }),
        'wasm: injectHyperparams(adamw)',
        8,
        8 - 3,
        unshared,
      );
    });
    it('two fused runs: multiSteps(chain(clip, adamw), 2)', () => {
      sharedOverSteps(multiSteps(chain(clipByGlobalNorm(0.5), adamw(0.05)), 2), 'wasm: multiSteps(chain(clip, adamw), 2)', 10, 4, unshared);
    });
  });

  it('one fused run: injectHyperparams(adamw) with a scheduled learning rate', () => {
    sharedOverSteps(
      injectHyperparams(adamw)((c: number) => 0.05 / (c + 1), { weightDecay: 0.1 }),
      'injectHyperparams(adamw)',
      8,
      8 - 3,
    );
  });

  it('two fused runs: multiSteps(chain(clip, adamw), 2) (the second run is checked before the first writes)', () => {
    // two shapes (accumulating, emitting): steps 0-1 capture; 2 and 3 write fresh tensors (3: the kept norm, shared
    // before step 2, is written only when emitting); 4-5 capture again, 6-9 replay
    sharedOverSteps(multiSteps(chain(clipByGlobalNorm(0.5), adamw(0.05)), 2), 'multiSteps(chain(clip, adamw), 2)', 10, 4);
  });

  it('two fused runs of a plain chain: chain(scaleByAdam, clipByGlobalNorm, scale)', () => {
    sharedOverSteps(chain(scaleByAdam(), clipByGlobalNorm(0.1), scale(-0.05)), 'chain(adam, clip, scale)', 8, 8 - 3);
  });
});
