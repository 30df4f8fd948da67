// A table of bad inputs, by category, each classified as it behaves: a clear
// error (an Error naming the function and what was wrong), vague (an error
// that does not), crash (a TypeError/RangeError from inside), silent (no
// error), leak (tensors left behind). Prints the counts per category; every
// probe must be a clear error with no leak.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as gx from './index.js';
import { saveState } from './interop/checkpoint.js';
import { isTensor, treeLeaves } from './tree.js';

type Outcome = 'clear' | 'vague' | 'crash' | 'silent' | 'leak';
interface Probe {
  category: string;
  what: string;
  run: () => unknown;
  /** What a clear message says. */
  expect: RegExp;
}

const params = () => ({ w: tf.tensor1d([1, 2, 3]) });
const grads = () => ({ w: tf.tensor1d([0.1, 0.2, 0.3]) });

function disposeTree(tree: unknown): void {
  tf.dispose(treeLeaves(tree).filter(isTensor) as tf.Tensor[]);
}

/** Runs `f(p, g)` with fresh params and grads, disposing them (and whatever it returns) afterwards. */
function withTensors(f: (p: Record<string, tf.Tensor>, g: Record<string, tf.Tensor>) => unknown): () => unknown {
  return () => {
    const p = params();
    const g = grads();
    try {
      const out = f(p, g);
      disposeTree(out);
      return out;
    } finally {
      tf.dispose([...Object.values(p), ...Object.values(g)]); // tf.dispose skips a consumed tensor
    }
  };
}

function step(tx: gx.GradientTransformation, spoil: (s: Record<string, unknown>) => void = () => {}) {
  return withTensors((p, g) => {
    const s = tx.init(p) as Record<string, unknown>;
    try {
      spoil(s);
      return tx.update(g, s as never, p);
    } finally {
      disposeTree(s);
    }
  });
}

// biome-ignore format: one probe per line reads as a table
const optionProbes: Probe[] = [
  { category: 'options', what: 'scaleByAdam({ beta1 })', run: () => gx.scaleByAdam({ beta1: 0.5 } as never), expect: /^scaleByAdam: unknown option `beta1`/ },
  { category: 'options', what: 'scaleByAdam({ b_1 })', run: () => gx.scaleByAdam({ b_1: 0.5 } as never), expect: /^scaleByAdam: unknown option `b_1`/ },
  { category: 'options', what: 'scaleByAdam(0.9)', run: () => gx.scaleByAdam(0.9 as never), expect: /^scaleByAdam: the options must be an object, got 0.9/ },
  { category: 'options', what: 'scaleByRms([0.9])', run: () => gx.scaleByRms([0.9] as never), expect: /^scaleByRms: the options must be an object, got an array/ },
  { category: 'options', what: "trace('0.9')", run: () => gx.trace('0.9' as never), expect: /^trace: expected an options object/ },
  { category: 'options', what: 'adamw(0.1, { weight_decay })', run: () => gx.adamw(0.1, { weight_decay: 1 } as never), expect: /^adamw: unknown option `weight_decay`/ },
  { category: 'options', what: 'clipByGlobalNorm sibling: adaptiveGradClip(1, { axes })', run: () => gx.adaptiveGradClip(1, { axes: 0 } as never), expect: /^adaptiveGradClip: unknown option `axes`/ },
  { category: 'options', what: 'masked(tx, mask, { maskCompatible })', run: () => gx.masked(gx.scale(1), true, { maskCompatible: true } as never), expect: /^masked: unknown option `maskCompatible`/ },
  { category: 'options', what: 'multiSteps(tx, 2, { mean })', run: () => gx.multiSteps(gx.sgd(1), 2, { mean: true } as never), expect: /^multiSteps: unknown option `mean`/ },
  { category: 'options', what: 'injectHyperparams(adam, { static })', run: () => gx.injectHyperparams(gx.adam, { static: [] } as never), expect: /^injectHyperparams: unknown option `static`/ },
  { category: 'options', what: 'createOptimizer(tx, p, { state })', run: withTensors((p) => gx.createOptimizer(gx.adam(0.1), p, { stat: 1 } as never)), expect: /^createOptimizer: unknown option `stat`; the options are `fused`, `inPlace`/ },
  { category: 'options', what: 'createOptimizer(tx, p, { fused: 1 })', run: withTensors((p) => gx.createOptimizer(gx.adam(0.1), p, { fused: 1 } as never)), expect: /^createOptimizer: `fused` must be a boolean, got 1/ },
];

