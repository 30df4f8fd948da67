// Moments stored in bfloat16, float16 and block-wise int8: the reference path
// decodes, updates in float32 and encodes again (checked against a host
// simulation bit for bit), the options follow the one option policy, states
// and checkpoints carry their storage, and float32 stays today's state.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GradientTransformation } from './base.js';
import * as gx from './index.js';
import { decodeValues, encodeValues } from './lang/storage/host-codec.js';
import { unpackCodes } from './lang/storage/packing.js';
import type { StateDtype } from './lang/storage/slot-storage.js';
import { setHostCodecs } from './packed-state.js';
import { rng } from './test-utils/fused.js';
import { treeLeaves } from './tree.js';

const f = Math.fround;
const SIZES = { w: 300, b: 7 }; // 300: a partial second block of 44 at the default 256

function randomTree(seed: number, scale = 1): Record<string, Float32Array> {
  const r = rng(seed);
  return Object.fromEntries(Object.entries(SIZES).map(([k, n]) => [k, Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale)]));
}
// copies: tfjs-cpu keeps the array it is given, and a fused step writes params in place
const tensors = (t: Record<string, Float32Array>) =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, tf.tensor1d(Float32Array.from(v))]));

/** A leaf as the storage keeps it: the float32 values it decodes to, and its code words (and scales). */
function storeHost(values: Float32Array, dtype: StateDtype, signed: boolean, blockSize = 256) {
  if (dtype === 'float32') return { values, words: undefined, scales: undefined };
  // values >= 0 (second moments) keep their square roots in int8 and float16
  const root = !signed && dtype !== 'bfloat16';
  const storage = dtype === 'int8' ? { dtype, signed, blockSize, root } : { dtype, root };
  const stored = encodeValues(values, storage);
  return { values: decodeValues(stored, values.length, storage), ...stored };
}

/** Adam's body in float32 on the host (the order of operations of scaleByAdam's body). */
function adamHost(steps: Record<string, Float32Array>[], muDtype: StateDtype, nuDtype: StateDtype) {
  const b1 = 0.9;
  const b2 = 0.999;
  const mu: Record<string, Float32Array> = {};
  const nu: Record<string, Float32Array> = {};
  for (const [k, n] of Object.entries(SIZES)) {
    mu[k] = new Float32Array(n);
    nu[k] = new Float32Array(n);
  }
  const updates: Record<string, Float32Array>[] = [];
  let stored: Record<string, { mu: ReturnType<typeof storeHost>; nu: ReturnType<typeof storeHost> }> = {};
  steps.forEach((g, t) => {
    const bc1 = f(1 - f(f(b1) ** (t + 1)));
    const bc2 = f(1 - f(f(b2) ** (t + 1)));
    const out: Record<string, Float32Array> = {};
    stored = {};
    for (const k of Object.keys(SIZES)) {
      const gk = g[k] as Float32Array;
      const m1 = Float32Array.from(gk, (u, i) => f(f(f(1 - b1) * u) + f(f(b1) * (mu[k] as Float32Array)[i]!)));
      const v1 = Float32Array.from(gk, (u, i) => f(f(f(1 - b2) * f(u * u)) + f(f(b2) * (nu[k] as Float32Array)[i]!)));
      out[k] = Float32Array.from(m1, (m, i) => f(f(m / bc1) / f(f(Math.sqrt(f(f((v1[i] as number) / bc2) + 0))) + f(1e-8))));
      const sm = storeHost(m1, muDtype, true);
      const sn = storeHost(v1, nuDtype, false);
      stored[k] = { mu: sm, nu: sn };
      mu[k] = sm.values;
      nu[k] = sn.values;
    }
    updates.push(out);
  });
  return { updates, stored };
}

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

