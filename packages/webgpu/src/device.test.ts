// What the WebGPU device promises beyond agreeing with the reference path:
// registration, at most three dispatches per step for any tree, in-place
// updates with no per-step allocation, the single-leaf and pooled layouts,
// empty leaves, every operation of the per-element language on IEEE edge
// values, and pipelines cached by shape.
import {
  adam,
  addDecayedWeights,
  chain,
  clipByBlockRms,
  clipByGlobalNorm,
  createOptimizer,
  elementwise,
  type GradientTransformation,
  scaleByAdam,
  scaleByAMSGrad,
  scaleByLearningRate,
  scaleByLion,
  scaleByRms,
  trace,
} from '@gradtx/core';
import { currentDevice } from '@gradtx/core/engine';
import { scheduleWarmupCosine } from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu, isWebGpuInstalled, WebGpuDevice, webGpuDeviceOf } from './index.js';
import {
  type ArrayTree,
  countDispatches,
  disposeTree,
  expectNoGpuErrors,
  expectTracesClose,
  gpuBytes,
  onBackend,
  randomTree,
  rng,
  run,
  stepTwice,
  webgpuBackend,
} from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

/** A tree of `count` leaves of assorted sizes (1 to ~2000 elements), as plain arrays. */
function manyLeaves(count: number, seed: number): ArrayTree {
  const r = rng(seed);
  const shapes: Record<string, number[]> = {};
  for (let i = 0; i < count; i++) shapes[`l${String(i).padStart(3, '0')}`] = i % 7 === 0 ? [3, 5 + (i % 11)] : [1 + ((i * 131) % 2000)];
  return randomTree(r, shapes);
}

function tensors(a: ArrayTree): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(a).map(([k, v]) => {
      const leaf = v as { shape: number[]; values: Float32Array };
      return [k, tf.tensor(Float32Array.from(leaf.values), leaf.shape, 'float32')];
    }),
  );
}

/** The GPUBuffer behind a tensor. */
function bufferOf(t: tf.Tensor): unknown {
  return webgpuBackend().tensorMap.get(t.dataId)?.resource;
}

describe('registration', () => {
  it('importing the package registers the device with @gradtx/core', () => {
    expect(isWebGpuInstalled()).toBe(true);
    expect(tf.getBackend()).toBe('webgpu');
    const d = currentDevice();
    expect(d).toBeInstanceOf(WebGpuDevice);
    expect(d).toBe(webGpuDeviceOf(tf.backend()));
    installWebGpu(); // idempotent
    expect(currentDevice()).toBe(d);
  });

  it('is not used for another backend', async () => {
    await onBackend('cpu', async () => {
      expect(currentDevice()).not.toBeInstanceOf(WebGpuDevice);
      expect(webGpuDeviceOf(tf.backend())).toBeNull();
    });
  });
});

describe('dispatches per step', () => {
  const L = 40;
  const warmupCosine = scheduleWarmupCosine({ initValue: 0, peakValue: 1e-3, warmupSteps: 5, decaySteps: 100 });
  const cases: [string, () => GradientTransformation, number][] = [
    ['adam', () => adam(1e-3), 1],
    [
      'clipByGlobalNorm → adam → decay → warmup-cosine',
      () => chain(clipByGlobalNorm(1), scaleByAdam(), addDecayedWeights(1e-4), scaleByLearningRate(warmupCosine)),
      3,
    ],
  ];
  for (const [name, make, expected] of cases) {
    it(`${name}: ${expected} dispatch(es) per step for a tree of ${L} leaves (tf.train.adam: more than 10 per leaf)`, async () => {
      const params = manyLeaves(L, 1);
      const grads = tensors(manyLeaves(L, 2));
      const opt = createOptimizer(make(), tensors(params));
      opt.step(grads); // first step: pipelines compiled, state placed
      const counts: number[] = [];
      for (let s = 0; s < 3; s++) counts.push((await countDispatches(() => opt.step(grads))).dispatches);
      expect(counts).toEqual([expected, expected, expected]);
      expect(expected).toBeLessThanOrEqual(3);
      const last = opt.params;
      opt.dispose();
      disposeTree(last);

      // tf.train.adam on the same tree, for scale
      const vars = Object.values(tensors(params)).map((t, i) => tf.variable(t, true, `dispatch_${name.length}_${i}`));
      const tfOpt = tf.train.adam(1e-3);
      const map: tf.NamedTensorMap = Object.fromEntries(vars.map((v, i) => [v.name, Object.values(grads)[i] as tf.Tensor]));
      tfOpt.applyGradients(map as never);
      const { dispatches } = await countDispatches(() => tfOpt.applyGradients(map as never));
      expect(dispatches).toBeGreaterThan(10 * L);
      tfOpt.dispose();
      tf.dispose(vars);
      disposeTree(grads);
    });
  }
});

