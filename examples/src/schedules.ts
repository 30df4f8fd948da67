/**
 * A gallery of learning-rate schedules from `@gradtx/schedules`, sampled at
 * every step and drawn as two charts: warmup and one-cycle shapes, then
 * restarts and step decays. Every schedule is a plain `(count) => number`,
 * so sampling one is just calling it.
 */
import {
  type Schedule,
  scheduleCosineOnecycle,
  scheduleExponentialDecay,
  scheduleLinearOnecycle,
  scheduleSgdr,
  scheduleWarmupCosine,
} from '@gradtx/schedules';
import { lineChart } from './plot.js';

/** A named schedule with the code that builds it (shown in the docs). */
export interface GalleryEntry {
  name: string;
  code: string;
  schedule: Schedule;
  dashed?: boolean;
}

/** The schedules of the first chart: warmup then decay, and the two one-cycle policies, all peaking at 1. */
export function warmupGallery(steps: number): GalleryEntry[] {
  return [
    {
      name: 'scheduleWarmupCosine',
      code: `scheduleWarmupCosine({ initValue: 0, peakValue: 1, warmupSteps: ${steps / 10}, decaySteps: ${steps}, endValue: 0.05 })`,
      schedule: scheduleWarmupCosine({ initValue: 0, peakValue: 1, warmupSteps: steps / 10, decaySteps: steps, endValue: 0.05 }),
    },
    {
      name: 'scheduleLinearOnecycle',
      code: `scheduleLinearOnecycle({ transitionSteps: ${steps}, peakValue: 1 })`,
      schedule: scheduleLinearOnecycle({ transitionSteps: steps, peakValue: 1 }),
    },
    {
      name: 'scheduleCosineOnecycle',
      code: `scheduleCosineOnecycle({ transitionSteps: ${steps}, peakValue: 1 })`,
      schedule: scheduleCosineOnecycle({ transitionSteps: steps, peakValue: 1 }),
    },
  ];
}

/** The schedules of the second chart: warm restarts and exponential decay, smooth and in steps. */
export function restartsGallery(steps: number): GalleryEntry[] {
  const cycle = steps / 4;
  const cycles = [1, 0.8, 0.6, 0.4].map((peak) => ({ initValue: 0, peakValue: peak, warmupSteps: cycle / 10, decaySteps: cycle }));
  return [
    {
      name: 'scheduleSgdr (4 cycles)',
      code: `scheduleSgdr([1, 0.8, 0.6, 0.4].map((peak) => ({ initValue: 0, peakValue: peak, warmupSteps: ${cycle / 10}, decaySteps: ${cycle} })))`,
      schedule: scheduleSgdr(cycles),
    },
    {
      name: 'scheduleExponentialDecay, staircase',
      code: `scheduleExponentialDecay({ initValue: 1, transitionSteps: ${steps / 8}, decayRate: 0.6, staircase: true })`,
      schedule: scheduleExponentialDecay({ initValue: 1, transitionSteps: steps / 8, decayRate: 0.6, staircase: true }),
    },
    {
      name: 'scheduleExponentialDecay, smooth',
      code: `scheduleExponentialDecay({ initValue: 1, transitionSteps: ${steps / 8}, decayRate: 0.6 })`,
      schedule: scheduleExponentialDecay({ initValue: 1, transitionSteps: steps / 8, decayRate: 0.6 }),
      dashed: true,
    },
  ];
}

/** The values of `schedule` at counts 0, 1, ..., steps - 1. */
export function sample(schedule: Schedule, steps: number): number[] {
  return Array.from({ length: steps }, (_, count) => schedule(count));
}

/** One chart of a gallery. */
export function galleryChart(title: string, entries: GalleryEntry[], steps: number, logY = false): string {
  const x = Array.from({ length: steps }, (_, i) => i);
  return lineChart({
    title,
    subtitle: `${steps} steps; the value at count t is the learning-rate multiplier of update t + 1`,
    xLabel: 'count (step)',
    yLabel: 'value',
    logY,
    yMin: logY ? undefined : 0,
    yMax: logY ? undefined : 1.15,
    legend: 'top-right',
    series: entries.map((e) => ({ name: e.name, x, y: sample(e.schedule, steps), dashed: e.dashed })),
  });
}