// biome-ignore format: one probe per line reads as a table
const hyperProbes: Probe[] = [
  { category: 'hyperparameters', what: "adam('0.1')", run: () => gx.adam('0.1' as never), expect: /^adam: `learningRate` must be a finite number >= 0, got '0.1'/ },
  { category: 'hyperparameters', what: 'adam(NaN)', run: () => gx.adam(Number.NaN), expect: /^adam: `learningRate` .* got NaN/ },
  { category: 'hyperparameters', what: 'adam(-1)', run: () => gx.adam(-1), expect: /^adam: `learningRate` .* got -1/ },
  { category: 'hyperparameters', what: 'adam(0.1, { b1: 1 })', run: () => gx.adam(0.1, { b1: 1 }), expect: /^scaleByAdam: `b1` must be in \[0, 1\), got 1/ },
  { category: 'hyperparameters', what: 'sm3(0.1, { momentum: 2 })', run: () => gx.sm3(0.1, { momentum: 2 }), expect: /^sm3: `momentum` must be in \[0, 1\], got 2/ },
  { category: 'hyperparameters', what: 'freeze(42)', run: () => gx.freeze(42 as never), expect: /^freeze: `mask` must be a boolean or a tree of booleans/ },
  { category: 'hyperparameters', what: 'chain(function)', run: () => gx.chain((() => 1) as never), expect: /got a function$/ },
  { category: 'hyperparameters', what: 'scaleByLion({ mode })', run: () => gx.scaleByLion({ mode: 'soft' as never }), expect: /^scaleByLion: `mode` .* got 'soft'/ },
  { category: 'hyperparameters', what: "rprop(0.1, { etaPlus: '2' })", run: () => gx.rprop(0.1, { etaPlus: '2' as never }), expect: /^scaleByRprop: `etaPlus` .* got '2'/ },
];

// biome-ignore format: one probe per line reads as a table
const scheduleProbes: Probe[] = [
  { category: 'schedules', what: 'lr schedule -> Infinity', run: step(gx.sgd(() => Infinity)), expect: /schedule for `learningRate` returned Infinity at count 0/ },
  { category: 'schedules', what: 'lr schedule -> -0.1', run: step(gx.sgd(() => -0.1)), expect: /schedule for `learningRate` returned -0.1 at count 0/ },
  { category: 'schedules', what: "lr schedule -> '0.1'", run: step(gx.sgd((() => '0.1') as never)), expect: /schedule for `learningRate` returned '0.1' at count 0/ },
  { category: 'schedules', what: 'lr schedule -> NaN', run: step(gx.adam(() => Number.NaN)), expect: /returned NaN at count 0/ },
  { category: 'schedules', what: 'weight decay schedule -> Infinity', run: step(gx.addDecayedWeights(() => Infinity)), expect: /schedule for `weightDecay` returned Infinity/ },
];

// biome-ignore format: one probe per line reads as a table
const stateProbes: Probe[] = [
  { category: 'state', what: 'count = 1.5', run: step(gx.scaleByAdam(), (s) => Object.assign(s, { count: 1.5 })), expect: /^scaleByAdam: state.count must be an integer/ },
  { category: 'state', what: 'count = -5', run: step(gx.scaleByAdam(), (s) => Object.assign(s, { count: -5 })), expect: /^scaleByAdam: state.count must be an integer/ },
  {
    category: 'state',
    what: 'disposed moment',
    run: step(gx.scaleByAdam(), (s) => ((s.mu as Record<string, tf.Tensor>).w as tf.Tensor).dispose()),
    expect: /^scaleByAdam: the tensor at `w` of state.mu has been disposed/,
  },
  {
    category: 'state',
    what: 'int32 moment',
    run: step(gx.scaleByAdam(), (s) => {
      const mu = s.mu as Record<string, tf.Tensor>;
      (mu.w as tf.Tensor).dispose();
      mu.w = tf.tensor1d([0, 0, 0], 'int32');
    }),
    expect: /^scaleByAdam: the tensor at `w` of state.mu has dtype int32/,
  },
  {
    category: 'state',
    what: 'a state of another transformation',
    run: step(gx.scaleByAdam(), (s) => {
      disposeTree(s.nu);
      delete s.nu;
    }),
    expect: /^scaleByAdam: the state lacks `nu`/,
  },
];