describe('scaleByAdam with narrow moments (reference path)', () => {
  for (const [muDtype, nuDtype] of [
    ['bfloat16', 'bfloat16'],
    ['float16', 'float32'],
    ['int8', 'int8'],
    ['bfloat16', 'int8'],
  ] as [StateDtype, StateDtype][]) {
    it(`muDtype ${muDtype}, nuDtype ${nuDtype}: decode, update in float32, encode — bit for bit, no leak`, () => {
      const grads = [1, 2, 3, 4].map((s) => randomTree(s, s === 3 ? 1e-3 : 1));
      const expected = adamHost(grads, muDtype, nuDtype);
      const tx = gx.scaleByAdam({ muDtype, nuDtype });
      const params = tensors(randomTree(9));
      let state = tx.init(params) as unknown as Record<string, unknown>;
      const before = tf.memory().numTensors;
      grads.forEach((g, t) => {
        const gt = tensors(g);
        const [u, next] = tx.update(gt, state as never);
        for (const k of Object.keys(SIZES))
          expect(bits((u as Record<string, tf.Tensor>)[k]!.dataSync())).toEqual(bits(expected.updates[t]![k]!));
        tf.dispose([treeLeaves(state), treeLeaves(u), treeLeaves(gt)] as never);
        state = next as unknown as Record<string, unknown>;
      });
      expect(tf.memory().numTensors).toBe(before);
      for (const [slot, dtype] of [
        ['mu', muDtype],
        ['nu', nuDtype],
      ] as const) {
        const value = state[slot] as Record<string, unknown>;
        for (const k of Object.keys(SIZES)) {
          const host = expected.stored[k]![slot];
          if (dtype === 'float32') {
            expect(bits((value[k] as tf.Tensor).dataSync())).toEqual(bits(host.values));
            continue;
          }
          expect(value.dtype).toBe(dtype);
          const words = (value.codes as Record<string, tf.Tensor>)[k]!;
          expect(words.dtype).toBe('int32');
          expect(Array.from(words.dataSync())).toEqual(Array.from(host.words as Int32Array));
          if (dtype === 'int8') {
            expect(value.blockSize).toBe(256);
            expect(bits((value.scales as Record<string, tf.Tensor>)[k]!.dataSync())).toEqual(bits(host.scales as Float32Array));
          }
        }
      }
      tf.dispose(treeLeaves([state, params]) as tf.Tensor[]);
    });
  }

  it("'float32' is today's state and today's numbers, bit for bit", () => {
    const params = tensors(randomTree(1));
    const a = gx.scaleByAdam();
    const b = gx.scaleByAdam({ muDtype: 'float32', nuDtype: 'float32' });
    let sa = a.init(params);
    let sb = b.init(params);
    for (const seed of [5, 6, 7]) {
      const g = tensors(randomTree(seed));
      const [ua, na] = a.update(g, sa);
      const [ub, nb] = b.update(g, sb);
      expect(Object.keys(nb as object)).toEqual(['count', 'mu', 'nu']);
      for (const k of Object.keys(SIZES)) {
        expect(bits((ub as Record<string, tf.Tensor>)[k]!.dataSync())).toEqual(bits((ua as Record<string, tf.Tensor>)[k]!.dataSync()));
      }
      for (const [x, y] of treeLeaves(nb).map((l, i) => [l, treeLeaves(na)[i]])) {
        if (x instanceof tf.Tensor) expect(bits(x.dataSync())).toEqual(bits((y as tf.Tensor).dataSync()));
      }
      sa = na;
      sb = nb;
    }
  });
});

describe('the reference path with the tfjs-op codecs (as on webgpu)', () => {
  it('gives the same updates and packed state as the host codecs, bit for bit', () => {
    const run = (host: boolean) => {
      setHostCodecs(host);
      try {
        const tx = gx.scaleByAdam({ muDtype: 'int8', nuDtype: 'bfloat16' });
        const params = tensors(randomTree(9));
        let state = tx.init(params);
        const out: number[][] = [];
        for (const seed of [1, 2, 3]) {
          const [u, next] = tx.update(tensors(randomTree(seed)), state);
          out.push(...(treeLeaves(u) as tf.Tensor[]).map((t) => bits(t.dataSync())));
          state = next;
        }
        out.push(...(treeLeaves(state).filter((l) => l instanceof tf.Tensor) as tf.Tensor[]).map((t) => Array.from(t.dataSync())));
        return out;
      } finally {
        setHostCodecs('auto');
      }
    };
    expect(run(false)).toEqual(run(true));
  });
});

