// Conformance with optax 0.2.8 schedules: the cases of
// fixtures/optax-schedules.json (made by fixtures/generate_optax.py), one
// test per schedule, each evaluated at ~25 counts.
import { describe, it } from 'vitest';
import { readFixture, replaySchedule, type ScheduleCase } from './loader.js';
import { SCHEDULES } from './tolerances.js';

const fixture = readFixture<ScheduleCase>('optax-schedules.json');

describe(`optax conformance: schedules (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => replaySchedule(c, SCHEDULES));
  }
});
