// Conformance with optax 0.2.8: the cases of fixtures/optax-aliases.json (made by
// fixtures/generate_optax.py), one test per case, replayed step by step on
// the tfjs cpu backend.
import { describe, it } from 'vitest';
import { readFixture, replay, type StepCase } from './loader.js';
import { optaxTolerance } from './tolerances.js';

const fixture = readFixture<StepCase>('optax-aliases.json');

describe(`optax conformance: aliases (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => replay(c, optaxTolerance(c.family)));
  }
});
