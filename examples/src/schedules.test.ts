import { describe, expect, it } from 'vitest';
import { galleryChart, restartsGallery, sample, warmupGallery } from './schedules.js';
import { parseXml } from './test-utils/xml.js';

describe('schedules example', () => {
  const steps = 1000;
  const byName = (entries: ReturnType<typeof warmupGallery>) => Object.fromEntries(entries.map((e) => [e.name, e.schedule]));

  it('warmup-cosine rises linearly to the peak and decays to its end value', () => {
    const s = byName(warmupGallery(steps)).scheduleWarmupCosine as (c: number) => number;
    expect(s(0)).toBe(0);
    expect(s(50)).toBeCloseTo(0.5, 12);
    expect(s(100)).toBeCloseTo(1, 12);
    expect(s(999)).toBeGreaterThan(0.05);
    expect(s(1000)).toBeCloseTo(0.05, 12);
  });

  it('the one-cycle schedules start at peak/25 and peak at 30% of the cycle', () => {
    const g = byName(warmupGallery(steps));
    for (const name of ['scheduleLinearOnecycle', 'scheduleCosineOnecycle']) {
      const s = g[name] as (c: number) => number;
      expect(s(0)).toBeCloseTo(1 / 25, 12);
      expect(s(300)).toBeCloseTo(1, 12);
      expect(s(1000)).toBeCloseTo(1 / 25 / 1e4, 12);
    }
  });

  it('SGDR restarts every 250 steps with lower peaks; the staircase decay is flat between jumps', () => {
    const g = byName(restartsGallery(steps));
    const sgdr = g['scheduleSgdr (4 cycles)'] as (c: number) => number;
    expect([0, 25, 250, 275, 525, 775].map(sgdr)).toEqual([0, 1, 0, 0.8, 0.6, 0.4].map((v) => expect.closeTo(v, 12)));
    const stairs = sample(g['scheduleExponentialDecay, staircase'] as (c: number) => number, steps);
    expect(new Set(stairs.slice(0, 125)).size).toBe(1);
    expect(stairs[125]).toBeCloseTo(0.6, 12);
    expect(stairs[999]).toBeCloseTo(0.6 ** 7, 12);
  });

  it('draws both charts as valid SVG with one series per schedule', () => {
    for (const entries of [warmupGallery(steps), restartsGallery(steps)]) {
      const els = parseXml(galleryChart('t', entries, steps));
      expect(els.filter((e) => e.attrs.class === 'series').map((e) => e.attrs['data-name'])).toEqual(entries.map((e) => e.name));
    }
  });
});
