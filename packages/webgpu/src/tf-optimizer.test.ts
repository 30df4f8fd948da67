// asTfOptimizer on the WebGPU backend: applyGradients (what model.fit and
// optimizer.minimize call) takes the registered fused device, stepping the
// tf.Variables in place on their own GPUBuffers, and agrees with the cpu
// reference path; with float32 state and with packed (bfloat16, int8) moments.
import { adamw, asTfOptimizer, chain, clipByGlobalNorm, createOptimizer, fusedStats, type GradientTransformation } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu } from './index.js';
import { disposeTree, expectNoGpuErrors, gpuBytes, onBackend, rng, webgpuBackend } from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

const SHAPES: Record<string, number[]> = { a: [300], b: [16, 17], c: [5] };
const STEPS = 5;
const CHAINS: [string, () => GradientTransformation][] = [
  ['float32 state', () => chain(clipByGlobalNorm(1), adamw(1e-2, { weightDecay: 0.1 }))],
  ['bfloat16 / int8 moments', () => chain(clipByGlobalNorm(1), adamw(1e-2, { weightDecay: 0.1, muDtype: 'bfloat16', nuDtype: 'int8' }))],
];

/** Deterministic values for `SHAPES`, per seed. */
function arrays(seed: number): Record<string, Float32Array> {
  const r = rng(seed);
  return Object.fromEntries(
    Object.entries(SHAPES).map(([k, s]) => [k, Float32Array.from({ length: tf.util.sizeFromShape(s) }, () => r() * 2 - 1)]),
  );
}

describe.each(CHAINS)('%s', (_name, tx) => {
  it('applyGradients steps the variables in place on the WebGPU fused device, close to the cpu reference path', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const init = arrays(1);
    const grads = Object.entries(arrays(2)).map(([k, v]) => [k, v] as const);
    const suffix = Math.random().toString(36).slice(2);
    const vars = Object.fromEntries(
      Object.entries(init).map(([k, v]) => [k, tf.tidy(() => tf.variable(tf.tensor(v, SHAPES[k]), true, `${k}_${suffix}`))]),
    );
    const g = Object.fromEntries(grads.map(([k, v]) => [`${k}_${suffix}`, tf.tensor(v, SHAPES[k])]));
    const opt = asTfOptimizer(tx());
    const before = { ...fusedStats };
    opt.applyGradients(g);
    const bufferOf = (t: tf.Tensor) => webgpuBackend().tensorMap.get(t.dataId)?.resource;
    const buffers = Object.values(vars).map(bufferOf);
    const afterFirst = gpuBytes();
    for (let s = 1; s < STEPS; s++) {
      await expectNoGpuErrors(() => opt.applyGradients(g));
      expect(gpuBytes().allocated, `step ${s + 1}: bytes allocated`).toBe(afterFirst.allocated);
    }
    expect(Object.values(vars).map(bufferOf)).toEqual(buffers); // the same GPUBuffers, written in place
    expect(fusedStats.reference - before.reference).toBe(0);
    expect(fusedStats.fused + fusedStats.fast - before.fused - before.fast).toBe(STEPS);
    const ours = Object.fromEntries(await Promise.all(Object.entries(vars).map(async ([k, v]) => [k, await v.data()] as const)));
    opt.dispose();
    disposeTree([Object.values(vars), Object.values(g)]);

    const expected = await onBackend('cpu', async () => {
      const p = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.tensor(v, SHAPES[k])]));
      const gs = Object.fromEntries(grads.map(([k, v]) => [k, tf.tensor(v, SHAPES[k])]));
      const ref = createOptimizer(tx(), p, { fused: false });
      for (let s = 0; s < STEPS; s++) ref.step(gs);
      const out = Object.fromEntries(Object.entries(ref.params as Record<string, tf.Tensor>).map(([k, t]) => [k, t.dataSync()]));
      const last = ref.params;
      ref.dispose();
      disposeTree([last, gs]);
      return out;
    });
    for (const k of Object.keys(SHAPES)) {
      const a = ours[k] as Float32Array;
      const e = expected[k] as Float32Array;
      for (let i = 0; i < e.length; i++) {
        if (!(Math.abs((a[i] as number) - (e[i] as number)) <= 1e-6 + 1e-5 * Math.abs(e[i] as number)))
          expect.fail(`${k}[${i}]: webgpu ${a[i]}, cpu reference ${e[i]}`);
      }
    }
  });
});
