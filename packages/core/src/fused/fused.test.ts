// The fused engine on the cpu backend: agreement with the reference path for
// every exported element-wise transform and alias, for every op of the
// per-element language, for random chains; donation, leaks, fallbacks.
//
// Tolerance: on cpu the fused path computes every operation in float32 exactly
// as the reference path does (each op rounded to float32; reductions summed in
// float64 in the same order), so results are compared bit for bit where we
// control both sides, and within FUSED_TOL (rtol 1e-6, atol 1e-7: a few ulp)
// for the discovered transforms, whose specs may evolve.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GradientTransformation } from '../base.js';
import { chain, namedChain, stateless, statelessWithTreeMap } from '../combine.js';
import * as gx from '../index.js';
import {
  type ArrayTree,
  discoverFusible,
  expectTracesClose,
  FUSED_TOL,
  randomArrays,
  rng,
  runFused,
  runReference,
  snapshot,
  toTensors,
} from '../test-utils/fused.js';
import { arithSpec, expLogSpec, maskSpec, reduceSpec } from '../test-utils/fused-specs.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale, scaleByLearningRate } from '../transforms/scaling.js';
import { isTensor, treeLeaves } from '../tree.js';
import { applyUpdates } from '../update.js';
import { simulateCodegenBlocked, wasmAvailable } from './devices/codegen.js';
import { planOf } from './plan.js';
import { setFusedEnabled } from './registry.js';
import { fusedStats } from './stats.js';
import { fusedUpdate } from './step.js';

const EXACT = { rtol: 0, atol: 0 };
const SHAPES_NO_SCALAR = { a: [7], b: [2, 3], d: [4, 4], e: [9] };

function disposeAll(...trees: unknown[]): void {
  tf.dispose(trees.flatMap((t) => treeLeaves(t)).filter(isTensor) as tf.Tensor[]);
}

/** Runs `tx` for `steps` steps on both paths, in the three fused modes, and compares. */
function agree(
  tx: GradientTransformation,
  label: string,
  opts: { seed?: number; steps?: number; tol?: { rtol: number; atol: number }; shapes?: Record<string, number[]> } = {},
): void {
  const r = rng(opts.seed ?? 1);
  const params = randomArrays(r, opts.shapes);
  const grads = Array.from({ length: opts.steps ?? 3 }, () => randomArrays(r, opts.shapes));
  let ref: ReturnType<typeof runReference> | undefined;
  let refError: unknown;
  try {
    ref = runReference(tx, params, grads);
  } catch (e) {
    refError = e;
  }
  for (const mode of ['pure', 'donate', 'optimizer'] as const) {
    const before = tf.memory().numTensors;
    if (refError !== undefined) {
      // invalid input: the fused path raises the reference path's error
      expect(() => runFused(tx, params, grads, mode), `${label} [${mode}]`).toThrow((refError as Error).message);
      continue;
    }
    const got = runFused(tx, params, grads, mode);
    expect(tf.memory().numTensors, `${label} [${mode}]: tensors leaked`).toBe(before);
    expectTracesClose(got, ref as ReturnType<typeof runReference>, `${label} [${mode}]`, opts.tol);
  }
}

afterEach(() => {
  setFusedEnabled(true);
  simulateCodegenBlocked({});
});

