// Builds the documentation site (guides + TypeDoc API reference), serves
// docs/site on 127.0.0.1 with node:http, and opens the pages in headless
// Chromium through playwright-core: each guide and the API index must load
// with no console error, no failed request and no HTTP error, every image
// must decode (naturalWidth > 0), and every local link must resolve.
//
// Needs Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`;
// scripts/test.sh installs it) and the packages built (`pnpm build`). Without
// Chromium the test FAILS with a message saying so; it never skips.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGES } from './build.mjs';

const DOCS = dirname(fileURLToPath(import.meta.url));
const SITE = join(DOCS, 'site');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/** Serves `root` read-only; answers 404 for anything outside it or missing. */
function serve(root) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server;
let base;
let context;
let userDataDir;
/**
 * Why the set-up failed, if it did. A throwing `beforeAll` makes vitest
 * report the tests as skipped; instead each test rethrows this, so a missing
 * Chromium or a failed build shows as failed tests with the reason.
 */
let setupError = null;

beforeAll(async () => {
  try {
    await setUp();
  } catch (e) {
    setupError = e;
  }
}, 300_000);

function ready() {
  if (setupError) throw setupError;
}

async function setUp() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The docs site test needs Chromium at ${CHROMIUM} and it is not there. Install it (Debian/Ubuntu: apt-get install chromium; scripts/test.sh does this) and run the test again.`,
    );
  }
  const build = spawnSync(process.execPath, [join(DOCS, 'build.mjs')], { cwd: DOCS, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(
      `node docs/build.mjs failed (exit ${build.status}); build the packages first (pnpm build):\n${build.stdout}\n${build.stderr}`,
    );
  }
  server = await serve(SITE);
  base = `http://127.0.0.1:${server.address().port}`;
  userDataDir = mkdtempSync(join(tmpdir(), 'gradtx-docs-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
}

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** Opens `path` and records every console error, page error, failed request and HTTP error. */
async function open(path) {
  ready();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url || 'no url'})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const response = await page.goto(`${base}/${path}`, { waitUntil: 'load' });
  expect(response?.status(), `status of ${path}`).toBe(200);
  await page.waitForLoadState('networkidle');
  return { page, problems };
}

/** The same-origin links of the page, without their fragments. */
async function localLinks(page) {
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
  return [...new Set(hrefs.filter((h) => h.startsWith(base)).map((h) => h.split('#')[0]))];
}

