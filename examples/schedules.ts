/**
 * A gallery of `@gradtx/schedules`: warmup-cosine, the linear and cosine
 * one-cycle policies, SGDR and exponential decay (smooth and staircase),
 * printed at a few counts and plotted to docs/images/schedules-warmup.svg and
 * docs/images/schedules-restarts.svg.
 *
 * Run: pnpm --filter @gradtx/examples schedules
 */
import { writeChart } from './src/plot.js';
import { galleryChart, restartsGallery, warmupGallery } from './src/schedules.js';

const STEPS = 1000;

function main(): void {
  const started = performance.now();
  const counts = [0, 25, 100, 300, 525, 800, 999];
  console.log(`${'schedule'.padEnd(38)}${counts.map((c) => `t=${c}`.padStart(9)).join('')}`);
  const warmup = warmupGallery(STEPS);
  const restarts = restartsGallery(STEPS);
  for (const e of [...warmup, ...restarts]) {
    console.log(`${e.name.padEnd(38)}${counts.map((c) => e.schedule(c).toFixed(4).padStart(9)).join('')}`);
    console.log(`  ${e.code}`);
  }
  const a = writeChart('schedules-warmup.svg', galleryChart('Warmup-cosine and one-cycle schedules', warmup, STEPS));
  const b = writeChart('schedules-restarts.svg', galleryChart('Warm restarts (SGDR) and exponential decay', restarts, STEPS));
  console.log(`wrote ${a} and ${b} (${((performance.now() - started) / 1000).toFixed(2)} s)`);
}

main();
