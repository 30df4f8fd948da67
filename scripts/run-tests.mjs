#!/usr/bin/env node
// Runs every workspace package's tests (vitest, one package at a time), then
// adds up their JSON reports and prints the line CI reads last:
// `N passed, N failed[, N skipped]`. Exits non-zero on any failure, on a
// package whose runner crashed, or when no test ran at all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const groups = ['packages', 'examples', 'docs', 'bench'];
const dirs = groups.flatMap((g) => {
  const base = join(root, g);
  if (!existsSync(base)) return [];
  if (existsSync(join(base, 'package.json'))) return [base];
  return readdirSync(base)
    .map((d) => join(base, d))
    .filter((d) => existsSync(join(d, 'package.json')));
});

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  const report = join(dir, 'reports', 'vitest.json');
  rmSync(report, { force: true });
  console.log(`\n=== ${pkg.name}: ${pkg.scripts.test}`);
  const run = spawnSync('pnpm', ['run', 'test'], { cwd: dir, stdio: 'inherit' });
  if (!existsSync(report)) {
    problems.push(`${pkg.name}: no test report (exit ${run.status})`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  if (run.status !== 0 && r.numFailedTests === 0) {
    problems.push(`${pkg.name}: the runner exited ${run.status} (a file failed to load?)`);
    failed += Math.max(1, r.numFailedTestSuites ?? 0);
  }
}
// The release check packs every package, installs the tarballs outside the
// workspace and imports them; it writes a report in vitest's JSON shape.
{
  const report = join(root, 'release-check', 'reports', 'vitest.json');
  rmSync(report, { force: true });
  console.log('\n=== release check: node scripts/release-check.mjs');
  const run = spawnSync('node', ['scripts/release-check.mjs'], { cwd: root, stdio: 'inherit' });
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    if (run.status !== 0 && r.numFailedTests === 0) {
      problems.push(`release check: exited ${run.status}`);
      failed += 1;
    }
  } else {
    problems.push(`release check: no report (exit ${run.status})`);
    failed += 1;
  }
}
for (const p of problems) console.log(`problem: ${p}`);
if (passed + failed === 0) {
  console.log('no test ran');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
