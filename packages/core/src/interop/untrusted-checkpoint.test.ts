// Checkpoints are untrusted input: every corruption is a clear error (or an
// exact load), with no hang, no leak and no polluted prototype.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adam } from '../aliases.js';
import { chain } from '../combine.js';
import { rng } from '../test-utils/fused.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { isTensor, treeLeaves } from '../tree.js';
import { loadState, type StateArtifacts, saveState } from './checkpoint.js';
import { asTfOptimizer } from './tf-optimizer.js';
import { stateChecksum, weightBytes } from './weight-bytes.js';

const tx = chain(clipByGlobalNorm(1), adam(0.1));

function disposeTree(tree: unknown): void {
  tf.dispose(treeLeaves(tree).filter(isTensor) as tf.Tensor[]);
}

async function fixture() {
  const params = { w: tf.tensor1d([0.1, 0.2, 0.3]), b: tf.tensor2d([[1, 2]]) };
  const state = tx.init(params);
  const [u, s] = tx.update({ w: tf.tensor1d([1, -2, 3]), b: tf.tensor2d([[0.5, -0.5]]) }, state, params);
  disposeTree([u, state]);
  const artifacts = await saveState(s);
  disposeTree(s);
  return { params, artifacts };
}

/** The artifacts with a recomputed checksum, as a forger who knows the format would write them. */
function resealed(a: StateArtifacts): StateArtifacts {
  const bytes = weightBytes('test', a.weightData);
  const checksum = stateChecksum(a.weightSpecs, a.modelTopology.structure, bytes);
  return { ...a, modelTopology: { ...a.modelTopology, checksum } };
}

/** `loadState` must throw a `loadState:` error matching `pattern`, leaving no tensor behind. */
function expectRefused(a: unknown, params: Record<string, tf.Tensor>, pattern: RegExp): void {
  const before = tf.memory().numTensors;
  expect(() => loadState(a as StateArtifacts, tx, params)).toThrow(pattern);
  expect(tf.memory().numTensors).toBe(before);
}

function withStructure(a: StateArtifacts, structure: unknown): StateArtifacts {
  return resealed({ ...a, modelTopology: { ...a.modelTopology, structure: structure as never } });
}

afterEach(() => vi.restoreAllMocks());

