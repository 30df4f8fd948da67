// The WGSL generator on its own: the shape of what it prints, and that every
// shader it prints for the fusible transformations of @gradtx/core compiles.
import { adam, chain, clipByBlockRms, clipByGlobalNorm, type GradientTransformation, scaleByAdam, scaleByLearningRate } from '@gradtx/core';
import { currentDevice, type KernelIR } from '@gradtx/core/engine';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuDevice } from './device.js';
import { installWebGpu } from './install.js';
import { discoverFusible, expectNoGpuErrors, stepTwice, webgpuBackend } from './test-utils/index.js';
import { f32Bits, finalsWgsl, kernelWgsl, partialsWgsl, wgslConst } from './wgsl-codegen.js';

beforeAll(() => {
  installWebGpu();
});

/** The kernel IRs the device compiled while running `tx` for two steps on a small tree. */
async function irsOf(tx: GradientTransformation): Promise<KernelIR[]> {
  const device = currentDevice() as WebGpuDevice;
  const seen: KernelIR[] = [];
  const original = device.launch.bind(device);
  device.launch = (ir, columns, reductions) => {
    seen.push(ir);
    return original(ir, columns, reductions);
  };
  try {
    stepTwice(
      tx,
      { a: tf.tensor1d([1, -2, 3]), b: tf.tensor2d([[0.5, 0.25]]) },
      { a: tf.tensor1d([0.1, 0.2, -0.3]), b: tf.tensor2d([[1, -1]]) },
    );
  } finally {
    device.launch = original;
  }
  return seen;
}

function oneToOne(ir: KernelIR) {
  return {
    pools: ir.inputs.map(() => ({ write: true })),
    inPool: ir.inputs.map((_, j) => j),
    outPool: ir.outputs.map((o) => Math.max(0, ir.inputs.indexOf(o.name))),
  };
}

describe('constants', () => {
  it('are printed by bit pattern, exactly, non-finite ones through a function call', () => {
    expect(wgslConst(1)).toMatch(/^bitcast<f32>\(0x3f800000u\)/);
    expect(wgslConst(0.1)).toContain(`0x${f32Bits(0.1).toString(16)}u`);
    expect(wgslConst(-0)).toMatch(/^bitcast<f32>\(0x80000000u\)/);
    expect(wgslConst(Number.NaN)).toMatch(/^f32_from_bits\(0x7fc00000u\)/);
    expect(wgslConst(Number.POSITIVE_INFINITY)).toMatch(/^f32_from_bits\(0x7f800000u\)/);
    expect(wgslConst(Number.NEGATIVE_INFINITY)).toMatch(/^f32_from_bits\(0xff800000u\)/);
  });
});

describe('kernels', () => {
  it('read each per-step scalar from its own uniform field, never as a literal', async () => {
    const [ir] = await irsOf(adam(0.123));
    const { code, uniforms } = kernelWgsl(ir as KernelIR, oneToOne(ir as KernelIR));
    const scalars = uniforms.filter((u) => u.type === 'f32');
    expect(scalars.length).toBe((ir as KernelIR).scalars.length);
    expect(scalars.map((u) => u.name)).toEqual((ir as KernelIR).scalars.map((_, i) => `k${i}`));
    expect(code).not.toContain('0.123');
    expect(code).not.toContain(`0x${f32Bits(0.123).toString(16)}u`);
    for (const s of scalars) expect(code).toContain(`S.${s.name}`);
  });

  it('are the same text for the same chain shape with other hyperparameters', async () => {
    const a = await irsOf(chain(clipByGlobalNorm(1), scaleByAdam({ b1: 0.8 }), scaleByLearningRate(0.1)));
    const b = await irsOf(chain(clipByGlobalNorm(5), scaleByAdam({ b1: 0.95, eps: 1e-6 }), scaleByLearningRate(3)));
    expect(a.map((ir) => kernelWgsl(ir, oneToOne(ir)).code)).toEqual(b.map((ir) => kernelWgsl(ir, oneToOne(ir)).code));
  });

  it('look up the leaf of each element only when a per-leaf scalar is read', async () => {
    const [global] = await irsOf(chain(clipByGlobalNorm(1), scaleByLearningRate(0.1)));
    const [perLeaf] = await irsOf(chain(clipByBlockRms(1), scaleByLearningRate(0.1)));
    expect(kernelWgsl(global as KernelIR, oneToOne(global as KernelIR)).code).not.toContain('M[mid]');
    expect(kernelWgsl(perLeaf as KernelIR, oneToOne(perLeaf as KernelIR)).code).toContain('M[mid]');
  });
});

describe('every shader printed for the fusible exports of @gradtx/core', () => {
  it('compiles without a WebGPU validation error', async () => {
    const device = webgpuBackend().device;
    const codes = new Set<string>();
    for (const { tx } of discoverFusible()) {
      let irs: KernelIR[];
      try {
        irs = await irsOf(tx);
      } catch {
        continue; // transforms that reject this tree (sm3 and scalars) are covered in fused.test.ts
      }
      for (const ir of irs) codes.add(kernelWgsl(ir, oneToOne(ir)).code);
    }
    codes.add(
      partialsWgsl(
        [
          { source: 0, op: 'sumSq' },
          { source: 1, op: 'maxAbs' },
          { source: 0, op: 'sum' },
        ],
        [{ write: false }, { write: false }],
        [0, 1],
      ).code,
    );
    codes.add(
      finalsWgsl(
        [
          { source: 0, op: 'sumSq' },
          { source: 0, op: 'maxAbs' },
        ],
        [
          { partial: 0, op: 'l2', scope: 'global' },
          { partial: 0, op: 'meanSq', scope: 'leaf' },
          { partial: 1, op: 'maxAbs', scope: 'global' },
        ],
      ).code,
    );
    expect(codes.size).toBeGreaterThan(30);
    for (const code of codes) {
      await expectNoGpuErrors(() => {
        device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      });
    }
  });
});
