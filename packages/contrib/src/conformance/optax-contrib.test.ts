// Conformance with optax 0.2.8's optax.contrib: every case of
// fixtures/optax-contrib.json (made by fixtures/generate_optax_contrib.py
// from real optax), replayed step by step through `tx.update` +
// `applyUpdates` (updates and params at every step), and through
// `createOptimizer(tx, params)` + `opt.step` on the tfjs cpu and wasm
// backends (params at every step), where element-wise transforms run fused.
import { createRequire } from 'node:module';
import * as core from '@gradtx/core';
import { fusedStats } from '@gradtx/core';
import { readFixture, replay, replayOptimizer, type StepCase } from '@gradtx/core/testing';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as contrib from '../index.js';
import { contribTolerance } from './tolerances.js';

const fixture = readFixture<StepCase>('optax-contrib.json', new URL('../../fixtures/', import.meta.url));
const MODULES = [contrib, core] as unknown as Record<string, unknown>[];
/** The families whose optimizers do not fuse (they run on the reference path). */
const REFERENCE_ONLY = new Set<string>([]);

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
    const exported = Object.entries(contrib)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.filter((name) => !named.has(name))).toEqual([]);
  });
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => replay(c, contribTolerance(c.family), MODULES));
  }
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
        const [fused, reference] = [fusedStats.fused + fusedStats.fast, fusedStats.reference];
        replayOptimizer(c, contribTolerance(c.family).params, MODULES);
        // every step of an element-wise optimizer ran fused; the others on the reference path
        expect(fusedStats.fused + fusedStats.fast - fused).toBe(fuses ? c.grads.length : 0);
        expect(fusedStats.reference - reference).toBe(fuses ? 0 : c.grads.length);
      });
    }
  });
}