describe('every exported element-wise transform and alias (cpu)', () => {
  const cases = discoverFusible();
  it('finds the transforms (the discovery works)', () => {
    const names = cases.map((c) => c.name.replace(/\(.*/, ''));
    for (const n of ['scaleByAdam', 'scale', 'adam', 'sgd']) expect(names).toContain(n);
  });
  for (const { name, tx } of cases) {
    it(`${name}: fused = reference (${FUSED_TOL.rtol} rtol), pure, donated and in createOptimizer`, () => {
      const before = { ...fusedStats };
      agree(tx, name);
      agree(tx, `${name} (no scalar leaf)`, { seed: 7, shapes: SHAPES_NO_SCALAR });
      expect(fusedStats.reference, 'fell back to the reference path').toBe(before.reference);
    });
  }
  it('compiled every kernel above as WebAssembly SIMD (no silent fallback to JS loops)', () => {
    expect(wasmAvailable()).toBe(true);
  });
});

describe('options that change the expression', () => {
  const variants: [string, GradientTransformation][] = [
    ['scaleByAdam nesterov', scaleByAdam({ nesterov: true, epsRoot: 1e-8 })],
    ['adam with a schedule', gx.adam((c: number) => 0.1 / (1 + c))],
    ['sgd momentum nesterov', gx.sgd(0.1, { momentum: 0.9, nesterov: true })],
    ['rmsprop centered momentum', gx.rmsprop(0.01, { centered: true, momentum: 0.9 })],
    ['adamw mask', gx.adamw(0.01, { mask: { a: true, b: false, c: true, d: true, e: false } })],
    ['clip → adam → decay → lr', chain(gx.clipByGlobalNorm(0.5), scaleByAdam(), gx.addDecayedWeights(0.1), scaleByLearningRate(0.01))],
  ];
  for (const [label, tx] of variants) {
    it(label, () => agree(tx, label, { tol: EXACT }));
  }
});

describe('every op of the per-element language, bit for bit', () => {
  const special: ArrayTree = {
    a: { shape: [13], values: Float32Array.from([Number.NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3.4e38, -2, 0.2, -0.2, 1, 5]) },
    b: { shape: [3], values: Float32Array.from([0.2, -0, 7]) },
  };
  const paramsSpecial: ArrayTree = {
    a: { shape: [13], values: Float32Array.from([1, -1, 0, Number.NaN, 2, -3, 0.5, 1e-40, -2, 0.2, 4, Infinity, -0]) },
    b: { shape: [3], values: Float32Array.from([0, 1, -1]) },
  };
  for (const [label, make] of [
    ['arith', arithSpec],
    ['masks', maskSpec],
    ['exp/log', expLogSpec],
    ['reductions', reduceSpec],
  ] as const) {
    it(`${label}: random and special values`, () => {
      agree(make(), label, { tol: EXACT });
      const grads = [special, randomArrays(rng(3), { a: [13], b: [3] })];
      const ref = runReference(make(), paramsSpecial, grads);
      for (const mode of ['pure', 'donate', 'optimizer'] as const)
        expectTracesClose(runFused(make(), paramsSpecial, grads, mode), ref, `${label} [${mode}]`, EXACT);
    });
  }

  it('the JS kernels agree too (WebAssembly blocked, as under a CSP without wasm-unsafe-eval)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    simulateCodegenBlocked({ wasm: true });
    for (const make of [arithSpec, maskSpec, expLogSpec, reduceSpec, () => gx.adamw(0.01)]) agree(make(), 'js kernels', { tol: EXACT });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/WebAssembly/);
    warn.mockRestore();
  });
});

describe('random chains (fast-check)', () => {
  const pool = discoverFusible().filter((c) => c.tx.fusion?.kind === 'elementwise');
  // non-fusible stages that split a fused run
  const opaque: GradientTransformation[] = [statelessWithTreeMap((u) => tf.mul(u, 0.5)), stateless((u) => u), gx.zeroNans()];
  it('fused = reference for random chains of element-wise and opaque stages', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.integer({ min: 0, max: pool.length - 1 }) },
            { weight: 1, arbitrary: fc.integer({ min: -opaque.length, max: -1 }) },
          ),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        (picks, seed, nested) => {
          const stages = picks.map((i) =>
            i >= 0 ? (pool[i] as { tx: GradientTransformation }).tx : (opaque[-i - 1] as GradientTransformation),
          );
          const tx = nested && stages.length > 1 ? chain(stages[0] as GradientTransformation, chain(...stages.slice(1))) : chain(...stages);
          agree(tx, `chain of ${picks.map((i) => (i >= 0 ? pool[i]?.name : `opaque${-i}`)).join(', ')}`, {
            seed,
            steps: 2,
            shapes: SHAPES_NO_SCALAR,
          });
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });
});

