#!/usr/bin/env node
// Builds the documentation site into docs/site/: every guide (Markdown, with
// `<!-- include: FILE#section -->` markers pulling a section of another
// Markdown file in) rendered to HTML with a shared navigation and style sheet,
// the example plots from docs/images/, and the TypeDoc API reference in
// docs/site/api/ (from the built packages). Then it checks that every local
// link and image of the guides resolves, and fails the build if one does not.
//
// Usage: node docs/build.mjs [--no-api]   (--no-api: guides only, no TypeDoc)
// The packages must be built first for the API reference: `pnpm docs:site`
// does both.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Marked } from 'marked';

const DOCS = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DOCS, '..');
const SITE = join(DOCS, 'site');

/** The guides, in navigation order: source file and the label in the navigation. */
export const PAGES = [
  { file: 'index.md', nav: 'Overview' },
  { file: 'getting-started.md', nav: 'Getting started' },
  { file: 'porting-from-optax.md', nav: 'Porting from optax' },
  { file: 'choosing-an-optimizer.md', nav: 'Choosing an optimizer' },
  { file: 'adamw-vs-l2.md', nav: 'AdamW vs L2' },
  { file: 'schedules.md', nav: 'Schedules' },
  { file: 'performance.md', nav: 'Performance' },
  { file: 'memory.md', nav: 'Memory' },
  { file: 'backends.md', nav: 'Backends' },
  { file: 'architecture.md', nav: 'Architecture' },
];