// biome-ignore format: one probe per line reads as a table
const treeProbes: Probe[] = [
  { category: 'params and grads', what: 'createOptimizer(tx, undefined)', run: () => gx.createOptimizer(gx.adam(0.1), undefined as never), expect: /^createOptimizer: `params` must be a tree of tensors/ },
  {
    category: 'params and grads',
    what: 'the same variable twice',
    run: () => {
      const v = tf.tidy(() => tf.variable(tf.zeros([2])));
      try {
        return gx.createOptimizer(gx.adam(0.1), { a: v, b: v });
      } finally {
        v.dispose();
      }
    },
    expect: /^createOptimizer: the same tensor is at `a` and at `b`/,
  },
  {
    category: 'params and grads',
    what: 'step(grads, 42)',
    run: withTensors((p, g) => {
      const opt = gx.createOptimizer(gx.adam(0.1), p);
      try {
        opt.step(g, 42 as never);
      } finally {
        opt.dispose();
      }
    }),
    expect: /step's `extraArgs` must be an object/,
  },
  {
    category: 'params and grads',
    what: 'a consumed param',
    run: withTensors((p, g) => {
      const tx = gx.adam(0.1);
      const [p2, s2] = gx.fusedUpdate(tx, g, tx.init(p), p, { donate: true });
      try {
        return gx.fusedUpdate(tx, g, s2, p, { donate: true });
      } finally {
        disposeTree([p2, s2]);
      }
    }),
    expect: /has been consumed/,
  },
];

/** Classifies one probe: what it threw (or not) and whether tensors were left behind. */
function classify(p: Probe): { outcome: Outcome; message: string } {
  const before = tf.memory().numTensors;
  let outcome: Outcome = 'silent';
  let message = '';
  try {
    p.run();
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
    if (e instanceof TypeError || e instanceof RangeError || !(e instanceof Error)) outcome = 'crash';
    else outcome = p.expect.test(message) ? 'clear' : 'vague';
  }
  if (outcome === 'clear' && tf.memory().numTensors !== before) outcome = 'leak';
  return { outcome, message };
}

describe('bad inputs', () => {
  it('give a clear error and leak nothing, in every category', async () => {
    const probes = [...optionProbes, ...hyperProbes, ...scheduleProbes, ...stateProbes, ...treeProbes];
    const table = new Map<string, Record<Outcome, number>>();
    const failures: string[] = [];
    for (const p of probes) {
      const { outcome, message } = classify(p);
      const row = table.get(p.category) ?? { clear: 0, vague: 0, crash: 0, silent: 0, leak: 0 };
      row[outcome]++;
      table.set(p.category, row);
      if (outcome !== 'clear') failures.push(`${p.category} / ${p.what}: ${outcome} (${message})`);
    }
    // checkpoints: a valid artifact with one field spoiled each way
    const tx = gx.adam(0.1);
    const pp = params();
    const state = tx.init(pp);
    const a = await saveState(state);
    const spoilt: [string, unknown, RegExp][] = [
      ['weightData a Buffer view', { ...a, weightData: Buffer.from(new Uint8Array(a.weightData)).subarray(0) }, /^$/],
      ['truncated data', { ...a, weightData: a.weightData.slice(0, 4) }, /^loadState: weight spec \d+ .*truncated/],
      [
        'quantization',
        { ...a, weightSpecs: a.weightSpecs.map((s) => ({ ...s, quantization: { dtype: 'uint8' } })) },
        /`quantization` field/,
      ],
      ['string spec', { ...a, weightSpecs: [...a.weightSpecs, { name: 'x', shape: [1e9], dtype: 'string' }] }, /has dtype string 'string'/],
      ['null spec', { ...a, weightSpecs: [...a.weightSpecs, null] }, /must be \{ name, shape, dtype \}, got null/],
      ['flipped byte', { ...a, weightData: new Uint8Array(a.weightData.byteLength).fill(7).buffer }, /checksum/],
      ['modelTopology a number', { ...a, modelTopology: 5 }, /modelTopology must be the object saveState writes/],
      ['version 99', { ...a, modelTopology: { ...a.modelTopology, version: 99 } }, /format version 99/],
    ];
    const row = { clear: 0, vague: 0, crash: 0, silent: 0, leak: 0 };
    for (const [what, artifacts, pattern] of spoilt) {
      const before = tf.memory().numTensors;
      let outcome: Outcome = 'silent';
      let message = '';
      try {
        const s = gx.loadState(artifacts as never, tx, pp);
        disposeTree(s);
        // the Buffer view is valid: it must load (exactly, see the checkpoint tests)
        if (what.includes('Buffer')) outcome = 'clear';
      } catch (e) {
        message = (e as Error).message;
        outcome = e instanceof TypeError || e instanceof RangeError ? 'crash' : pattern.test(message) ? 'clear' : 'vague';
      }
      if (tf.memory().numTensors !== before) outcome = 'leak';
      row[outcome]++;
      if (outcome !== 'clear') failures.push(`checkpoints / ${what}: ${outcome} (${message})`);
    }
    table.set('checkpoints', row);
    disposeTree([pp, state]);
    console.log(
      ['category            clear vague crash silent leak']
        .concat(
          [...table].map(
            ([c, r]) => `${c.padEnd(20)}${[r.clear, r.vague, r.crash, r.silent, r.leak].map((n) => String(n).padStart(6)).join('')}`,
          ),
        )
        .join('\n'),
    );
    expect(failures).toEqual([]);
  });
});