describe('the chain compiler', () => {
  it('splits before a reduction of an intermediate update and around opaque stages', () => {
    const op = statelessWithTreeMap((u) => tf.neg(u));
    const plan = planOf(chain(scaleByAdam(), gx.clipByGlobalNorm(1), scale(2), op, scale(3)));
    expect(
      plan.segments.map((s) => (s.kind === 'fused' ? `fused[${s.stages.join(',')}]${s.apply ? '+apply' : ''}` : `opaque ${s.stage}`)),
    ).toEqual(['fused[0]', 'fused[1,2]', 'opaque 3', 'fused[4]+apply']);
    agree(chain(scaleByAdam(), gx.clipByGlobalNorm(1), scale(2), op, scale(3)), 'split chain', { tol: EXACT });
  });

  it('a reduction over the raw gradients or the params stays in the same run (a prelude)', () => {
    const plan = planOf(chain(gx.clipByGlobalNorm(1), scaleByAdam(), gx.addDecayedWeights(0.1), scaleByLearningRate(0.1)));
    expect(plan.segments).toHaveLength(1);
  });

  it('caches kernels by shape, not by hyperparameters', () => {
    const a = planOf(chain(scaleByAdam({ b1: 0.5 }), scale(0.1)));
    const b = planOf(chain(scaleByAdam({ b1: 0.8, eps: 1e-3 }), scale(-7)));
    const c = planOf(chain(scaleByAdam({ nesterov: true }), scale(0.1)));
    const ir = (p: typeof a) => (p.segments[0] as { ir: unknown }).ir;
    expect(ir(a)).toBe(ir(b));
    expect(ir(a)).not.toBe(ir(c));
  });

  it('runs nested chains and namedChain states', () => {
    agree(
      chain(chain(scaleByAdam(), chain(scale(0.5))), namedChain(['lr', scaleByLearningRate(0.1)], ['t', gx.trace({ decay: 0.9 })])),
      'nested',
      { tol: EXACT },
    );
    agree(namedChain(), 'empty namedChain', { tol: EXACT });
    agree(chain(), 'empty chain', { tol: EXACT });
  });

  it('forwards extraArgs to opaque stages', () => {
    const seen: unknown[] = [];
    const probe: GradientTransformation = {
      init: () => ({}),
      update: (u, s, _p, extra) => {
        seen.push(extra);
        return [gx.treeMap((x: tf.Tensor) => tf.clone(x), u), s];
      },
    };
    const p = toTensors(randomArrays(rng(2)));
    const g = toTensors(randomArrays(rng(3)));
    const tx = chain(scaleByAdam(), probe);
    const s = tx.init(p);
    const [p2, s2] = fusedUpdate(tx, g, s, p, { extraArgs: { loss: 1.5 } });
    expect(seen).toEqual([{ loss: 1.5 }]);
    disposeAll(p, g, s, p2, s2);
  });
});

describe('donation', () => {
  const tx = () => gx.adamw(0.01);

  it('pure by default: inputs untouched, no leaks', () => {
    const p = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const t = tx();
    const s = t.init(p);
    const before = snapshot([p, s, g]);
    const n0 = tf.memory().numTensors;
    const [p2, s2] = fusedUpdate(t, g, s, p);
    expect(snapshot([p, s, g])).toEqual(before);
    disposeAll(p2, s2);
    expect(tf.memory().numTensors).toBe(n0);
    disposeAll(p, g, s);
  });

  it('donated params and state are updated in place: no new buffer, tf.memory() flat', () => {
    let p: unknown = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const t = tx();
    let s = t.init(p as never);
    const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
    const buffers = (tree: unknown) => (treeLeaves(tree).filter(isTensor) as tf.Tensor[]).map((x) => backend.data.get(x.dataId).values);
    const b0 = [...buffers(p), ...buffers(s)];
    const m0 = tf.memory();
    for (let i = 0; i < 5; i++) [p, s] = fusedUpdate(t, g, s, p as never, { donate: true }) as [unknown, never];
    for (const [i, b] of [...buffers(p), ...buffers(s)].entries()) expect(b).toBe(b0[i]);
    expect(tf.memory().numTensors).toBe(m0.numTensors);
    expect(tf.memory().numBytes).toBe(m0.numBytes);
    disposeAll(p, s, g);
  });

  it('a donated tensor raises a clear error when used again', () => {
    const p = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const t = tx();
    const s = t.init(p);
    const [p2, s2] = fusedUpdate(t, g, s, p, { donate: true });
    expect(() => p.a.dataSync()).toThrow(/donated.*consumed/);
    expect(() => tf.add(p.a, 1)).toThrow(/donated.*consumed/);
    expect(() => fusedUpdate(t, g, s, p2)).toThrow(/donated.*consumed/);
    expect(() => t.update(g, s, p2)).toThrow(/donated.*consumed/);
    p.a.dispose(); // disposing again is harmless
    disposeAll(p2, s2, g);
  });

  it('a buffer shared with another tensor is never overwritten', () => {
    const p = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const keep = tf.clone(p.a as tf.Tensor); // shares p.a's buffer
    const before = Array.from(keep.dataSync());
    const x = tf.tensor(before);
    const alias = { a: x, b: tf.reshape(x, [7]) }; // the same buffer twice in one tree
    const t = tx();
    const s = t.init(p);
    const [p2, s2] = fusedUpdate(t, g, s, p, { donate: true });
    expect(Array.from(keep.dataSync())).toEqual(before);
    const s3 = gx.sgd(0.1).init(alias);
    const g2 = { a: tf.onesLike(alias.a), b: tf.onesLike(alias.b) };
    const [q, s4] = fusedUpdate(gx.sgd(0.1), g2, s3, alias, { donate: true });
    expect(Array.from((q as { b: tf.Tensor }).b.dataSync())).toEqual(before.map((x) => Math.fround(x + Math.fround(-0.1))));
    disposeAll(p2, s2, g, keep, q, s4, g2);
  });

  it('donated Variables are written in place and returned as they are', () => {
    const vars = { a: tf.variable(tf.tensor([1, 2, 3])), b: tf.variable(tf.tensor([[4]])) };
    const g = { a: tf.tensor([0.1, 0.2, 0.3]), b: tf.tensor([[1]]) };
    const t = gx.sgd(0.5);
    let s = t.init(vars);
    const u = gx.treeMap((x: tf.Tensor) => tf.mul(x, -0.5), g);
    const want = applyUpdates(vars, u);
    disposeAll(u);
    const [p2, s2] = fusedUpdate(t, g, s, vars, { donate: true });
    s = s2 as never;
    expect((p2 as typeof vars).a).toBe(vars.a);
    expect(Array.from(vars.a.dataSync())).toEqual(Array.from((want as typeof vars).a.dataSync()));
    disposeAll(vars, g, s, want);
  });

  it('the updates can be donated too', () => {
    const p = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const t = chain(scaleByAdam(), gx.clipByGlobalNorm(0.1), scale(-1));
    const s = t.init(p);
    const n0 = tf.memory().numTensors;
    const [p2, s2] = fusedUpdate(t, g, s, p, { donate: { params: true, state: true, updates: true } });
    expect(tf.memory().numTensors).toBe(n0 - Object.keys(g).length);
    expect(() => g.a.dataSync()).toThrow(/donated/);
    disposeAll(p2, s2);
  });
});

