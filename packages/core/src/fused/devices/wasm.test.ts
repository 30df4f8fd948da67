// The fused engine on the tfjs wasm backend (SIMD kernels working in place on
// the wasm heap). Threads are off in Node.
//
// Tolerances: every element-wise op is one IEEE float32 instruction, so the
// fused results equal the cpu reference path (which rounds each op to
// float32 and sums reductions in float64, as the fused reductions do) to
// FUSED_TOL (rtol 1e-6, atol 1e-7), bit for bit without reductions. Against
// the reference path run on the wasm backend itself they agree to WASM_TOL
// (rtol 1e-6, atol 1e-6): tfjs-wasm's own Sum accumulates in float32, so its
// norms differ from the float64-accumulated ones in the last bits, and a few
// ulp of a norm become up to ~1e-7 absolute after cancellation in `p + u`.
// Kernels using exp/log run as JS loops over the heap (no SIMD exp/log).
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradientTransformation } from '../../base.js';
import { chain, statelessWithTreeMap } from '../../combine.js';
import * as gx from '../../index.js';
import { createOptimizer } from '../../optimizer.js';
import {
  type ArrayTree,
  discoverFusible,
  expectTracesClose,
  FUSED_TOL,
  randomArrays,
  rng,
  runFused,
  runReference,
  type Trace,
  toTensors,
} from '../../test-utils/fused.js';
import { arithSpec, expLogSpec, maskSpec, reduceSpec } from '../../test-utils/fused-specs.js';
import { isTensor, treeLeaves } from '../../tree.js';
import { fusedStats } from '../stats.js';
import { fusedUpdate } from '../step.js';

const WASM_TOL = { rtol: 1e-6, atol: 1e-6 };
const SHAPES_NO_SCALAR = { a: [7], b: [2, 3], d: [4, 4], e: [9] };

