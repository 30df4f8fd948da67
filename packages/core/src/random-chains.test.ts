import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from './base.js';
import { chain, statelessWithTreeMap } from './combine.js';
import * as gx from './index.js';
import { type ArrayTree, discoverFusible, expectTracesClose, rng, runFused, runReference, type Tol } from './test-utils/fused.js';
import { locateWasmFiles } from './test-utils/wasm.js';

const CPU_CHAINS = 1000;
const WASM_CHAINS = 1000;
const EXACT: Tol = { rtol: 0, atol: 0 };
const SHAPES = { a: [5], b: [2, 3], c: [4] };

const pool = discoverFusible().filter((c) => c.tx.fusion?.kind === 'elementwise');
const opaque: GradientTransformation[] = [statelessWithTreeMap((u) => tf.mul(u, 0.5)), gx.zeroNans()];

/** One value of a mix: a normal number, or an extreme one. */
function value(r: () => number, mix: number): number {
  const x = r() * 2 - 1;
  switch (mix) {
    case 1:
      return x * 1e-20;
    case 2:
      return x * 1e15;
    case 3: {
      const pick = Math.floor(r() * 6);
      return [0, -0, 1e-40, -3e-39, x * 1e20, x][pick] as number;
    }
    case 4:
      return 0;
    default:
      return x;
  }
}

function arrays(r: () => number): ArrayTree {
  const out: ArrayTree = {};
  for (const [k, shape] of Object.entries(SHAPES)) {
    const mix = r() < 0.5 ? 0 : Math.floor(r() * 5);
    const n = shape.reduce((a, b) => a * b, 1);
    out[k] = { shape, values: Float32Array.from({ length: n }, () => value(r, mix)) };
  }
  return out;
}

function randomChain(r: () => number): { tx: GradientTransformation; label: string } {
  const n = 1 + Math.floor(r() * 4);
  const parts: { tx: GradientTransformation; name: string }[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.15) {
      const j = Math.floor(r() * opaque.length);
      parts.push({ tx: opaque[j] as GradientTransformation, name: `opaque${j}` });
    } else parts.push(pool[Math.floor(r() * pool.length)] as { tx: GradientTransformation; name: string });
  }
  return { tx: chain(...parts.map((p) => p.tx)), label: parts.map((p) => p.name).join(', ') };
}

/** Runs `count` chains; returns how many were compared (a chain whose reference throws must throw the same when fused). */
function runChains(count: number, seed: number, tol: Tol): number {
  const r = rng(seed);
  let compared = 0;
  for (let k = 0; k < count; k++) {
    const { tx, label } = randomChain(r);
    const params = arrays(r);
    const grads = [arrays(r), arrays(r)];
    const before = tf.memory().numTensors;
    let ref: ReturnType<typeof runReference>;
    try {
      ref = runReference(tx, params, grads);
    } catch (e) {
      expect(() => runFused(tx, params, grads, 'optimizer'), label).toThrow((e as Error).message);
      continue;
    }
    expectTracesClose(runFused(tx, params, grads, 'optimizer'), ref, `chain ${k}: ${label}`, tol);
    expect(tf.memory().numTensors, `chain ${k}: leak`).toBe(before);
    compared++;
  }
  return compared;
}

describe('random chains with extreme values, fused vs reference', () => {
  it(`cpu: ${CPU_CHAINS} chains, bit for bit`, () => {
    expect(runChains(CPU_CHAINS, 2026, EXACT)).toBeGreaterThan(CPU_CHAINS * 0.9);
  });

  it(`wasm: ${WASM_CHAINS} chains, bit for bit`, async () => {
    locateWasmFiles();
    await tf.setBackend('wasm');
    try {
      expect(runChains(WASM_CHAINS, 7, EXACT)).toBeGreaterThan(WASM_CHAINS * 0.9);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