/** A heading's anchor: lower case, punctuation dropped, spaces to hyphens (as GitHub does). */
export function slug(text) {
  return text
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/&[a-z]+;|&#\d+;/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/**
 * Replaces each `<!-- include: PATH#section -->` (PATH relative to the
 * including file) with the body of that section of PATH: the lines after the
 * heading whose anchor is `section`, up to the next heading of the same or a
 * higher level. A missing file or section is an error.
 */
export function expandIncludes(markdown, fromFile) {
  return markdown.replace(/<!--\s*include:\s*([^#\s]+)#([\w-]+)\s*-->/g, (_, path, section) => {
    const file = resolve(dirname(fromFile), path);
    if (!existsSync(file)) throw new Error(`${relative(ROOT, fromFile)}: include ${path}#${section}: no such file ${file}`);
    const lines = readFileSync(file, 'utf8').split('\n');
    let fence = false;
    let start = -1;
    let level = 0;
    const out = [];
    for (const line of lines) {
      if (/^(```|~~~)/.test(line)) fence = !fence;
      const h = fence ? null : /^(#{1,6})\s+(.*)$/.exec(line);
      if (start < 0) {
        if (h && slug(h[2]) === section) {
          start = out.length;
          level = h[1].length;
        }
        continue;
      }
      if (h && h[1].length <= level) break;
      out.push(line);
    }
    if (start < 0) throw new Error(`${relative(ROOT, fromFile)}: include ${path}#${section}: no heading with that anchor in ${path}`);
    return out.join('\n').trim();
  });
}

function escapeHtml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders one guide's Markdown to HTML: heading anchors, `.md` links turned into `.html`. */
export function renderMarkdown(markdown) {
  const marked = new Marked({
    gfm: true,
    renderer: {
      heading({ tokens, depth, text }) {
        const id = slug(text);
        const inner = this.parser.parseInline(tokens);
        return `<h${depth} id="${id}">${inner}${depth > 1 ? ` <a class="anchor" href="#${id}" aria-label="link to this section">#</a>` : ''}</h${depth}>\n`;
      },
      link({ href, title, tokens }) {
        const local = !/^[a-z]+:|^\/\/|^#/i.test(href);
        const target = local ? href.replace(/\.md(#|$)/, '.html$1') : href;
        const t = title ? ` title="${escapeHtml(title)}"` : '';
        return `<a href="${escapeHtml(target)}"${t}>${this.parser.parseInline(tokens)}</a>`;
      },
      image({ href, title, text }) {
        const t = title ? ` title="${escapeHtml(title)}"` : '';
        return `<figure><img src="${escapeHtml(href)}" alt="${escapeHtml(text)}"${t}>${title ? `<figcaption>${escapeHtml(title)}</figcaption>` : ''}</figure>`;
      },
    },
  });
  return marked.parse(markdown);
}

/** The page around a guide's HTML: head, top bar, navigation, previous/next links. */
function page({ title, body, current, hasApi }) {
  const nav = PAGES.map((p) => {
    const href = p.file.replace(/\.md$/, '.html');
    const here = p.file === current;
    return `<li><a href="${href}"${here ? ' class="current" aria-current="page"' : ''}>${escapeHtml(p.nav)}</a></li>`;
  });
  if (hasApi) nav.push('<li class="api"><a href="api/index.html">API reference</a></li>');
  const i = PAGES.findIndex((p) => p.file === current);
  const prev = PAGES[i - 1];
  const next = PAGES[i + 1];
  const link = (p, rel) =>
    p
      ? `<a rel="${rel}" href="${p.file.replace(/\.md$/, '.html')}">${rel === 'prev' ? '← ' : ''}${escapeHtml(p.nav)}${rel === 'next' ? ' →' : ''}</a>`
      : '<span></span>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · gradtx</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="style.css">
</head>
<body>
<header class="top"><a class="brand" href="index.html">gradtx</a><span class="tagline">optax's gradient transformations for TensorFlow.js</span></header>
<div class="layout">
<nav class="side" aria-label="Guides"><ul>
${nav.join('\n')}
</ul></nav>
<main class="content">
${body}
<nav class="pager" aria-label="Previous and next">${link(prev, 'prev')}${link(next, 'next')}</nav>
</main>
</div>
</body>
</html>
`;
}

/** Runs TypeDoc from the repository root into docs/site/api (root typedoc.json via docs/typedoc.json). */
function buildApi() {
  const local = join(ROOT, 'node_modules', '.bin', 'typedoc');
  const [cmd, args] = existsSync(local) ? [local, []] : ['npx', ['typedoc']];
  const run = spawnSync(cmd, [...args, '--options', 'docs/typedoc.json'], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) {
    throw new Error(
      `typedoc failed (exit ${run.status ?? run.signal}); build the packages first (pnpm docs:site does), and fix the warnings it printed (the project treats them as errors)`,
    );
  }
  if (!existsSync(join(SITE, 'api', 'index.html'))) throw new Error('typedoc ran but wrote no docs/site/api/index.html');
}

/** Every .html file under `dir`, recursively. */
function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return htmlFiles(p);
    return e.name.endsWith('.html') ? [p] : [];
  });
}

/**
 * TypeDoc prints the root typedoc.json's navigation link to the guides
 * (`"Guides": "../index.html"`) verbatim on every page, which is right only
 * for api/index.html and its siblings; pages in api/functions/ etc. need one
 * `../` more per level. Rewrites that link on each page to the guides' index.
 */
function fixApiGuidesLinks() {
  const api = join(SITE, 'api');
  let fixed = 0;
  for (const file of htmlFiles(api)) {
    const depth = relative(api, file).split(/[\\/]/).length - 1;
    if (depth === 0) continue;
    const html = readFileSync(file, 'utf8');
    const out = html.replace(/(<a href=")\.\.\/index\.html("[^>]*>Guides<\/a>)/g, `$1${'../'.repeat(depth + 1)}index.html$2`);
    if (out !== html) {
      writeFileSync(file, out);
      fixed += 1;
    }
  }
  return fixed;
}

/** Every local href/src of an HTML file that does not resolve to a file (or to an id in a guide). */
function brokenLinks(htmlFile, ids, hasApi) {
  const html = readFileSync(htmlFile, 'utf8');
  const broken = [];
  for (const [, , url] of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
    if (/^[a-z]+:|^\/\/|^data:/i.test(url)) continue;
    const [path, hash] = url.split('#');
    const fromDir = dirname(relative(SITE, htmlFile));
    const target = path === '' ? relative(SITE, htmlFile) : posix.normalize(posix.join(fromDir, path));
    if (!hasApi && target.startsWith('api/')) continue;
    if (!existsSync(join(SITE, target))) {
      broken.push(url);
      continue;
    }
    if (hash && ids.has(target) && !ids.get(target).has(hash)) broken.push(url);
  }
  return broken;
}

export function build({ api = true } = {}) {
  rmSync(SITE, { recursive: true, force: true });
  mkdirSync(join(SITE, 'images'), { recursive: true });
  for (const f of ['style.css', 'favicon.svg']) copyFileSync(join(DOCS, 'assets', f), join(SITE, f));
  for (const f of readdirSync(join(DOCS, 'images'))) copyFileSync(join(DOCS, 'images', f), join(SITE, 'images', f));

  const ids = new Map();
  for (const p of PAGES) {
    const src = join(DOCS, p.file);
    const markdown = expandIncludes(readFileSync(src, 'utf8'), src);
    const body = renderMarkdown(markdown);
    const h1 = /<h1[^>]*>(.*?)<\/h1>/s.exec(body);
    if (!h1) throw new Error(`${p.file}: a guide must start with a level-1 heading (its title)`);
    const title = h1[1].replace(/<[^>]*>/g, '').trim();
    const out = p.file.replace(/\.md$/, '.html');
    writeFileSync(join(SITE, out), page({ title, body, current: p.file, hasApi: api }));
    ids.set(out, new Set([...body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
  }
  if (api) {
    buildApi();
    fixApiGuidesLinks();
  }

  const problems = [];
  for (const p of PAGES) {
    const out = p.file.replace(/\.md$/, '.html');
    for (const url of brokenLinks(join(SITE, out), ids, api)) problems.push(`${p.file}: broken link or image ${url}`);
  }
  if (api) {
    for (const file of htmlFiles(join(SITE, 'api'))) {
      for (const url of brokenLinks(file, ids, api)) problems.push(`${relative(SITE, file)}: broken link or image ${url}`);
    }
  }
  if (problems.length) throw new Error(`docs: ${problems.length} broken link(s):\n  ${problems.join('\n  ')}`);
  return { pages: PAGES.length, api };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const started = performance.now();
    const r = build({ api: !process.argv.includes('--no-api') });
    console.log(
      `docs: wrote ${r.pages} guides${r.api ? ' and the API reference' : ''} to ${relative(process.cwd(), SITE) || '.'} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
