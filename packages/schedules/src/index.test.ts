import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as schedules from './index.js';

describe('@gradtx/schedules entry point', () => {
  it('exports every optax 0.2.8 schedule under its API.md name, and nothing else', () => {
    expect(Object.keys(schedules).sort()).toEqual(
      [
        'scheduleConstant',
        'scheduleCosineDecay',
        'scheduleCosineOnecycle',
        'scheduleExponentialDecay',
        'scheduleJoin',
        'scheduleLinear',
        'scheduleLinearOnecycle',
        'schedulePiecewiseConstant',
        'schedulePiecewiseInterpolate',
        'schedulePolynomial',
        'scheduleSgdr',
        'scheduleWarmupConstant',
        'scheduleWarmupCosine',
        'scheduleWarmupExponential',
      ].sort(),
    );
  });

  it('has no tfjs (or any other package) import in its sources', () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(8);
    for (const file of sources) {
      const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) expect(spec, `${file} imports ${spec}`).toMatch(/^\.\/[\w-]+\.js$/);
    }
  });

  it('schedules are plain functions returning JS numbers', () => {
    const s: schedules.Schedule = schedules.scheduleWarmupCosine({ initValue: 0, peakValue: 1, warmupSteps: 2, decaySteps: 6 });
    expect(typeof s).toBe('function');
    expect(typeof s(3)).toBe('number');
  });
});