describe('memory', () => {
  for (const [name, leaves] of [
    ['one leaf (bound directly)', 1],
    ['a tree of 25 leaves (gathered into pooled flat buffers)', 25],
  ] as const) {
    it(`${name}: steps in place, no buffer allocated after the first step, GPU bytes back to baseline`, async () => {
      const base = gpuBytes();
      const params = tensors(manyLeaves(leaves, 3));
      const grads = tensors(manyLeaves(leaves, 4));
      const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-2));
      const opt = createOptimizer(tx, params);
      opt.step(grads);
      const buffers = Object.values(params).map(bufferOf);
      expect(buffers.every((b) => b !== undefined && b !== null)).toBe(true);
      const afterFirst = gpuBytes();
      for (let s = 0; s < 4; s++) {
        await expectNoGpuErrors(() => opt.step(grads));
        const now = gpuBytes();
        expect(now.allocated, `step ${s + 2}: bytes allocated`).toBe(afterFirst.allocated);
        expect(now.used, `step ${s + 2}: bytes in use`).toBe(afterFirst.used);
      }
      // the params are the same tensors, on the same GPUBuffers, updated in place
      const p = opt.params as Record<string, tf.Tensor>;
      expect(Object.values(p)).toEqual(Object.values(params));
      expect(Object.values(p).map(bufferOf)).toEqual(buffers);
      const last = opt.params;
      opt.dispose();
      disposeTree(last);
      disposeTree(grads);
      expect(gpuBytes().used).toBe(base.used);
    });
  }

  it('a value read before an in-place step is not served stale afterwards', async () => {
    const init = { w: { shape: [3], values: Float32Array.from([1, 2, 3]) } };
    const grad = { w: { shape: [3], values: Float32Array.from([1, -1, 1]) } };
    const expected = await onBackend('cpu', () => run(adam(0.5), init, [grad, grad], 'reference'));
    const p = { w: tf.tensor1d([1, 2, 3]) };
    const opt = createOptimizer(adam(0.5), p);
    const g = { w: tf.tensor1d([1, -1, 1]) };
    for (let step = 0; step < 2; step++) {
      const before = Array.from(await p.w.data()); // tfjs keeps the values it read on the CPU
      opt.step(g);
      expect((opt.params as { w: tf.Tensor }).w).toBe(p.w);
      const after = Array.from(await p.w.data());
      expect(after).not.toEqual(before);
      expect(after).toEqual((expected.params[step] as { w: number[] }).w);
    }
    const last = opt.params;
    opt.dispose();
    disposeTree(last);
    disposeTree(g);
  });
});

describe('layouts', () => {
  async function agree(name: string, tx: GradientTransformation, params: ArrayTree, grads: ArrayTree[]) {
    const expected = await onBackend('cpu', () => run(tx, params, grads, 'reference'));
    for (const mode of ['pure', 'donate', 'optimizer'] as const) {
      const got = await expectNoGpuErrors(() => run(tx, params, grads, mode));
      expectTracesClose(got, expected, `${name} [${mode}]`);
    }
  }

  it('a single large leaf (several workgroups and reduction chunks)', async () => {
    const r = rng(11);
    const shapes = { w: [70_001] };
    const tx = chain(clipByGlobalNorm(0.5), scaleByAdam(), scaleByLearningRate(0.1));
    await agree('single leaf', tx, randomTree(r, shapes), [randomTree(r, shapes), randomTree(r, shapes)]);
  });

  it('per-leaf reductions over leaves of several chunks, then a global one', async () => {
    const r = rng(15);
    const shapes = { w: [300, 71], b: [5000], c: [3] };
    const tx = chain(clipByBlockRms(0.5), clipByGlobalNorm(0.7), scaleByAdam(), scaleByLearningRate(0.1));
    await agree('per-leaf', tx, randomTree(r, shapes), [randomTree(r, shapes), randomTree(r, shapes)]);
  });

  it('more arrays than storage bindings: regions share pooled buffers', async () => {
    const r = rng(12);
    const shapes = { a: [33], b: [2, 9], c: [300] };
    // u, p and 7 slots, plus the reduction buffers: more than 8 storage bindings
    const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByAMSGrad(), trace({ decay: 0.9 }), scaleByRms(), scaleByLearningRate(0.01));
    await agree('pooled', tx, randomTree(r, shapes), [randomTree(r, shapes), randomTree(r, shapes), randomTree(r, shapes)]);
  });

  it('exp and log (Lion in smooth mode computes tanh from them)', async () => {
    const r = rng(14);
    const shapes = { a: [40], b: [3, 7] };
    const tx = chain(scaleByLion({ mode: 'smooth', smoothBeta: 3 }), scaleByLearningRate(0.1));
    await agree('lion smooth', tx, randomTree(r, shapes), [randomTree(r, shapes), randomTree(r, shapes), randomTree(r, shapes)]);
  });

  it('empty leaves among others, and a tree of one empty leaf', async () => {
    const r = rng(13);
    const shapes = { a: [0], b: [5], c: [2, 0], d: [17] };
    const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(0.1));
    await agree('empty leaves', tx, randomTree(r, shapes), [randomTree(r, shapes), randomTree(r, shapes)]);
    const only = { a: [0] };
    await agree('only empty', tx, randomTree(r, only), [randomTree(r, only)]);
  });
});