describe('state bytes', () => {
  function stateBytes(tx: GradientTransformation, n: number): number {
    const params = { w: tf.zeros([n]) };
    const state = tx.init(params);
    const bytes = (treeLeaves(state).filter((l) => l instanceof tf.Tensor) as tf.Tensor[]).reduce((s, t) => s + t.size * 4, 0);
    tf.dispose(treeLeaves([state, params]) as tf.Tensor[]);
    return bytes / n;
  }
  it('Adam keeps 8, 4, 4 and about 2 bytes per parameter in float32, bfloat16, float16 and int8', () => {
    const n = 25600;
    expect(stateBytes(gx.scaleByAdam(), n)).toBe(8);
    expect(stateBytes(gx.scaleByAdam({ muDtype: 'bfloat16', nuDtype: 'bfloat16' }), n)).toBe(4);
    expect(stateBytes(gx.scaleByAdam({ muDtype: 'float16', nuDtype: 'float16' }), n)).toBe(4);
    expect(stateBytes(gx.scaleByAdam({ muDtype: 'int8', nuDtype: 'int8' }), n)).toBe(2 + 8 / 256);
    expect(stateBytes(gx.scaleByAdam({ muDtype: 'int8', nuDtype: 'int8', int8BlockSize: 64 }), n)).toBe(2 + 8 / 64);
  });
});

