#!/usr/bin/env node
// Release check: the packages as a user gets them from npm. Builds, packs
// every publishable package of packages/ with `pnpm pack` (which rewrites
// `workspace:` ranges), installs the tarballs with the real registry peers
// into a scratch npm project OUTSIDE the workspace (os.tmpdir()), imports
// every package as ESM, runs release-check/smoke.mjs (3 adam steps with a
// schedule on the cpu backend, checked against JS doubles) and type-checks
// release-check/types-check.ts with the workspace's TypeScript.
//
// Prints one line per check and `N passed, N failed` last; writes
// release-check/reports/vitest.json in the shape of vitest's JSON reporter
// (numPassedTests, numFailedTests, numPendingTests, numTodoTests,
// numFailedTestSuites, ...); exits 1 on any failure, keeping the scratch
// project for inspection.
//
// Usage: node scripts/release-check.mjs [--keep] [--only=@gradtx/a,@gradtx/b]
// (--keep keeps the scratch project; --only limits the check to some
// packages, for debugging: CI runs it on all of them.)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const here = join(root, 'release-check');
const reportFile = join(here, 'reports', 'vitest.json');
const keep = process.argv.includes('--keep');
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice('--only='.length).split(',').filter(Boolean) : null;
const TFJS = '4.22.0';
const started = Date.now();

/** @type {{ name: string, status: 'passed' | 'failed', message: string, ms: number }[]} */
const results = [];

function record(name, status, message = '', ms = 0) {
  results.push({ name, status, message, ms });
  const mark = status === 'passed' ? '✓' : '✗';
  console.log(`${mark} ${name}${message ? `\n    ${message.split('\n').join('\n    ')}` : ''}`);
}

/** Runs `fn` as one check; a thrown error fails it with the error's message. */
function check(name, fn) {
  const t0 = Date.now();
  try {
    fn();
    record(name, 'passed', '', Date.now() - t0);
    return true;
  } catch (e) {
    record(name, 'failed', e instanceof Error ? e.message : String(e), Date.now() - t0);
    return false;
  }
}