beforeAll(async () => {
  const dir = createRequire(import.meta.url)
    .resolve('@tensorflow/tfjs-backend-wasm')
    .replace(/[^/\\]*$/, '');
  setWasmPaths(dir);
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

async function onCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

function disposeAll(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
}

/** Compares the fused path on wasm with the reference path on cpu and on wasm. */
async function agree(
  tx: GradientTransformation,
  label: string,
  opts: {
    seed?: number;
    steps?: number;
    shapes?: Record<string, number[]>;
    params?: ArrayTree;
    grads?: ArrayTree[];
    cpuTol?: { rtol: number; atol: number };
    /** Also compare with the reference path on wasm (default true). */
    wasmRef?: boolean;
  } = {},
): Promise<void> {
  const r = rng(opts.seed ?? 1);
  const params = opts.params ?? randomArrays(r, opts.shapes);
  const grads = opts.grads ?? Array.from({ length: opts.steps ?? 3 }, () => randomArrays(r, opts.shapes));
  let cpuRef: Trace | undefined;
  let refError: unknown;
  try {
    cpuRef = await onCpu(() => runReference(tx, params, grads));
  } catch (e) {
    refError = e;
  }
  for (const mode of ['pure', 'donate', 'optimizer'] as const) {
    const before = tf.memory().numTensors;
    if (refError !== undefined) {
      expect(() => runFused(tx, params, grads, mode), `${label} [${mode}]`).toThrow((refError as Error).message);
      continue;
    }
    const got = runFused(tx, params, grads, mode);
    expect(tf.memory().numTensors, `${label} [${mode}]: tensors leaked`).toBe(before);
    expectTracesClose(got, cpuRef as Trace, `${label} [${mode}] vs cpu reference`, opts.cpuTol ?? FUSED_TOL);
  }
  if (refError === undefined && opts.wasmRef !== false)
    expectTracesClose(runFused(tx, params, grads, 'optimizer'), runReference(tx, params, grads), `${label} vs wasm reference`, WASM_TOL);
}

it('runs on the wasm backend', () => {
  expect(tf.getBackend()).toBe('wasm');
});

describe('every exported element-wise transform and alias (wasm)', () => {
  for (const { name, tx } of discoverFusible()) {
    it(name, async () => {
      const before = { ...fusedStats };
      await agree(tx, name, { shapes: SHAPES_NO_SCALAR });
      expect(fusedStats.reference, 'fell back to the reference path').toBe(before.reference);
      expect(fusedStats.fused).toBeGreaterThan(before.fused);
    });
  }
});

describe('every op of the per-element language', () => {
  const special: ArrayTree = {
    a: { shape: [13], values: Float32Array.from([Number.NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3.4e38, -2, 0.2, -0.2, 1, 5]) },
    b: { shape: [3], values: Float32Array.from([0.2, -0, 7]) },
  };
  const paramsSpecial: ArrayTree = {
    a: { shape: [13], values: Float32Array.from([1, -1, 0, Number.NaN, 2, -3, 0.5, 1e-40, -2, 0.2, 4, Infinity, -0]) },
    b: { shape: [3], values: Float32Array.from([0, 1, -1]) },
  };
  for (const [label, make, tol] of [
    ['arith', arithSpec, { rtol: 0, atol: 0 }],
    ['masks', maskSpec, { rtol: 0, atol: 0 }],
    ['exp/log (JS loop over the heap)', expLogSpec, FUSED_TOL],
    ['reductions', reduceSpec, FUSED_TOL],
  ] as const) {
    it(label, async () => {
      await agree(make(), label, { cpuTol: tol });
      // against the cpu reference only: tfjs-wasm's own Sign kernel maps subnormals to 0
      await agree(make(), `${label} (special values)`, {
        params: paramsSpecial,
        grads: [special, randomArrays(rng(3), { a: [13], b: [3] })],
        cpuTol: tol,
        wasmRef: false,
      });
    });
  }
});

describe('random chains (fast-check)', () => {
  it('fused on wasm = reference', async () => {
    const pool = discoverFusible().filter((c) => c.tx.fusion?.kind === 'elementwise');
    const opaque = statelessWithTreeMap((u) => tf.mul(u, 0.5));
    const samples = fc.sample(
      fc.record({
        picks: fc.array(fc.integer({ min: -1, max: pool.length - 1 }), { minLength: 1, maxLength: 4 }),
        seed: fc.integer({ min: 1, max: 1000 }),
      }),
      { numRuns: 12, seed: 7 },
    );
    for (const { picks, seed } of samples) {
      const tx = chain(...picks.map((i) => (i >= 0 ? (pool[i] as { tx: GradientTransformation }).tx : opaque)));
      await agree(tx, `chain of ${picks.map((i) => (i >= 0 ? pool[i]?.name : 'opaque')).join(', ')}`, {
        seed,
        steps: 2,
        shapes: SHAPES_NO_SCALAR,
      });
    }
  });
});

describe('in place on the heap', () => {
  const offsets = (tree: unknown) => {
    const b = tf.backend() as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } };
    return (treeLeaves(tree).filter(isTensor) as tf.Tensor[]).map((t) => b.dataIdMap.get(t.dataId).memoryOffset);
  };

  it('createOptimizer keeps the same buffers and tf.memory() flat over 20 steps', () => {
    const opt = createOptimizer(chain(gx.clipByGlobalNorm(1), gx.adamw(0.01)), toTensors(randomArrays(rng(1))));
    const g = toTensors(randomArrays(rng(2)));
    opt.step(g);
    const at = [...offsets(opt.params), ...offsets(opt.state)];
    const m0 = tf.memory();
    const fast0 = fusedStats.fast;
    for (let i = 0; i < 20; i++) opt.step(g);
    expect(fusedStats.fast - fast0).toBe(20);
    expect([...offsets(opt.params), ...offsets(opt.state)]).toEqual(at);
    expect(tf.memory().numTensors).toBe(m0.numTensors);
    expect(tf.memory().numBytes).toBe(m0.numBytes);
    const p = opt.params;
    opt.dispose();
    disposeAll(p, g);
  });

  it('works after the heap grows between steps', async () => {
    const params = randomArrays(rng(1));
    const grads = [randomArrays(rng(2)), randomArrays(rng(3)), randomArrays(rng(4))];
    const ref = await onCpu(() => runReference(gx.adam(0.1), params, grads));
    const opt = createOptimizer(gx.adam(0.1), toTensors(params));
    const heap = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
    const out: Trace = { params: [], states: [] };
    for (const [i, g] of grads.entries()) {
      const big = i === 1 ? tf.zeros([heap.buffer.byteLength / 2]) : null; // forces the heap to grow
      const gt = toTensors(g);
      opt.step(gt);
      tf.dispose(gt);
      big?.dispose();
      out.params.push(gx.treeMap((t: tf.Tensor) => Array.from(t.dataSync()), opt.params));
      out.states.push(gx.treeMap((t: unknown) => (isTensor(t) ? Array.from(t.dataSync()) : t), opt.state));
    }
    expectTracesClose(out, ref, 'heap growth', { rtol: 0, atol: 0 });
    const p = opt.params;
    opt.dispose();
    disposeAll(p);
  });

  it('donated inputs are consumed and raise a clear error', () => {
    const p = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const tx = gx.adam(0.1);
    const s = tx.init(p);
    const at = offsets(p);
    const [p2, s2] = fusedUpdate(tx, g, s, p, { donate: true });
    expect(offsets(p2)).toEqual(at);
    expect(() => p.a.dataSync()).toThrow(/donated/);
    disposeAll(p2, s2, g);
  });
});

describe('ops that cache their operands by tensor id', () => {
  // tfjs-wasm prepacks a matMul's right operand (XNNPACK) and keys the cache by
  // the tensor's id; params rewritten in place must not leave that cache stale.
  it('a matMul between in-place steps sees the new params', () => {
    const x = tf.randomNormal([16, 16], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([16, 4], 0, 1, 'float32', 2));
    const b = tf.variable(tf.zeros([4]));
    const opt = createOptimizer(gx.sgd(0.1), { w, b });
    const g = { w: tf.onesLike(w), b: tf.onesLike(b) };
    for (let s = 0; s < 4; s++) {
      const got = tf.tidy(() => tf.add(tf.matMul(x, w), b).arraySync());
      // fresh tensors with the same values: nothing is cached for them
      const want = tf.tidy(() => tf.add(tf.matMul(x, tf.sub(w, 0)), tf.sub(b, 0)).arraySync());
      expect(got, `step ${s}`).toEqual(want);
      opt.step(g);
    }
    opt.dispose();
    tf.dispose([x, w, b, g.w, g.b]);
  });
});
