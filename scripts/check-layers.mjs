#!/usr/bin/env node
// Checks the layer order of @gradtx/core's sources: every relative import of a
// module (tests, test helpers and the conformance suite aside) goes to the same
// layer or one below it, and the import graph has no cycle.
//
//   node scripts/check-layers.mjs [srcDir]     (default packages/core/src)
//
// Prints "layers ok: N modules, M imports" and exits 0, or lists each
// offending import (or cycle) and exits 1.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The layers, ground floor first: a module may import only from its own layer or a lower one. */
export const LAYERS = [
  ['lang/'], // the per-element language: spec, Ops, reference evaluation, tracer, reductions, moments
  ['tree.ts'],
  ['base.ts'],
  [
    'validate.ts',
    'tree-utils.ts',
    'tree-inspect.ts',
    'tree-moments.ts',
    'tree-random.ts',
    'seeds.ts',
    'microbatching.ts',
    'multi-normal.ts',
    'matrix-inverse-root.ts',
    'numerics.ts',
    'linear-algebra.ts',
    'scale-gradient.ts',
    'lowering.ts',
  ],
  ['update.ts', 'combine.ts', 'elementwise.ts', 'packed-state.ts', 'gradients.ts', 'learning-rate.ts'],
  ['transforms/', 'combinators/', 'projections/'],
  ['aliases.ts', 'precision.ts'], // precision.ts rewrites a transformation's element-wise stages for precision 'fast'
  ['fused/'], // the engine: plan, step, replay, the device contract and registry
  ['fused/devices/'], // the built-in devices, which register through the engine's one door
  ['interop/', 'optimizer.ts', 'stepper.ts', 'step-report.ts', 'tfjs-version.ts', 'node/'],
  ['index.ts', 'engine.ts', 'testing.ts'], // the package's entry points
];

function layerOf(path) {
  let best = -1;
  let bestLen = -1;
  LAYERS.forEach((prefixes, i) => {
    for (const p of prefixes) {
      const hit = p.endsWith('/') ? path.startsWith(p) : path === p;
      if (hit && p.length > bestLen) {
        best = i;
        bestLen = p.length;
      }
    }
  });
  return best;
}

function sources(root, dir = root) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const rel = relative(root, full).split('\\').join('/');
    if (statSync(full).isDirectory()) {
      if (rel === 'test-utils' || rel === 'conformance') continue;
      out.push(...sources(root, full));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** The problems of the sources under `root`: upward imports, unlisted modules and cycles. */
export function checkLayers(root) {
  const files = sources(root);
  const problems = [];
  const graph = new Map();
  let imports = 0;
  for (const file of files) {
    const layer = layerOf(file);
    if (layer < 0) problems.push(`${file}: not in any layer (add it to LAYERS in scripts/check-layers.mjs)`);
    const text = readFileSync(join(root, file), 'utf8');
    const deps = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      const target = relative(root, resolve(dirname(join(root, file)), spec.replace(/\.js$/, '.ts')))
        .split('\\')
        .join('/');
      if (!existsSync(join(root, target))) continue;
      imports++;
      deps.push(target);
      const to = layerOf(target);
      if (layer >= 0 && to > layer) problems.push(`${file} (layer ${layer}) imports ${target} (layer ${to}): an upward import`);
    }
    graph.set(file, deps);
  }
  // cycles: depth-first search with colours
  const colour = new Map();
  const stack = [];
  const visit = (f) => {
    colour.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (colour.get(d) === 1) problems.push(`cycle: ${[...stack.slice(stack.indexOf(d)), d].join(' -> ')}`);
      else if (!colour.has(d)) visit(d);
    }
    stack.pop();
    colour.set(f, 2);
  };
  for (const f of graph.keys()) if (!colour.has(f)) visit(f);
  return { problems, modules: files.length, imports };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(process.argv[2] ?? join(here, '..', 'packages', 'core', 'src'));
  const { problems, modules, imports } = checkLayers(root);
  if (problems.length > 0) {
    for (const p of problems) console.error(p);
    process.exit(1);
  }
  console.log(`layers ok: ${modules} modules, ${imports} imports`);
}