describe('fallbacks', () => {
  it('setFusedEnabled(false) and { fused: false } run the reference path', () => {
    const p = toTensors(randomArrays(rng(1)));
    const g = toTensors(randomArrays(rng(2)));
    const t = gx.adam(0.1);
    const s = t.init(p);
    const before = { ...fusedStats };
    setFusedEnabled(false);
    const [a, sa] = fusedUpdate(t, g, s, p);
    setFusedEnabled(true);
    const [b, sb] = fusedUpdate(t, g, s, p, { fused: false });
    expect(fusedStats.reference - before.reference).toBe(2);
    expect(fusedStats.fused).toBe(before.fused);
    const [c, sc] = fusedUpdate(t, g, s, p);
    expect(fusedStats.fused - before.fused).toBe(1);
    expect(snapshot(a)).toEqual(snapshot(c));
    expect(snapshot(b)).toEqual(snapshot(c));
    disposeAll(p, g, s, a, sa, b, sb, c, sc);
  });

  it('with code generation blocked (CSP), warns once and runs the reference path, never throws', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    simulateCodegenBlocked({ wasm: true, js: true });
    const before = { ...fusedStats };
    agree(gx.adam(0.1), 'blocked', { tol: EXACT });
    agree(gx.lion(0.1), 'blocked', { tol: EXACT });
    expect(fusedStats.fused).toBe(before.fused);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/WebAssembly/),
      expect.stringMatching(/reference path/),
    ]);
    warn.mockRestore();
  });

  it('bad inputs raise the reference path’s errors', () => {
    const p = toTensors(randomArrays(rng(1)));
    const t = gx.adam(0.1);
    const s = t.init(p);
    const bad = { ...toTensors(randomArrays(rng(2))), a: tf.zeros([3]) };
    expect(() => fusedUpdate(t, bad, s, p)).toThrow(/shape/);
    expect(() => fusedUpdate(t, { a: bad.a }, s, p)).toThrow(/tree mismatch|missing/);
    expect(() => fusedUpdate(t, bad, [{ count: 0 }, {}], p)).toThrow(/state/);
    disposeAll(p, s, bad);
  });

  it('empty leaves and a tree of one scalar', () => {
    agree(gx.adamw(0.1), 'empty leaf', { shapes: { z: [0], a: [5] }, tol: EXACT });
    agree(gx.adam(0.1), 'scalar', { shapes: { c: [] }, tol: EXACT });
    agree(chain(gx.clipByGlobalNorm(1), gx.adamw(0.1)), 'empty tree', { shapes: {}, tol: EXACT });
  });
});