describe('loadState on untrusted checkpoints', () => {
  it('reads a typed-array view (a Node Buffer at a non-zero byteOffset) at its offset', async () => {
    const { params, artifacts } = await fixture();
    const pool = new Uint8Array(artifacts.weightData.byteLength + 24);
    pool.set(new Uint8Array(artifacts.weightData), 16);
    const view = Buffer.from(pool.buffer, 16, artifacts.weightData.byteLength);
    const fromView = loadState({ ...artifacts, weightData: view as never }, tx, params);
    const fromBuffer = loadState(artifacts, tx, params);
    expect(treeLeaves(fromView).map((t) => (isTensor(t) ? Array.from(t.dataSync()) : t))).toEqual(
      treeLeaves(fromBuffer).map((t) => (isTensor(t) ? Array.from(t.dataSync()) : t)),
    );
    disposeTree([fromView, fromBuffer, params]);
  });

  it('refuses specs it does not write, before decoding anything', async () => {
    const { params, artifacts: a } = await fixture();
    const specs = a.weightSpecs;
    const huge = { name: 'junk', shape: [1e9], dtype: 'string' };
    const t0 = Date.now();
    expectRefused(
      resealed({ ...a, weightSpecs: [...specs, huge as never] }),
      params,
      /weight spec \d+ \('junk'\) has dtype string 'string'; a gradtx state holds float32, int32, bool/,
    );
    expectRefused(
      resealed({ ...a, weightSpecs: [...specs, { name: 'junk', shape: [1e9], dtype: 'float32' }] }),
      params,
      /needs bytes .*truncated/,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    const quantized = specs.map((s, i) => (i === 0 ? { ...s, quantization: { dtype: 'uint8', scale: 1, min: 0 } } : s));
    expectRefused(resealed({ ...a, weightSpecs: quantized as never }), params, /has a `quantization` field/);
    expectRefused(resealed({ ...a, weightSpecs: [...specs, specs[0] as never] }), params, /repeats the name/);
    expectRefused({ ...a, weightSpecs: [...specs, null as never] }, params, /must be \{ name, shape, dtype \}, got null/);
    expectRefused(resealed({ ...a, weightData: a.weightData.slice(0, a.weightData.byteLength - 4) }), params, /truncated/);
    expectRefused(
      resealed({ ...a, weightData: new Uint8Array(a.weightData.byteLength + 4).buffer }),
      params,
      /describe \d+ bytes but the data has/,
    );
    const unreferenced = { name: 'extra', shape: [1], dtype: 'float32' as const };
    const padded = new Uint8Array(a.weightData.byteLength + 4);
    padded.set(new Uint8Array(a.weightData));
    expectRefused(
      resealed({ ...a, weightSpecs: [...specs, unreferenced], weightData: padded.buffer }),
      params,
      /'extra', which the state's structure does not refer to/,
    );
    disposeTree(params);
  });

  it('refuses aliasing, bad counts, deep nesting and prototype keys in the structure', async () => {
    const { params, artifacts: a } = await fixture();
    const structure = a.modelTopology.structure as unknown[];
    const adamState = (structure[1] as unknown[])[0] as Record<string, unknown>;
    const edit = (patch: Record<string, unknown>) => {
      const s = JSON.parse(JSON.stringify(structure));
      Object.assign(s[1][0], patch);
      return s;
    };
    const mu = adamState.mu as Record<string, unknown>;
    expectRefused(withStructure(a, edit({ nu: mu })), params, /refers to the tensor `.*` more than once/);
    for (const count of [-5, 2.5, { $number: 'NaN' }, { $number: 'Infinity' }, 2 ** 31]) {
      expectRefused(withStructure(a, edit({ count })), params, /step count .* is an integer from 0 to 2147483647/);
    }
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expectRefused({ ...a, modelTopology: { ...a.modelTopology, structure: deep as never } }, params, /nests deeper than 64 levels/);
    const proto = JSON.parse(`{"__proto__": {"polluted": true}, "count": 1}`);
    expectRefused(withStructure(a, [structure[0], [proto]]), params, /has a key `__proto__`/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    disposeTree(params);
  });

  it('detects a flipped byte and two swapped names by the checksum', async () => {
    const { params, artifacts: a } = await fixture();
    const flipped = new Uint8Array(a.weightData.slice(0));
    flipped[5] = (flipped[5] as number) ^ 1;
    expectRefused({ ...a, weightData: flipped.buffer }, params, /checksum is crc32:[0-9a-f]{8} but it records/);
    const specs = a.weightSpecs.map((s) => ({ ...s }));
    const [i, j] = [specs.findIndex((s) => s.name.endsWith('mu.w')), specs.findIndex((s) => s.name.endsWith('nu.w'))];
    [(specs[i] as { name: string }).name, (specs[j] as { name: string }).name] = [
      (specs[j] as { name: string }).name,
      (specs[i] as { name: string }).name,
    ];
    expectRefused({ ...a, weightSpecs: specs }, params, /checksum .* changed or damaged/);
    disposeTree(params);
  });

  it('loads a checkpoint written before checksums, with a one-time warning', async () => {
    const { params, artifacts: a } = await fixture();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { checksum: _, ...old } = a.modelTopology;
    for (let k = 0; k < 2; k++) {
      const s = loadState({ ...a, modelTopology: old as never }, tx, params);
      disposeTree(s);
    }
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('no checksum')).length).toBeLessThanOrEqual(1);
    disposeTree(params);
  });

  it('fuzz: 400 seeded mutations give a clear error or an exact load, never a leak or a polluted prototype', async () => {
    const { params, artifacts: a } = await fixture();
    const r = rng(2026);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const nasty: unknown[] = [
      null,
      -5,
      2.5,
      1e300,
      'x',
      true,
      [],
      {},
      { $tensor: 'state[1][0].mu.w' },
      { $number: 'NaN' },
      { $undefined: true },
      JSON.parse('{"__proto__":{"p":1}}'),
      { constructor: 1 },
    ];
    const mutateNode = (node: unknown): unknown => {
      if (r() < 0.25 || node === null || typeof node !== 'object') return pick(nasty);
      if (Array.isArray(node)) return node.map((c) => (r() < 0.5 ? mutateNode(c) : c));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = r() < 0.5 ? mutateNode(v) : v;
      if (r() < 0.1) out[pick(['extra', 'count', '$tensor', '__proto__'])] = pick(nasty);
      return out;
    };
    const mutations: ((x: StateArtifacts) => StateArtifacts)[] = [
      (x) => {
        const b = new Uint8Array(x.weightData.slice(0));
        b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
        return { ...x, weightData: b.buffer };
      },
      (x) => ({ ...x, weightData: x.weightData.slice(0, Math.floor(r() * x.weightData.byteLength)) }),
      (x) => ({ ...x, weightSpecs: x.weightSpecs.map((s) => (r() < 0.3 ? (mutateNode(s) as never) : s)) }),
      (x) => ({ ...x, weightSpecs: x.weightSpecs.filter(() => r() < 0.8) }),
      (x) => ({ ...x, modelTopology: { ...x.modelTopology, structure: mutateNode(x.modelTopology.structure) as never } }),
      (x) => ({ ...x, modelTopology: mutateNode(x.modelTopology) as never }),
    ];
    const counts = { error: 0, exact: 0 };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const start = Date.now();
    for (let k = 0; k < 400; k++) {
      let m = pick(mutations)(a);
      if (r() < 0.5) m = resealed(m);
      const before = tf.memory().numTensors;
      let loaded: unknown;
      try {
        loaded = loadState(m, tx, params);
      } catch (e) {
        expect(String((e as Error).message)).toMatch(/^loadState: /);
        expect(tf.memory().numTensors, `leak after: ${(e as Error).message}`).toBe(before);
        counts.error++;
        continue;
      }
      // an exact load: saving what was loaded gives back the artifact's structure and bytes
      const again = await saveState(loaded);
      expect(again.modelTopology.structure).toEqual(m.modelTopology?.structure ?? m.structure);
      expect(new Uint8Array(again.weightData)).toEqual(weightBytes('test', m.weightData));
      disposeTree(loaded);
      counts.exact++;
    }
    warn.mockRestore();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('p');
    expect(({} as Record<string, unknown>).p).toBeUndefined();
    expect(counts.error).toBeGreaterThan(300);
    expect(Date.now() - start).toBeLessThan(20_000);
    disposeTree(params);
  });
});

