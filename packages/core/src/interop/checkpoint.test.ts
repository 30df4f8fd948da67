import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scheduleWarmupCosine } from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { adam, sgd } from '../aliases.js';
import type { GradientTransformation } from '../base.js';
import { injectHyperparams } from '../combinators/inject-hyperparams.js';
import { chain } from '../combine.js';
import { disposeTree, expectNoLeaks } from '../test-utils/index.js';
import { scaleByAdam } from '../transforms/adam.js';
import { clipByGlobalNorm } from '../transforms/clipping.js';
import { addDecayedWeights } from '../transforms/decay.js';
import { scaleByLearningRate } from '../transforms/scaling.js';
import { formatPath, isTensor, treeLeaves, treeLeavesWithPath } from '../tree.js';
import { applyUpdates } from '../update.js';
import { flattenState, loadState, loadStateFrom, type StateArtifacts, saveState, saveStateTo, unflattenState } from './checkpoint.js';

/** Every tensor leaf's raw bytes, and every other leaf as it is, keyed by path: for bit-for-bit comparisons. */
function bits(tree: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, leaf] of treeLeavesWithPath(tree)) {
    const key = formatPath(path);
    if (isTensor(leaf)) {
      const data = leaf.dataSync();
      const raw =
        data instanceof Float32Array
          ? Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length))
          : Array.from(data as Int32Array);
      out[key] = { dtype: leaf.dtype, shape: leaf.shape, raw };
    } else {
      out[key] = Object.is(leaf, -0) ? '-0' : Number.isNaN(leaf) ? 'NaN' : leaf;
    }
  }
  return out;
}

/** A deterministic gradient for step `k` with the params' shapes (no randomness, so runs repeat exactly). */
function gradFor(k: number, params: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, p] of Object.entries(params)) {
      const n = p.size;
      const vals = Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * k + 0.37 * i + name.length) * (1 + (k % 3)));
      out[name] = tf.add(tf.tensor(vals, p.shape), tf.mul(p, 0.1));
    }
    return out;
  });
}

/** Runs steps `from..to-1` of `tx` from (params, state); disposes the inputs it replaces and returns the new ones. */
function train(
  tx: GradientTransformation,
  params: Record<string, tf.Tensor>,
  state: unknown,
  from: number,
  to: number,
): { params: Record<string, tf.Tensor>; state: unknown } {
  let p = params;
  let s = state;
  for (let k = from; k < to; k++) {
    const g = gradFor(k, p);
    const [u, s2] = tx.update(g, s, p);
    const p2 = applyUpdates(p, u) as Record<string, tf.Tensor>;
    disposeTree([g, u, s, p]);
    p = p2;
    s = s2;
  }
  return { params: p, state: s };
}

function initialParams(): Record<string, tf.Tensor> {
  return {
    w: tf.tensor2d([
      [0.5, -1.25, 2, 0.1],
      [1.5, 0.25, -0.75, 3],
      [-2, 0.125, 1, -0.5],
    ]),
    b: tf.tensor1d([0.1, -0.2, 0.3, -0.4]),
  };
}

/** What a file keeps: the description as JSON text, the weights as bytes (nothing else of the in-memory object survives). */
function throughJsonAndBytes(a: StateArtifacts): tf.io.ModelArtifacts {
  const json = JSON.parse(JSON.stringify({ modelTopology: a.modelTopology, format: a.format, weightSpecs: a.weightSpecs }));
  return { ...json, weightData: a.weightData.slice(0) };
}

