// Conformance with optax 0.2.8's optax.contrib: every case of
// fixtures/optax-contrib.json (made by fixtures/generate_optax_contrib.py
// from real optax), replayed step by step through `tx.update` +
// `applyUpdates` (updates and params at every step), and through
// `createOptimizer(tx, params)` + `opt.step` on the tfjs cpu and wasm
// backends (params at every step), where element-wise transforms run fused.
import { createRequire } from 'node:module';
import * as core from '@gradtx/core';
import { fusedStats } from '@gradtx/core';
import {
  buildTransformation,
  compare,
  decodeTree,
  disposeTree,
  type FixtureTree,
  readFixture,
  replay,
  replayOptimizer,
  type StepCase,
} from '@gradtx/core/testing';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as contrib from '../index.js';
import { contribTolerance } from './tolerances.js';

const fixture = readFixture<StepCase>('optax-contrib.json', new URL('../../fixtures/', import.meta.url));
const MODULES = [contrib, core] as unknown as Record<string, unknown>[];
/** The families whose optimizers do not fuse (they run on the reference path). */
const REFERENCE_ONLY = new Set<string>(['scheduleFree', 'parameterFree', 'momo', 'plateau']);

describe(`optax.contrib conformance: tx.update (${fixture.source})`, () => {
  it('has a case for every function @gradtx/contrib exports', () => {
    const named = new Set<string>();
    const visit = (e: unknown): void => {
      if (Array.isArray(e)) e.forEach(visit);
      else if (e !== null && typeof e === 'object') {
        const tx = (e as { tx?: unknown }).tx;
        if (typeof tx === 'string') named.add(tx);
        Object.values(e).forEach(visit);
      }
    };
    for (const c of fixture.cases) visit(c.gradtx);
    named.add('scheduleFreeEvalParams'); // not a transformation: checked by the evalParams cases below
    const exported = Object.entries(contrib)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.filter((name) => !named.has(name))).toEqual([]);
  });
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => replay(c, contribTolerance(c.family), MODULES));
  }
});

/** The stages of `tx` the fused engine cannot compile (they run on the reference path between fused runs). */
function opaqueStages(tx: core.GradientTransformation): number {
  const f = tx.fusion;
  if (f === undefined) return 1;
  if (f.kind === 'elementwise') return 0;
  if (f.kind === 'chain') return f.parts.reduce((n, part) => n + opaqueStages(part), 0);
  return 1; // a lowering combinator (injectHyperparams, multiSteps): a stage of its own, fused step by step
}

/** A case that also records optax's schedule_free_eval_params after every step. */
type EvalCase = StepCase & { evalParams?: FixtureTree[] };

/** Replays a schedule-free case and compares `scheduleFreeEvalParams(state, params)` after every step. */
function replayEvalParams(c: EvalCase): void {
  const before = tf.memory().numTensors;
  const tx = buildTransformation(c, MODULES);
  let params = decodeTree(c.params) as core.Params;
  let state: unknown = tx.init(params);
  c.grads.forEach((g, i) => {
    const grads = decodeTree(g) as core.Updates;
    const [updates, next] = tx.update(grads, state, params);
    const newParams = core.applyUpdates(params, updates);
    const evalParams = contrib.scheduleFreeEvalParams(next, newParams);
    compare(`step ${i} eval params`, evalParams, c.evalParams![i]!, contribTolerance(c.family).params);
    disposeTree([grads, updates, params, state, evalParams]);
    [params, state] = [newParams, next];
  });
  disposeTree([params, state]);
  expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
}

describe('optax.contrib conformance: scheduleFreeEvalParams', () => {
  const cases = (fixture.cases as EvalCase[]).filter((c) => c.evalParams !== undefined);
  it('has schedule-free cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) it(c.id, () => replayEvalParams(c));
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`optax.contrib conformance: createOptimizer on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'wasm') {
        setWasmPaths(
          createRequire(import.meta.url)
            .resolve('@tensorflow/tfjs-backend-wasm')
            .replace(/[^/\\]*$/, ''),
        );
      }
      await tf.setBackend(backend);
      expect(tf.getBackend()).toBe(backend);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    for (const c of fixture.cases) {
      const fuses = !REFERENCE_ONLY.has(c.family);
      it(`${c.id}${fuses ? ' (fused)' : ''}`, () => {
        // the optimizer's own stages are element-wise (a weight-decay mask is the one opaque stage allowed)
        const opaque = opaqueStages(buildTransformation(c, MODULES));
        if (fuses) expect(opaque).toBe(JSON.stringify(c.gradtx).includes('"mask"') ? 1 : 0);
        else expect(opaque).toBeGreaterThan(0);
        const [fused, reference] = [fusedStats.fused + fusedStats.fast, fusedStats.reference];
        replayOptimizer(c, contribTolerance(c.family).params, MODULES);
        // every step went through the fused engine (with the opaque stages on the reference path between fused runs)
        expect(fusedStats.fused + fusedStats.fast - fused).toBe(c.grads.length);
        expect(fusedStats.reference - reference).toBe(0);
      });
    }
  });
}
