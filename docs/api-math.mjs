#!/usr/bin/env node
// Lists the math in the API reference's doc comments: converts the packages
// with TypeDoc (the root typedoc.json and docs/typedoc-plugin.mjs, no HTML
// written), takes every public function of the categories whose pages state a
// formula (MATH_CATEGORIES) and typesets the TeX of its comment with KaTeX
// (throwOnError), exactly as the site build does.
//
// Usage: node docs/api-math.mjs   (prints "N of M public functions carry
// math" and the names without; the packages must be built first.)
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, Comment, ReflectionKind } from 'typedoc';
import { extractMath } from './typedoc-plugin.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The categories whose every function states its formula in TeX. */
export const MATH_CATEGORIES = ['Optimizers', 'Transforms', 'Schedules', 'Losses'];

/** The Markdown of a comment: summary and block tags (code is skipped by extractMath). */
function markdownOf(comment) {
  if (!comment) return '';
  return [Comment.combineDisplayParts(comment.summary), ...comment.blockTags.map((t) => Comment.combineDisplayParts(t.content))].join(
    '\n\n',
  );
}

function categoryOf(reflection) {
  const tags = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)].flatMap((c) => c?.blockTags ?? []);
  const tag = tags.find((t) => t.tag === '@category');
  return tag ? Comment.combineDisplayParts(tag.content).trim() : null;
}

/**
 * Every public function of MATH_CATEGORIES as `{ name, module, category,
 * blocks }`, where `blocks` counts the TeX blocks KaTeX typeset; a TeX error
 * throws (naming the function) as it does in the site build.
 */
export async function publicFunctionMath() {
  const app = await Application.bootstrapWithPlugins({ options: join(ROOT, 'typedoc.json'), logLevel: 'Error' });
  const cwd = process.cwd();
  process.chdir(ROOT);
  let project;
  try {
    project = await app.convert();
  } finally {
    process.chdir(cwd);
  }
  if (!project) throw new Error('TypeDoc could not convert the packages (build them first: pnpm build)');
  const out = [];
  for (const fn of project.getReflectionsByKind(ReflectionKind.Function)) {
    const category = categoryOf(fn);
    if (!MATH_CATEGORIES.includes(category)) continue;
    const text = [fn.comment, ...(fn.signatures ?? []).map((s) => s.comment)].map(markdownOf).join('\n\n');
    let blocks;
    try {
      blocks = extractMath(text).html.length;
    } catch (e) {
      throw new Error(`${fn.getFullName()}: its TeX does not typeset: ${e.message}`);
    }
    out.push({ name: fn.name, module: fn.parent?.getFullName() ?? '', category, blocks });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fns = await publicFunctionMath();
  const without = fns.filter((f) => f.blocks === 0);
  for (const f of without) console.log(`no math: ${f.module} ${f.name} (${f.category})`);
  console.log(`${fns.length - without.length} of ${fns.length} public functions in ${MATH_CATEGORIES.join(', ')} carry math`);
}
