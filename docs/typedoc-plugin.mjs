// TypeDoc plugin for the gradtx API reference:
// 1. categories: every exported name without its own `@category` tag gets one
//    from the file that declares it (CATEGORY_BY_PATH; names of contrib by
//    prefix), so each package page groups its names as optimizers,
//    transforms, combinators, schedules, trees, training loop, checkpoints,
//    interop and backends;
// 2. math: `$$ TeX $$` (display) and `$ TeX $` (inline) in doc comments are
//    rendered with KaTeX at build time (no script, no network); the KaTeX
//    style sheet and fonts are copied into the site's assets.
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { Comment, CommentTag, Converter, JSX, MarkdownEvent, ReflectionKind, RendererEvent } from 'typedoc';

const require = createRequire(import.meta.url);
const katex = require('katex');

/** Source paths (inside packages/) → category; the first match wins. */
const CATEGORY_BY_PATH = [
  [/^core\/src\/aliases\.ts$/, 'Optimizers'],
  [/^core\/src\/(combine\.ts|combinators\/)/, 'Combinators'],
  [/^core\/src\/(transforms\/|base\.ts$)/, 'Transforms'],
  [/^core\/src\/projections\//, 'Projections'],
  [/^core\/src\/(tree|tree-utils|update)\.ts$/, 'Trees'],
  [/^core\/src\/(optimizer|gradients|step-report|stepper|precision)\.ts$|^core\/src\/interop\/fit-logs\.ts$/, 'Training loop'],
  [/^core\/src\/interop\/(checkpoint|training-checkpoint|layers-model|io-handler|structure)\.ts$|^core\/src\/node\//, 'Checkpoints'],
  [/^core\/src\/interop\//, 'Interop'],
  [/^core\/src\/(test-utils|testing)/, 'Testing'],
  [/^core\/src\//, 'Backends'],
  [/^schedules\//, 'Schedules'],
  [/^losses\//, 'Losses'],
  [/^(webgpu|node-gpu)\//, 'Backends'],
];

/** The category of a name declared in `file` (a path inside packages/), or null. */
export function categoryOf(file, name) {
  if (file.startsWith('contrib/')) return /^scaleBy|^normalize$/.test(name) ? 'Transforms' : 'Optimizers';
  for (const [re, category] of CATEGORY_BY_PATH) if (re.test(file)) return category;
  return null;
}

/**
 * Makes a function findable by its optax name: a comment that cites a dotted
 * name (optax `contrib.scale_by_cocob`) gains "optax: `scale_by_cocob`", since
 * the search indexes whole words and would not find the part after the dot.
 */
function addOptaxName(reflection) {
  const comment = reflection.signatures?.[0]?.comment ?? reflection.comment;
  if (!comment) return;
  const text = [...comment.summary, ...comment.blockTags.flatMap((t) => t.content)].map((p) => p.text).join('');
  const names = [...text.matchAll(/optax[^`\n]{0,40}`([\w.]+)`/g)]
    .map((m) => m[1])
    .filter((n) => n.includes('.'))
    .map((n) => n.split('.').pop());
  if (names.length === 0) return;
  comment.summary.push({ kind: 'text', text: '\n\noptax: ' });
  for (const [i, n] of names.entries()) {
    if (i > 0) comment.summary.push({ kind: 'text', text: ', ' });
    comment.summary.push({ kind: 'code', text: `\`${n}\`` });
  }
}

/** Renders `$$…$$` and `$…$` in a Markdown string; returns the text with placeholders and the HTML for each. */
export function extractMath(markdown) {
  const html = [];
  const put = (tex, displayMode) => {
    html.push(katex.renderToString(tex.trim(), { displayMode, throwOnError: true, output: 'html' }));
    return `@@KATEX${html.length - 1}@@`;
  };
  // leave code spans and fences alone
  const parts = markdown.split(/(```[\s\S]*?```|`[^`\n]*`)/);
  const text = parts
    .map((part, i) => {
      if (i % 2 === 1) return part;
      return part
        .replace(/\$\$([\s\S]+?)\$\$/g, (_, tex) => `\n\n${put(tex, true)}\n\n`)
        .replace(/(^|[^\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])/g, (_, pre, tex) => `${pre}${put(tex, false)}`);
    })
    .join('');
  return { text, html };
}

const PACKAGES = `${sep}packages${sep}`;

/** @param {import('typedoc').Application} app */
export function load(app) {
  const files = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    const symbol = context.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    if (file?.includes(PACKAGES.replaceAll(sep, '/')) || file?.includes(PACKAGES))
      files.set(reflection, file.replaceAll('\\', '/').split('/packages/').pop());
  });
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.All)) {
      const file = files.get(reflection);
      if (file === undefined || reflection.parent?.kindOf(ReflectionKind.SomeModule | ReflectionKind.Project) !== true) continue;
      if (reflection.kindOf(ReflectionKind.Function)) addOptaxName(reflection);
      const own = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)];
      if (own.some((c) => c?.blockTags.some((t) => t.tag === '@category'))) continue;
      const category = categoryOf(file, reflection.name);
      if (category === null) continue;
      reflection.comment ??= new Comment();
      reflection.comment.blockTags.push(new CommentTag('@category', [{ kind: 'text', text: category }]));
    }
  });

  // math: placeholders before Markdown, KaTeX's HTML after it
  let pending = [];
  app.renderer.on(
    MarkdownEvent.PARSE,
    (event) => {
      const { text, html } = extractMath(event.parsedText);
      event.parsedText = text;
      pending = html;
    },
    100,
  );
  app.renderer.on(
    MarkdownEvent.PARSE,
    (event) => {
      const katexHtml = (_, i) => pending[Number(i)];
      event.parsedText = event.parsedText.replace(/<p>@@KATEX(\d+)@@<\/p>/g, katexHtml).replace(/@@KATEX(\d+)@@/g, katexHtml);
      pending = [];
    },
    -100,
  );
  app.renderer.hooks.on('head.end', (context) =>
    JSX.createElement('link', { rel: 'stylesheet', href: context.relativeURL('assets/katex/katex.min.css') }),
  );
  app.renderer.on(RendererEvent.END, (event) => {
    const dist = dirname(require.resolve('katex/dist/katex.min.css'));
    cpSync(join(dist, 'katex.min.css'), join(event.outputDirectory, 'assets', 'katex', 'katex.min.css'));
    cpSync(join(dist, 'fonts'), join(event.outputDirectory, 'assets', 'katex', 'fonts'), { recursive: true });
  });
}