describe('the per-element language on IEEE edge values', () => {
  // one slot per operation, so every result is observable; masks as 1/0
  const ops = ['add', 'sub', 'mul', 'div', 'max', 'min', 'neg', 'abs', 'sqrt', 'square', 'sign', 'exp', 'log'] as const;
  const cmps = ['lt', 'le', 'gt', 'ge', 'eq'] as const;
  const names = [...ops, ...cmps, 'and', 'or', 'not', 'isNaN', 'isFinite', 'select'];
  const probe = elementwise({
    name: 'probe',
    key: 'probe',
    slots: names.map((name) => ({ name, init: 0 })),
    counted: false,
    needsParams: true,
    scalars: () => ({ half: 0.5 }),
    body: (m, x, k) => {
      const { u, p } = x;
      const f = (mask: typeof u) => m.select(mask, m.c(1), m.c(0));
      const out: Record<string, typeof u> = { u: m.mul(u, k.half as typeof u) };
      out.add = m.add(u, p);
      out.sub = m.sub(u, p);
      out.mul = m.mul(u, p);
      out.div = m.div(u, p);
      out.max = m.max(u, p);
      out.min = m.min(u, p);
      out.neg = m.neg(u);
      out.abs = m.abs(u);
      out.sqrt = m.sqrt(u);
      out.square = m.square(u);
      out.sign = m.sign(u);
      out.exp = m.exp(u);
      out.log = m.log(u);
      for (const c of cmps) out[c] = f(m[c](u, p));
      out.and = f(m.and(m.gt(u, m.c(0)), m.lt(p, m.c(1))));
      out.or = f(m.or(m.isNaN(u), m.isNaN(p)));
      out.not = f(m.not(m.ge(u, p)));
      out.isNaN = f(m.isNaN(u));
      out.isFinite = f(m.isFinite(u));
      out.select = m.select(m.gt(u, p), u, p);
      return out as never;
    },
  });

  it('every operation agrees with the reference path, NaN and infinities included', async () => {
    const edge = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1, -2.5, 1e-30, 3e38, 0.7, 88, -90];
    const us: number[] = [];
    const ps: number[] = [];
    for (const a of edge)
      for (const b of edge) {
        us.push(a);
        ps.push(b);
      }
    const params = { x: { shape: [us.length], values: Float32Array.from(ps) } };
    const grads = [{ x: { shape: [us.length], values: Float32Array.from(us) } }];
    const expected = await onBackend('cpu', () => run(probe, params, grads, 'reference'));
    const got = await expectNoGpuErrors(() => run(probe, params, grads, 'pure'));
    // exp and log are within a few ulp in WGSL; everything else is exact
    // exact, except: the sign of a zero from max/min (unspecified, as IEEE's maxNum leaves it);
    // results below the smallest normal float32, which GPUs may flush to zero; exp and log within 2 ulp
    const bad: string[] = [];
    const gs = got.states[0] as Record<string, { x: number[] }>;
    const es = expected.states[0] as Record<string, { x: number[] }>;
    for (const name of names) {
      const a = gs[name]?.x as number[];
      const e = es[name]?.x as number[];
      a.forEach((x, i) => {
        const y = e[i] as number;
        const rtol = name === 'exp' || name === 'log' ? 2.5e-7 : 0;
        const ok =
          x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) < 1.1754944e-38 || Math.abs(x - y) <= rtol * Math.abs(y);
        if (!ok) bad.push(`${name}(${edge[Math.floor(i / edge.length)]}, ${edge[i % edge.length]}): webgpu ${x}, reference ${y}`);
      });
    }
    expect(bad).toEqual([]);
  });
});

describe('pipelines', () => {
  it('are compiled once per chain shape, not per hyperparameter value or tree', async () => {
    const device = currentDevice() as WebGpuDevice;
    const step = (tx: GradientTransformation, leaves: number) =>
      stepTwice(tx, tensors(manyLeaves(leaves, 5)), tensors(manyLeaves(leaves, 6)));
    step(chain(clipByGlobalNorm(1), scaleByAdam({ b1: 0.8 }), scaleByLearningRate(0.1)), 12);
    const compiled = device.stats.pipelines;
    step(chain(clipByGlobalNorm(3), scaleByAdam({ b1: 0.95, b2: 0.9 }), scaleByLearningRate(0.003)), 30);
    expect(device.stats.pipelines).toBe(compiled);
  });
});
