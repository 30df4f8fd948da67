// Conformance with torch.optim (torch 1.13): the cases of fixtures/torch.json
// (made by fixtures/generate_torch.py), one test per optimizer setting whose
// formulas agree with a gradtx call; params compared after every step. The
// mappings that do not agree are listed in the fixture's "excluded" and in
// fixtures/README.md.
import { describe, it } from 'vitest';
import { readFixture, replay, type StepCase } from './loader.js';
import { TORCH } from './tolerances.js';

const fixture = readFixture<StepCase>('torch.json');

describe(`torch.optim conformance (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.torch} ≈ gradtx ${JSON.stringify(c.gradtx)}`, () => replay(c, TORCH));
  }
});