describe('asTfOptimizer.setWeights on untrusted weights', () => {
  it('refuses a __proto__ key without leaking, and an iteration count that is not a count', async () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
    const opt = asTfOptimizer(adam(0.1));
    const g = tf.tensor1d([0.1, 0.2]);
    opt.applyGradients({ [v.name]: g });
    const weights = await opt.getWeights();
    const meta = weights.find((w) => w.name === 'gradtx/structure') as { tensor: tf.Tensor };
    const parsed = JSON.parse((meta.tensor.dataSync() as unknown as string[])[0] as string);
    parsed.structure = JSON.parse(`[{"__proto__": {"x": 1}, "count": 1}]`);
    const bad = tf.scalar(JSON.stringify(parsed), 'string');
    const before = tf.memory().numTensors;
    const forged = weights.map((w) => (w.name === 'gradtx/structure' ? { name: w.name, tensor: bad } : w));
    await expect(opt.setWeights(forged)).rejects.toThrow(/has a key `__proto__`/);
    expect(tf.memory().numTensors).toBe(before);
    for (const iter of [Number.NaN, -5, 2.5]) {
      const it = tf.scalar(iter);
      await expect(opt.setWeights(weights.map((w) => (w.name === 'iter' ? { name: 'iter', tensor: it } : w)))).rejects.toThrow(
        /iteration count 'iter' is .*; it must be an integer from 0/,
      );
      it.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([bad, g]);
    opt.dispose();
    v.dispose();
  });
});