describe('saveState / loadState', () => {
  it('describes the state as JSON and the tensors as named weights', async () => {
    await expectNoLeaks(async () => {
      const params = initialParams();
      const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(0.1));
      const state = tx.init(params);
      const a = await saveState(state);
      expect(a.format).toBe('gradtx-state');
      expect(a.version).toBe(1);
      expect(a.generatedBy).toBe('gradtx');
      expect(a.modelTopology).toEqual({
        format: 'gradtx-state',
        version: 1,
        structure: a.structure,
        checksum: expect.stringMatching(/^crc32:[0-9a-f]{8}$/),
      });
      expect(a.structure).toEqual([
        { globalNorm: { $tensor: 'state[0].globalNorm' } },
        {
          count: 0,
          mu: { b: { $tensor: 'state[1].mu.b' }, w: { $tensor: 'state[1].mu.w' } },
          nu: { b: { $tensor: 'state[1].nu.b' }, w: { $tensor: 'state[1].nu.w' } },
        },
        {},
      ]);
      expect(a.weightSpecs.map((s) => [s.name, s.shape, s.dtype])).toEqual([
        ['state[0].globalNorm', [], 'float32'],
        ['state[1].mu.b', [4], 'float32'],
        ['state[1].mu.w', [3, 4], 'float32'],
        ['state[1].nu.b', [4], 'float32'],
        ['state[1].nu.w', [3, 4], 'float32'],
      ]);
      expect(a.weightData).toBeInstanceOf(ArrayBuffer);
      expect(a.weightData.byteLength).toBe(4 * (1 + 4 + 12 + 4 + 12));
      disposeTree([params, state]);
    });
  });

  it('round-trips every kind of leaf bit for bit (float32 bits and NaN payloads, int32, bool, special numbers, strings, empty slots)', async () => {
    await expectNoLeaks(async () => {
      const nanWithPayload = new Float32Array(new Uint32Array([0x7fc01234]).buffer)[0] as number;
      const make = () => ({
        f: tf.tensor1d([1 / 3, -0, Number.MIN_VALUE, 3.4e38, nanWithPayload, -Infinity]),
        i: tf.tensor1d([-(2 ** 31), 2 ** 31 - 1, 0], 'int32'),
        flag: tf.tensor2d([[true, false]], [1, 2], 'bool'),
        nums: [0.1, 2 ** 53 + 2, -0, Number.NaN, Infinity, -Infinity, 1e-310],
        misc: { yes: true, no: false, none: null, missing: undefined, label: 'a "quoted" label' },
        tricky: { $tensor: 5 },
        s: tf.scalar(2.5),
      });
      const state = make();
      // A transformation whose init builds a state of the same form.
      const tx: GradientTransformation = { init: () => make(), update: () => [null, null] };
      const a = await saveState(state);
      const b = throughJsonAndBytes(a);
      const restored = loadState(b, tx, {}) as ReturnType<typeof make>;
      expect(bits(restored)).toEqual(bits(state));
      expect(restored.misc.missing).toBeUndefined();
      expect('missing' in restored.misc).toBe(true);
      expect(restored.tricky).toEqual({ $tensor: 5 });
      expect(Object.is(restored.nums[2], -0)).toBe(true);
      expect(restored.nums[1]).toBe(2 ** 53 + 2);
      expect(restored.f).not.toBe(state.f); // fresh tensors, owned by the caller
      disposeTree([state, restored]);
    });
  });

  it('N steps, save, load into a fresh transformation, M more steps equals N+M steps, bit for bit (clip, adam, decay, scheduled lr)', async () => {
    const makeTx = () =>
      chain(
        clipByGlobalNorm(1),
        scaleByAdam(),
        addDecayedWeights(1e-4),
        scaleByLearningRate(scheduleWarmupCosine({ initValue: 0, peakValue: 0.1, warmupSteps: 3, decaySteps: 10, endValue: 0.001 })),
      );
    await expectNoLeaks(async () => {
      const N = 4;
      const M = 4;
      const tx1 = makeTx();
      const s0 = initialParams();
      const straight = train(tx1, s0, tx1.init(s0), 0, N + M);

      const a = makeTx();
      const p0 = initialParams();
      const half = train(a, p0, a.init(p0), 0, N);
      const artifacts = await saveState(half.state);
      const stored = throughJsonAndBytes(artifacts);
      disposeTree(half.state);

      const b = makeTx(); // a fresh transformation (fresh closures), as after a restart
      const resumedState = loadState(stored, b, half.params);
      expect((resumedState as [unknown, { count: number }])[1].count).toBe(N);
      const resumed = train(b, half.params, resumedState, N, N + M);

      expect(bits(resumed.params)).toEqual(bits(straight.params));
      expect(bits(resumed.state)).toEqual(bits(straight.state));
      // The schedule kept its position: the lr stage's count is N + M.
      expect((resumed.state as unknown[])[3]).toEqual({ count: N + M });
      disposeTree([straight, resumed]);
    });
  });

  it('keeps injected hyperparameters changed by hand (exact doubles) across a save and load', async () => {
    const makeTx = () => injectHyperparams(adam)(0.05, { b1: 0.8 });
    await expectNoLeaks(async () => {
      const N = 3;
      const M = 3;
      const lr = 0.012345678901234567; // not a float32 value: must come back as the same double
      const straightTx = makeTx();
      const s0 = initialParams();
      const first = train(straightTx, s0, straightTx.init(s0), 0, N);
      (first.state as { hyperparams: Record<string, number> }).hyperparams.learningRate = lr;
      const straight = train(straightTx, first.params, first.state, N, N + M);

      const a = makeTx();
      const p0 = initialParams();
      const half = train(a, p0, a.init(p0), 0, N);
      (half.state as { hyperparams: Record<string, number> }).hyperparams.learningRate = lr;
      const saved = throughJsonAndBytes(await saveState(half.state));
      disposeTree(half.state);
      const b = makeTx();
      const loaded = loadState(saved, b, half.params) as { hyperparams: Record<string, number>; count: number };
      expect(loaded.hyperparams.learningRate).toBe(lr);
      expect(loaded.hyperparams.b1).toBe(Math.fround(0.8)); // injectHyperparams keeps float32-rounded values, as optax does
      expect(loaded.count).toBe(N);
      const resumed = train(b, half.params, loaded, N, N + M);
      expect(bits(resumed.params)).toEqual(bits(straight.params));
      expect(bits(resumed.state)).toEqual(bits(straight.state));
      disposeTree([straight, resumed]);
    });
  });

  it('goes through tf.io handlers: withSaveHandler / fromMemory', async () => {
    await expectNoLeaks(async () => {
      const params = initialParams();
      const tx = adam(0.1);
      const run = train(tx, params, tx.init(params), 0, 2);
      let captured: tf.io.ModelArtifacts | undefined;
      const result = await saveStateTo(
        run.state,
        tf.io.withSaveHandler(async (a) => {
          captured = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');
      expect(captured?.format).toBe('gradtx-state');
      const loaded = await loadStateFrom(tf.io.fromMemory(captured as tf.io.ModelArtifacts), tx, run.params);
      expect(bits(loaded)).toEqual(bits(run.state));
      disposeTree([run, loaded]);
    });
  });

  describe('files on disk (a minimal Node handler: state.json + weights.bin)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradtx-ckpt-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Writes and reads model.json-style files, as tfjs-node's file:// handler does. */
    const fileHandler = (base: string): tf.io.IOHandler => ({
      async save(a) {
        const weightsManifest = [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }];
        writeFileSync(
          join(base, 'state.json'),
          JSON.stringify({ modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, weightsManifest }),
        );
        writeFileSync(join(base, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      },
      async load() {
        const json = JSON.parse(readFileSync(join(base, 'state.json'), 'utf8')) as tf.io.ModelJSON;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const buf = readFileSync(join(base, manifest[0]?.paths[0] as string));
          return [manifest[0]?.weights ?? [], buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)];
        });
      },
    });

    it('saves to and loads from files, bit for bit', async () => {
      await expectNoLeaks(async () => {
        const tx = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(0.01));
        const params = initialParams();
        const run = train(tx, params, tx.init(params), 0, 3);
        await saveStateTo(run.state, fileHandler(dir));
        const json = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
        expect(json.modelTopology.format).toBe('gradtx-state');
        expect(json.modelTopology.structure[1].count).toBe(3);
        expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe(4 * (1 + 2 * (12 + 4)));
        const loaded = await loadStateFrom(fileHandler(dir), tx, run.params);
        expect(bits(loaded)).toEqual(bits(run.state));
        disposeTree([run, loaded]);
      });
    });
  });

  describe('refuses a checkpoint that does not fit', () => {
    it('names the path, the saved shape and the expected one', async () => {
      await expectNoLeaks(async () => {
        const w34 = { w: tf.zeros([3, 4]) };
        const w43 = { w: tf.zeros([4, 3]) };
        const tx = adam(0.1);
        const state = tx.init(w34);
        const a = await saveState(state);
        expect(() => loadState(a, tx, w43)).toThrow(
          "loadState: the checkpoint's state has `[0].mu.w` of shape [3, 4] but this transformation and params expect [4, 3]",
        );
        disposeTree([w34, w43, state]);
      });
    });

    it('names the first differing path for a checkpoint of another transformation (sgd into adam)', async () => {
      await expectNoLeaks(async () => {
        const params = { w: tf.zeros([2]) };
        const state = sgd(0.1, { momentum: 0.9 }).init(params);
        const a = await saveState(state);
        expect(() => loadState(a, adam(0.1), params)).toThrow(
          /^loadState: the checkpoint's state has no `\[0\]\.count` but this transformation and params expect number 0 there/,
        );
        const plain = await saveState(sgd(0.1).init(params));
        expect(() => loadState(plain, adam(0.1), params)).toThrow(/^loadState: the checkpoint's state has no `\[0\]\.count`/);
        disposeTree([params, state]);
      });
    });

    it('names a dtype difference and a kind difference', async () => {
      await expectNoLeaks(async () => {
        const mk = (dtype: 'int32' | 'float32', n: unknown) => ({ t: tf.zeros([2], dtype), n });
        const txFloat: GradientTransformation = { init: () => mk('float32', 1), update: () => [null, null] };
        const saved = mk('int32', 1);
        const a = await saveState(saved);
        expect(() => loadState(a, txFloat, {})).toThrow(
          "loadState: the checkpoint's state has `t` of dtype int32 but this transformation and params expect float32",
        );
        const saved2 = mk('float32', true);
        const b = await saveState(saved2);
        expect(() => loadState(b, txFloat, {})).toThrow(
          "loadState: the checkpoint's state has boolean true at `n` but this transformation and params expect number 1 there",
        );
        disposeTree([saved, saved2]);
      });
    });

    it('rejects artifacts that are not a gradtx state, a newer version and damaged ones', async () => {
      const params = { w: tf.zeros([2]) };
      const tx = adam(0.1);
      const state = tx.init(params);
      const a = await saveState(state);
      expect(() => loadState({ format: 'layers-model', modelTopology: { class_name: 'Sequential' } }, tx, params)).toThrow(
        `loadState: this is not a gradtx state (format "layers-model"; expected 'gradtx-state')`,
      );
      expect(() => loadState({ ...a, modelTopology: { ...a.modelTopology, version: 99 } }, tx, params)).toThrow(
        'loadState: the state has format version 99, which this gradtx cannot read (it reads versions 1 to 1)',
      );
      expect(() => loadState({ ...a, weightSpecs: a.weightSpecs.slice(1) }, tx, params)).toThrow(
        /refers to the tensor `state\[0\]\.mu\.w` \(at `\[0\]\.mu\.w`\), which is missing/,
      );
      expect(() => loadState(42 as never, tx, params)).toThrow('loadState: `artifacts` must be the object saveState returns');
      expect(() => loadState(a, {} as never, params)).toThrow('loadState: `tx` is not a gradient transformation');
      const before = tf.memory().numTensors;
      expect(() => loadState(a, tx, { w: tf.zeros([3]) })).toThrow(/shape \[2\] but this transformation and params expect \[3\]/);
      expect(tf.memory().numTensors).toBe(before + 1); // only the params made in the call; the reference state was disposed
      disposeTree([params, state]);
    });

    it('rejects a state that is not plain data, and unknown URLs', async () => {
      await expect(saveState({ f: () => 1 })).rejects.toThrow('saveState: the state at `f` is a function; a state must be plain data');
      const disposed = tf.zeros([2]);
      disposed.dispose();
      await expect(saveState([disposed])).rejects.toThrow('saveState: the tensor at `[0]` of the state has been disposed');
      const c = tf.complex([1], [2]);
      await expect(saveState({ c })).rejects.toThrow('saveState: the tensor at `c` of the state has dtype complex64');
      c.dispose();
      await expect(saveStateTo({}, 'nope://x')).rejects.toThrow("saveStateTo: no tf.io save handler is registered for 'nope://x'");
      await expect(loadStateFrom('nope://x', adam(1), {})).rejects.toThrow(
        "loadStateFrom: no tf.io load handler is registered for 'nope://x'",
      );
      await expect(saveStateTo({}, {} as never)).rejects.toThrow(
        'saveStateTo: `handlerOrUrl` must be a URL string or a tf.io.IOHandler with a save method',
      );
    });
  });

  it('flattenState and unflattenState are inverses', () => {
    const state = [{ count: 2, mu: { a: tf.ones([2]) } }, null];
    const { structure, tensors } = flattenState(state);
    expect(tensors.map((t) => t.name)).toEqual(['state[0].mu.a']);
    expect(tensors[0]?.tensor).toBe(state[0]?.mu.a);
    const back = unflattenState(structure, tensors);
    expect(back).toEqual(state);
    expect(treeLeaves(back)[1]).toBe(state[0]?.mu.a);
    disposeTree(state);
  });
});
