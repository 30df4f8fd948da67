// Conformance with optax 0.2.8 of the optimizers in fixtures/optax-more.json
// (made by fixtures/generate_optax_more.py): adan, optimistic adam, Polyak
// steps (with the loss `value` as an extra argument of every step) and
// distance over gradients, replayed step by step on the tfjs cpu backend.
// createOptimizer replays the same cases on cpu and wasm (optimizer.test.ts).
import { describe, it } from 'vitest';
import { readFixture, replay, type StepCase } from './loader.js';
import { optaxTolerance } from './tolerances.js';

const fixture = readFixture<StepCase>('optax-more.json');

describe(`optax conformance: more optimizers (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => replay(c, optaxTolerance(c.family)));
  }
});