describe('every transform with a storage option', () => {
  const cases: [string, () => GradientTransformation, string[], () => GradientTransformation][] = [
    ['scaleByAMSGrad', () => gx.scaleByAMSGrad({ muDtype: 'int8', nuDtype: 'bfloat16' }), ['mu', 'nu', 'nuMax'], () => gx.scaleByAMSGrad()],
    ['scaleByAdamax', () => gx.scaleByAdamax({ muDtype: 'bfloat16', nuDtype: 'int8' }), ['mu', 'nu'], () => gx.scaleByAdamax()],
    ['scaleByRAdam', () => gx.scaleByRAdam({ muDtype: 'float16', nuDtype: 'bfloat16' }), ['mu', 'nu'], () => gx.scaleByRAdam()],
    ['scaleByBelief', () => gx.scaleByBelief({ muDtype: 'int8', nuDtype: 'int8' }), ['mu', 'nu'], () => gx.scaleByBelief()],
    ['scaleByLion', () => gx.scaleByLion({ muDtype: 'bfloat16' }), ['mu'], () => gx.scaleByLion()],
    ['trace', () => gx.trace({ decay: 0.9, accumulatorDtype: 'int8', int8BlockSize: 64 }), ['trace'], () => gx.trace({ decay: 0.9 })],
    ['ema', () => gx.ema(0.9, { accumulatorDtype: 'bfloat16' }), ['ema'], () => gx.ema(0.9)],
    ['adamw', () => gx.adamw(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' }), ['mu', 'nu'], () => gx.adamw(1e-2)],
    ['nadam', () => gx.nadam(1e-2, { muDtype: 'int8' }), ['mu'], () => gx.nadam(1e-2)],
    ['amsgrad', () => gx.amsgrad(1e-2, { nuDtype: 'int8' }), ['nu', 'nuMax'], () => gx.amsgrad(1e-2)],
    ['lion', () => gx.lion(1e-3, { muDtype: 'int8' }), ['mu'], () => gx.lion(1e-3)],
    ['sgd', () => gx.sgd(1e-2, { momentum: 0.9, accumulatorDtype: 'bfloat16' }), ['trace'], () => gx.sgd(1e-2, { momentum: 0.9 })],
    ['signum', () => gx.signum(1e-2, { accumulatorDtype: 'int8' }), ['ema'], () => gx.signum(1e-2)],
    [
      'optimisticAdam',
      () => gx.optimisticAdam(1e-2, { muDtype: 'bfloat16', nuDtype: 'float16' }),
      ['mu', 'nu'],
      () => gx.optimisticAdam(1e-2),
    ],
    ['adabelief', () => gx.adabelief(1e-2, { muDtype: 'float16' }), ['mu'], () => gx.adabelief(1e-2)],
  ];
  for (const [name, make, packed, makeTwin] of cases) {
    it(`${name}: packs ${packed.join(', ')}, stays close to its float32 twin, no leak`, () => {
      const tx = make();
      const twin = makeTwin();
      const params = tensors(randomTree(3));
      let state = tx.init(params);
      let twinState = twin.init(params);
      const found = JSON.stringify(
        treeLeaves(state, { isLeaf: (x) => typeof x === 'object' && x !== null && 'codes' in x }).map(
          (l) => (l as { dtype?: string }).dtype ?? 'leaf',
        ),
      );
      for (const _ of packed) expect(found).toMatch(/bfloat16|float16|int8/);
      const before = tf.memory().numTensors;
      let total = 0;
      for (const seed of [11, 12, 13]) {
        const g = tensors(randomTree(seed));
        const [u, next] = tx.update(g, state, params);
        const [tu, tnext] = twin.update(g, twinState, params);
        // relative to the twin's update, summed over all elements: within a few percent
        let diff = 0;
        let size = 0;
        (treeLeaves(u) as tf.Tensor[]).forEach((leaf, i) => {
          const a = leaf.dataSync();
          const b = (treeLeaves(tu)[i] as tf.Tensor).dataSync();
          a.forEach((v, j) => {
            diff += Math.abs(v - (b[j] as number));
            size += Math.abs(b[j] as number);
          });
        });
        expect(diff / size).toBeLessThan(0.05);
        total += diff;
        tf.dispose(treeLeaves([state, u, g, twinState, tu]) as tf.Tensor[]);
        state = next;
        twinState = tnext;
      }
      // the storage is really narrow (sign-based updates may agree exactly)
      if (!/lion|signum/i.test(name)) expect(total).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(treeLeaves([state, params, twinState]) as tf.Tensor[]);
    });
  }
});

describe('storage options follow the one option policy', () => {
  it('rejects a bad dtype, a bad block size, and a block size without int8 storage', () => {
    expect(() => gx.scaleByAdam({ muDtype: 'fp16' as never })).toThrow(
      "scaleByAdam: `muDtype` must be one of 'float32', 'bfloat16', 'float16', 'int8', got 'fp16'",
    );
    expect(() => gx.adam(1e-3, { nuDtype: 8 as never })).toThrow(
      "scaleByAdam: `nuDtype` must be one of 'float32', 'bfloat16', 'float16', 'int8', got 8",
    );
    expect(() => gx.scaleByAdam({ muDtype: 'int8', int8BlockSize: 6 })).toThrow('`int8BlockSize` must be a positive multiple of 4, got 6');
    expect(() => gx.scaleByAdam({ int8BlockSize: 64 })).toThrow("`int8BlockSize` is 64 but no state is stored as 'int8'");
    expect(() => gx.trace({ decay: 0.9, accumulatorDtype: 'int4' as never })).toThrow('trace: `accumulatorDtype` must be one of');
    expect(() => gx.sgd(0.1, { accumulatorDtype: 'bfloat16' })).toThrow(
      'sgd: `accumulatorDtype` and `int8BlockSize` set the storage of the momentum, but no `momentum` is given',
    );
    expect(() => gx.scaleByAdam({ mu_dtype: 'bfloat16' } as never)).toThrow('unknown option `mu_dtype`');
    expect(Object.keys(gx.scaleByAdamDefaults)).toEqual(expect.arrayContaining(['muDtype', 'nuDtype', 'int8BlockSize']));
    expect(gx.scaleByAdamDefaults.muDtype).toBe('float32');
  });

  it('a state in another storage is refused, naming both', () => {
    const params = tensors(randomTree(1));
    const g = tensors(randomTree(2));
    // The types already refuse these states; a caller without types (or with a
    // loaded checkpoint) reaches the run-time checks, so the states are widened.
    const f32 = gx.scaleByAdam().init(params) as never;
    expect(() => gx.scaleByAdam({ muDtype: 'bfloat16' }).update(g, f32)).toThrow(
      'scaleByAdam: `state.mu` is stored as float32 but scaleByAdam stores it as bfloat16',
    );
    const i8 = gx.scaleByAdam({ nuDtype: 'int8', int8BlockSize: 64 }).init(params) as never;
    expect(() => gx.scaleByAdam({ nuDtype: 'int8' }).update(g, i8)).toThrow(
      'scaleByAdam: `state.nu` is stored as int8 (blocks of 64) but scaleByAdam stores it as int8 (blocks of 256)',
    );
    expect(() => gx.scaleByAdam().update(g, i8)).toThrow(
      '`state.nu` is stored as int8 (blocks of 64) but scaleByAdam stores it as float32',
    );
    tf.dispose(treeLeaves([params, g, f32, i8]) as tf.Tensor[]);
  });
});

describe('checkpoints of packed state', () => {
  it('round-trip bit for bit and refuse another storage, naming both', async () => {
    const params = tensors(randomTree(4));
    const tx = gx.adamw(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8' });
    let state = tx.init(params);
    for (const seed of [1, 2]) {
      const [u, next] = tx.update(tensors(randomTree(seed)), state, params);
      tf.dispose(treeLeaves(u) as tf.Tensor[]);
      state = next;
    }
    const artifacts = await gx.saveState(state);
    const loaded = gx.loadState(artifacts, tx, params);
    const a = treeLeaves(state);
    const b = treeLeaves(loaded);
    expect(b.length).toBe(a.length);
    a.forEach((x, i) => {
      if (x instanceof tf.Tensor) {
        expect((b[i] as tf.Tensor).dtype).toBe(x.dtype);
        expect(bits((b[i] as tf.Tensor).dataSync())).toEqual(bits(x.dataSync()));
      } else expect(b[i]).toEqual(x);
    });
    expect(() => gx.loadState(artifacts, gx.adamw(1e-2), params)).toThrow(
      "loadState: the checkpoint's state stores `[0].mu` as bfloat16 but this transformation and params store it as float32",
    );
    expect(() => gx.loadState(artifacts, gx.adamw(1e-2, { muDtype: 'float16', nuDtype: 'int8' }), params)).toThrow(
      'stores `[0].mu` as bfloat16 but this transformation and params store it as float16',
    );
    expect(() => gx.loadState(artifacts, gx.adamw(1e-2, { muDtype: 'bfloat16', nuDtype: 'int8', int8BlockSize: 128 }), params)).toThrow(
      'stores `[0].nu` as int8 (blocks of 256) but this transformation and params store it as int8 (blocks of 128)',
    );
    const plain = await gx.saveState(gx.adamw(1e-2).init(params));
    expect(() => gx.loadState(plain, tx, params)).toThrow(
      'stores `[0].mu` as float32 but this transformation and params store it as bfloat16',
    );
  });
});

describe('createOptimizer with packed state', () => {
  it('steps on the reference path for the packed stage, the same numbers as tx.update', () => {
    const tx = gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'bfloat16' });
    const p0 = randomTree(8);
    const opt = gx.createOptimizer(tx, tensors(p0));
    let params = tensors(p0);
    let state = tx.init(params);
    for (const seed of [21, 22, 23]) {
      const g = randomTree(seed);
      opt.step(tensors(g));
      const [u, next] = tx.update(tensors(g), state, params);
      params = gx.applyUpdates(params, u) as typeof params;
      state = next;
    }
    const got = opt.params as Record<string, tf.Tensor>;
    for (const k of Object.keys(SIZES)) expect(bits(got[k]!.dataSync())).toEqual(bits(params[k]!.dataSync()));
    const words = (opt.state as unknown as [{ mu: { codes: Record<string, tf.Tensor> } }])[0].mu.codes.w as tf.Tensor;
    expect(words.dtype).toBe('int32');
    expect(Array.from(words.dataSync())).toEqual(
      Array.from(((state as unknown as [{ mu: { codes: Record<string, tf.Tensor> } }])[0].mu.codes.w as tf.Tensor).dataSync()),
    );
    expect(unpackCodes(words.dataSync(), 8, 300).length).toBe(300);
  });
});

describe('multiSteps with a packed accumulator', () => {
  for (const dtype of ['bfloat16', 'int8'] as const) {
    it(`${dtype}: the mean accumulates in float32 between stored values, bit for bit; emits on the k-th step`, () => {
      const tx = gx.multiSteps(
        gx.scale(1),
        3,
        dtype === 'int8' ? { accumulatorDtype: dtype, int8BlockSize: 64 } : { accumulatorDtype: dtype },
      );
      const params = tensors(randomTree(1));
      let state = tx.init(params);
      expect((state.accGrads as { dtype: string }).dtype).toBe(dtype);
      const grads = [31, 32, 33].map((s) => randomTree(s));
      let acc: Record<string, Float32Array> = Object.fromEntries(Object.entries(SIZES).map(([k, n]) => [k, new Float32Array(n)]));
      grads.forEach((g, t) => {
        const next: Record<string, Float32Array> = {};
        for (const k of Object.keys(SIZES)) {
          const a = acc[k] as Float32Array;
          next[k] = Float32Array.from(g[k] as Float32Array, (x, i) => f((a[i] as number) + f(f(x - (a[i] as number)) / (t + 1))));
        }
        const [u, s] = tx.update(tensors(g), state, params);
        if (t === 2) {
          for (const k of Object.keys(SIZES)) expect(bits((u as Record<string, tf.Tensor>)[k]!.dataSync())).toEqual(bits(next[k]!));
        } else for (const leaf of treeLeaves(u) as tf.Tensor[]) expect(Array.from(leaf.dataSync()).every((v) => v === 0)).toBe(true);
        acc = Object.fromEntries(Object.entries(next).map(([k, v]) => [k, storeHost(v, dtype, true, 64).values]));
        state = s;
      });
      expect(() => gx.multiSteps(gx.scale(1), 3).update(tensors(grads[0]!), state, params)).toThrow();
      expect(() => gx.multiSteps(gx.scale(1), 3, { accumulatorDtype: 'float16' }).update(tensors(grads[0]!), state, params)).toThrow(
        `multiSteps: \`state.accGrads\` is stored as ${dtype === 'int8' ? 'int8 (blocks of 64)' : dtype} but multiSteps stores it as float16`,
      );
    });
  }
});

describe('asTfOptimizer with packed state', () => {
  it('getWeights / setWeights carry packed moments bit for bit and refuse another storage', async () => {
    const make = () => gx.adam(1e-2, { muDtype: 'int8', nuDtype: 'bfloat16' });
    const vars = (tag: string) => {
      const p = randomTree(5);
      return Object.fromEntries(
        Object.entries(p).map(([k, v]) => [k, tf.variable(tf.tensor1d(Float32Array.from(v)), true, `lowmem_${tag}_${k}`)]),
      );
    };
    const step = (opt: tf.Optimizer, vs: Record<string, tf.Variable>, seed: number) => {
      const g = randomTree(seed);
      opt.applyGradients(
        Object.fromEntries(Object.entries(vs).map(([k, v]) => [v.name, tf.tensor1d(Float32Array.from(g[k] as Float32Array))])),
      );
    };
    const straight = vars('a');
    const optA = gx.asTfOptimizer(make());
    for (const s of [1, 2, 3]) step(optA, straight, s);

    const resumed = vars('b');
    const optB = gx.asTfOptimizer(make());
    for (const s of [1, 2]) step(optB, resumed, s);
    const weights = await optB.getWeights();
    expect(weights.some((w) => w.tensor.dtype === 'int32')).toBe(true);
    const optC = gx.asTfOptimizer(make());
    await optC.setWeights(weights);
    step(optC, resumed, 3);
    for (const k of Object.keys(SIZES)) expect(bits(resumed[k]!.dataSync())).toEqual(bits(straight[k]!.dataSync()));

    const plain = gx.asTfOptimizer(gx.adam(1e-2));
    step(plain, resumed, 4);
    await expect(plain.setWeights(await optC.getWeights())).rejects.toThrow(
      "the weights' state stores `[0].mu` as int8 (blocks of 256) but this transformation and the variables it updates store it as float32",
    );
    for (const o of [optA, optB, optC, plain]) o.dispose();
    tf.dispose([...Object.values(straight), ...Object.values(resumed)]);
  });
});