describe('docs site', () => {
  for (const { file, nav } of PAGES) {
    const path = file.replace(/\.md$/, '.html');
    it(`${path} loads cleanly, its images decode and its links resolve`, async () => {
      const { page, problems } = await open(path);
      try {
        expect(await page.title()).toMatch(/· gradtx$/);
        expect(await page.$eval('nav.side a.current', (a) => a.textContent)).toBe(nav);
        const images = await page.$$eval('img', (imgs) =>
          imgs.map((i) => ({ src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth })),
        );
        const expected = (readFileSync(join(DOCS, file), 'utf8').match(/!\[/g) ?? []).length;
        expect(images.length, 'images on the page').toBe(expected);
        for (const img of images) {
          expect(img.complete, `${img.src} finished loading`).toBe(true);
          expect(img.width, `${img.src} decoded (naturalWidth)`).toBeGreaterThan(0);
        }
        for (const link of await localLinks(page)) {
          const r = await fetch(link);
          expect(r.status, `link ${link}`).toBe(200);
        }
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }

  it('every guide in docs/ is in the navigation', () => {
    const guides = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
    expect(guides.length).toBeGreaterThanOrEqual(14);
    expect(PAGES.map((p) => p.file).sort()).toEqual(guides.sort());
  });

  it('every example plot is shown on some page', () => {
    const shown = new Set(
      PAGES.flatMap(({ file }) => [...readFileSync(join(DOCS, file), 'utf8').matchAll(/\]\(images\/([^)\s]+)/g)].map((m) => m[1])),
    );
    // The SVGs are the examples' plots (examples/*.ts write them); other images may come from elsewhere.
    const files = readdirSync(join(DOCS, 'images')).filter((f) => f.endsWith('.svg'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(shown.has(f), `docs/images/${f} is embedded by a guide`).toBe(true);
  });

  it('guide code is syntax-highlighted at build time', async () => {
    const { page, problems } = await open('getting-started.html');
    try {
      const colours = await page.$$eval('pre.highlighted code span', (spans) => new Set(spans.map((s) => getComputedStyle(s).color)).size);
      expect(colours).toBeGreaterThan(3);
      expect(await page.$$eval('pre.highlighted', (ps) => ps.length)).toBeGreaterThan(3);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the porting guide carries the README name table', async () => {
    const { page, problems } = await open('porting-from-optax.html');
    try {
      const text = await page.textContent('main');
      for (const name of ['scaleByAMSGrad', 'scheduleWarmupCosine', 'multiTransform', 'treeAddScale', 'optimisticGradientDescent']) {
        expect(text).toContain(name);
      }
      expect(text).not.toContain('include:');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the API reference index loads cleanly and lists both packages', async () => {
    const { page, problems } = await open('api/index.html');
    try {
      expect(await page.title()).toMatch(/gradtx/);
      const links = await page.$$eval('a', (as) => as.map((a) => a.textContent?.trim() ?? ''));
      expect(links).toEqual(expect.arrayContaining(['@gradtx/core', '@gradtx/schedules']));
      const images = await page.$$eval('img', (imgs) => imgs.map((i) => i.naturalWidth));
      for (const w of images) expect(w).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    // A page one level down links back to the guides correctly.
    const { page: fn, problems: fnProblems } = await open('api/functions/_gradtx_core.index.adam.html');
    try {
      const guides = await fn.$eval('a.tsd-nav-link', (a) => a.href);
      expect(guides).toBe(`${base}/index.html`);
      expect(fnProblems).toEqual([]);
    } finally {
      await fn.close();
    }
  });

  it('the API reference groups names into categories, renders formulas with local KaTeX and finds optax names in search', async () => {
    const { page, problems } = await open('api/modules/_gradtx_core.index.html');
    try {
      const headings = await page.$$eval('h2.tsd-anchor-link', (hs) => hs.map((h) => h.textContent?.trim()));
      for (const c of ['Optimizers', 'Transforms', 'Combinators', 'Trees', 'Training loop', 'Checkpoints', 'Interop', 'Backends']) {
        expect(headings).toContain(c);
      }
      // search: optax's snake_case name finds the camelCase page (doc comments are indexed)
      await page.click('#tsd-search-trigger');
      await page.fill('#tsd-search-input', 'clip_by_global_norm');
      await page.waitForSelector('#tsd-search-results li a');
      const hits = await page.$$eval('#tsd-search-results li a', (as) => as.map((a) => a.textContent ?? ''));
      expect(hits.some((h) => h.includes('clipByGlobalNorm'))).toBe(true);
      await page.fill('#tsd-search-input', 'scale_by_cocob'); // optax.contrib's name, after the dot in its doc
      await page.waitForFunction(() =>
        [...document.querySelectorAll('#tsd-search-results li a')].some((a) => a.textContent?.includes('scaleByCocob')),
      );
      // the guides are in the search too (as TypeDoc documents, named by file), by name and by content
      for (const [query, title] of [
        ['Migrating', 'migrating-from-tf-train'],
        ['stepsPerEpoch', 'migrating-from-tf-train'],
      ]) {
        await page.fill('#tsd-search-input', query);
        await page.waitForFunction(
          (t) => [...document.querySelectorAll('#tsd-search-results li a')].some((a) => a.textContent?.includes(t)),
          title,
          { timeout: 10_000 },
        );
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    const { page: adam, problems: adamProblems } = await open('api/functions/_gradtx_core.index.scaleByAdam.html');
    try {
      expect(await adam.$$eval('.katex-display', (ds) => ds.length)).toBeGreaterThan(0);
      // KaTeX's own fonts, from the site itself: the formula is typeset, not raw TeX
      const font = await adam.$eval('.katex-display .mord', (e) => getComputedStyle(e).fontFamily);
      expect(font).toMatch(/KaTeX/);
      expect(await adam.textContent('.col-content')).not.toContain('\\frac');
      const offsite = await adam.$$eval('link[href], script[src]', (es) =>
        es.map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? '').filter((u) => /^(https?:)?\/\//.test(u)),
      );
      expect(offsite).toEqual([]);
      const example = await adam.evaluate(() => document.fonts.check('16px KaTeX_Main'));
      expect(example).toBe(true);
      expect(adamProblems).toEqual([]);
    } finally {
      await adam.close();
    }
    const { page: adamw, problems: adamwProblems } = await open('api/functions/_gradtx_core.index.adamw.html');
    try {
      expect(await adamw.textContent('.col-content')).toContain('createOptimizer(adamw(');
      expect(await adamw.$$eval('pre code .hl-0, pre code span', (s) => s.length)).toBeGreaterThan(0); // highlighted
      expect(adamwProblems).toEqual([]);
    } finally {
      await adamw.close();
    }
  });

  it('the playground runs gradtx live: trajectories move, both charts draw, the console stays clean', async () => {
    const { page, problems } = await open('playground.html');
    try {
      await page.waitForFunction(() => window.playground?.steps >= 120, null, { timeout: 60_000 });
      const runs = await page.evaluate(() =>
        window.playground.runs.map((r) => ({ name: r.name, first: r.trajectory[0], last: r.trajectory.at(-1), n: r.trajectory.length })),
      );
      expect(runs.length).toBe(3);
      for (const r of runs) {
        expect(r.n, r.name).toBeGreaterThan(100);
        expect(Math.hypot(r.last[0] - r.first[0], r.last[1] - r.first[1]), `${r.name} moved`).toBeGreaterThan(0.1);
      }
      // both canvases are drawn: many distinct colours (contour bands, curves), not a blank canvas
      for (const id of ['pg-contours', 'pg-losses']) {
        const colours = await page.$eval(`#${id}`, (c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          return seen.size;
        });
        expect(colours, `${id} colours`).toBeGreaterThan(5);
      }
      expect(await page.evaluate(() => window.playground.errors)).toEqual([]);
      expect(await page.textContent('#pg-status')).toMatch(/fused steps [1-9]/);
      // another function and chain run too
      await page.selectOption('#pg-function', 'reddi');
      await page.waitForFunction(() => window.playground.steps >= 300, null, { timeout: 60_000 });
      const reddi = await page.evaluate(() => window.playground.runs.map((r) => [r.name, r.trajectory.at(-1)[0]]));
      const adam = reddi.find(([n]) => n.startsWith('adam'));
      const ams = reddi.find(([n]) => n.startsWith('amsgrad'));
      expect(adam[1]).toBeGreaterThan(ams[1]); // Adam drifts to the worse side, AMSGrad does not
      if (process.env.PLAYGROUND_SCREENSHOT) {
        await page.selectOption('#pg-function', 'rosenbrock');
        await page.waitForFunction(() => window.playground.steps >= 400, null, { timeout: 60_000 });
        await page.locator('.playground').screenshot({ path: process.env.PLAYGROUND_SCREENSHOT });
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