/** Runs a command; throws with its last output lines when it fails. Returns stdout. */
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false' },
    ...options,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.trim() !== '' && !/Unknown user config "nodedir"/.test(l))
      .slice(-25)
      .join('\n');
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${r.status}:\n${tail}`);
  }
  return r.stdout ?? '';
}

function writeReport() {
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  const report = {
    numTotalTestSuites: 1,
    numPassedTestSuites: failed === 0 ? 1 : 0,
    numFailedTestSuites: failed === 0 ? 0 : 1,
    numPendingTestSuites: 0,
    numTotalTests: results.length,
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: 0,
    numTodoTests: 0,
    startTime: started,
    success: failed === 0,
    testResults: [
      {
        name: join(root, 'scripts', 'release-check.mjs'),
        status: failed === 0 ? 'passed' : 'failed',
        startTime: started,
        endTime: Date.now(),
        message: '',
        assertionResults: results.map((r) => ({
          ancestorTitles: ['release check'],
          fullName: `release check ${r.name}`,
          title: r.name,
          status: r.status,
          duration: r.ms,
          failureMessages: r.status === 'failed' ? [r.message] : [],
        })),
      },
    ],
  };
  mkdirSync(join(here, 'reports'), { recursive: true });
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  return { passed, failed };
}

// ---------------------------------------------------------------------------
// 1. build

const packageDirs = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')));
const manifests = packageDirs.map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));
const publishable = manifests.filter(({ pkg }) => pkg.private !== true && (only === null || only.includes(pkg.name)));
if (only !== null) {
  const unknown = only.filter((n) => !manifests.some(({ pkg }) => pkg.name === n));
  if (unknown.length > 0) throw new Error(`--only names packages that are not in packages/: ${unknown.join(', ')}`);
  console.log(`(checking only ${only.join(', ')})`);
}

const filters = only === null ? ['--filter=./packages/*'] : only.map((n) => `--filter=${n}`);
const built = check(`build the packages (turbo run build ${filters.join(' ')})`, () => {
  run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], { cwd: root });
});

// ---------------------------------------------------------------------------
// 2. pack, and check what was packed

const scratch = mkdtempSync(join(tmpdir(), 'gradtx-release-check-'));
const tarDir = join(scratch, 'tarballs');
mkdirSync(tarDir);
/** @type {Map<string, string>} name -> tarball */
const tarballs = new Map();
const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

for (const { dir, pkg } of built ? publishable : []) {
  let packed;
  const ok = check(`${pkg.name}: pnpm pack`, () => {
    const out = run('pnpm', ['pack', '--json', '--pack-destination', tarDir], { cwd: dir });
    packed = JSON.parse(out.slice(out.indexOf('{')));
    if (!existsSync(packed.filename)) throw new Error(`no tarball at ${packed.filename}`);
    tarballs.set(pkg.name, packed.filename);
  });
  if (!ok) continue;
  const files = new Set(packed.files.map((f) => f.path));

  check(`${pkg.name}: the packed package.json has no workspace: ranges`, () => {
    const manifest = JSON.parse(run('tar', ['-xzOf', packed.filename, 'package/package.json']));
    const bad = [];
    for (const field of DEP_FIELDS) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        if (String(range).startsWith('workspace:') || String(range).startsWith('link:') || String(range).startsWith('file:')) {
          bad.push(`${field}.${dep} = ${range}`);
        }
      }
    }
    if (bad.length > 0) throw new Error(`left in the tarball: ${bad.join(', ')}`);
    // the internal ranges now name the workspace versions
    for (const field of DEP_FIELDS) {
      for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
        if (!String(range).startsWith('workspace:') || field === 'devDependencies') continue;
        const target = manifests.find((m) => m.pkg.name === dep);
        const packedRange = manifest[field][dep];
        if (!target || !packedRange.includes(target.pkg.version)) {
          throw new Error(`${field}.${dep}: packed as ${packedRange}, which does not name ${dep}'s version ${target?.pkg.version}`);
        }
      }
    }
    if (manifest.version !== pkg.version || manifest.name !== pkg.name) throw new Error(`packed as ${manifest.name}@${manifest.version}`);
  });

  check(`${pkg.name}: the tarball has its entry points and files, and no tests or sources`, () => {
    const problems = [];
    const targets = new Set([pkg.main, pkg.types, pkg.module].filter(Boolean));
    const walk = (e) => {
      if (typeof e === 'string') targets.add(e);
      else if (e && typeof e === 'object') Object.values(e).forEach(walk);
    };
    walk(pkg.exports);
    for (const t of targets) if (!files.has(t.replace(/^\.\//, ''))) problems.push(`missing entry point ${t}`);
    for (const f of pkg.files ?? []) {
      const clean = f.replace(/^\.\//, '').replace(/\/$/, '');
      if (![...files].some((p) => p === clean || p.startsWith(`${clean}/`)))
        problems.push(`\`files\` names ${f}, which is not in the tarball (missing?)`);
    }
    // test-utils ships only behind a public `./testing` entry point, which re-exports its helpers.
    const shipsTestUtils = pkg.exports?.['./testing'] !== undefined;
    for (const p of files) {
      const testUtils = /(^|\/)test-utils\//.test(p) && !shipsTestUtils;
      if (/(^|\/)src\//.test(p) || /\.test\.|\.spec\./.test(p) || testUtils) problems.push(`ships ${p}`);
    }
    if (!files.has('package.json')) problems.push('no package.json');
    if (problems.length > 0) throw new Error(problems.join('\n'));
  });
}

// ---------------------------------------------------------------------------
// 3. a scratch npm project outside the workspace

const project = join(scratch, 'project');
mkdirSync(project);
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'gradtx-release-check', private: true, type: 'module' }, null, 2)}\n`,
);
const allPacked = publishable.length > 0 && publishable.every(({ pkg }) => tarballs.has(pkg.name));
// the test runner, an optional peer of `@gradtx/core` that its `./testing` subpath needs, so every subpath can load
// (tfjs-node, node-gpu's optional peer, needs a native build and stays out)
const SUBPATH_PEERS = ['vitest'];
const optionalPeers = new Set();
for (const { pkg } of publishable) {
  for (const name of SUBPATH_PEERS) {
    const range = pkg.peerDependencies?.[name];
    if (range !== undefined) optionalPeers.add(`${name}@${range}`);
  }
}
const installed =
  allPacked &&
  check(
    `npm install the ${tarballs.size} tarballs with @tensorflow/tfjs-core@${TFJS} and @tensorflow/tfjs-backend-cpu@${TFJS}${optionalPeers.size > 0 ? ` (and ${[...optionalPeers].join(', ')})` : ''} from the registry`,
    () => {
      run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          ...[...tarballs.values()],
          `@tensorflow/tfjs-core@${TFJS}`,
          `@tensorflow/tfjs-backend-cpu@${TFJS}`,
          ...optionalPeers,
        ],
        { cwd: project },
      );
    },
  );
if (!allPacked) record('npm install the tarballs', 'failed', 'not run: a package failed to build or pack');

if (installed) {
  check('npm ls: no missing, invalid or extraneous dependency', () => {
    run('npm', ['ls', '--all'], { cwd: project });
  });

  for (const { pkg } of publishable) {
    // the main entry and every subpath export (`@gradtx/core/engine`, ...)
    const subpaths =
      typeof pkg.exports === 'object' && pkg.exports !== null ? Object.keys(pkg.exports).filter((k) => k.startsWith('./')) : [];
    for (const specifier of [pkg.name, ...subpaths.map((k) => `${pkg.name}/${k.slice(2)}`)]) {
      check(`${specifier}: imports as ESM from the installed tarball`, () => {
        const code = `const m = await import(${JSON.stringify(specifier)}); const n = Object.keys(m).length; if (n === 0) throw new Error('no exports'); const url = import.meta.resolve(${JSON.stringify(specifier)}); if (!url.includes('/node_modules/')) throw new Error('resolved outside node_modules: ' + url); console.log(n);`;
        run(process.execPath, ['--input-type=module', '-e', code], { cwd: project });
      });
    }
  }

  copyFileSync(join(here, 'smoke.mjs'), join(project, 'smoke.mjs'));
  let smoke = null;
  const ran = check('release-check/smoke.mjs runs', () => {
    const out = run(process.execPath, ['smoke.mjs'], { cwd: project });
    smoke = JSON.parse(out.trim().split('\n').pop());
  });
  if (ran) {
    for (const c of smoke.checks) {
      check(`smoke: ${c.name}`, () => {
        if (!c.ok) throw new Error(c.detail);
      });
    }
  }

  const names = publishable.map(({ pkg }) => pkg.name);
  const specific = ['@gradtx/core', '@gradtx/schedules', '@gradtx/node-gpu'].every((n) => names.includes(n));
  check(
    `the .d.ts types resolve: tsc --noEmit (strict) on an import of every package${specific ? ' and release-check/types-check.ts' : ''}`,
    () => {
      // every package's types, under strict (a package without types is an error: TS7016)
      const imports = names.map((n, i) => `import * as p${i} from ${JSON.stringify(n)};`).join('\n');
      const uses = names.map((_, i) => `p${i}`).join(', ');
      writeFileSync(join(project, 'imports-check.ts'), `${imports}\nexport const all: readonly object[] = [${uses}];\n`);
      const files = ['imports-check.ts'];
      if (specific) {
        copyFileSync(join(here, 'types-check.ts'), join(project, 'types-check.ts'));
        files.push('types-check.ts');
      }
      const tsconfig = {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // tfjs 4.22's own typings need it; the packages' .d.ts are still read for the types they give
          skipLibCheck: true,
          types: [],
          lib: ['ES2022', 'DOM'],
        },
        files,
      };
      writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project });
    },
  );
}

// ---------------------------------------------------------------------------

const { passed, failed } = writeReport();
if (failed === 0 && !keep) rmSync(scratch, { recursive: true, force: true });
else console.log(`scratch project kept at ${scratch}`);
console.log(`release check: ${Math.round((Date.now() - started) / 1000)} s; report in ${relative(root, reportFile)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
