// Every public function of the optimizer, transform, schedule and loss
// categories states its formula in TeX, and all of it typesets: TypeDoc
// converts the packages (as the site build does) and KaTeX renders each
// comment's math with throwOnError. Needs the packages built (pnpm build);
// no browser.
import { beforeAll, describe, expect, it } from 'vitest';
import { MATH_CATEGORIES, publicFunctionMath } from './api-math.mjs';
import { extractMath } from './typedoc-plugin.mjs';

let fns;
/** A TeX error thrown while collecting (rethrown by each test: a throwing beforeAll would only skip them). */
let collectError = null;
beforeAll(async () => {
  try {
    fns = await publicFunctionMath();
  } catch (e) {
    collectError = e;
  }
}, 120_000);

function collected() {
  if (collectError) throw collectError;
  return fns;
}

describe('math in the API reference', () => {
  it('a TeX error fails the build instead of showing raw TeX', () => {
    expect(() => extractMath('$$ \\frac{1}{ $$')).toThrow();
    expect(extractMath('with $x^2$ and $$\\sqrt{v}$$').html.length).toBe(2);
  });

  it('all TeX of the public comments typesets and every math category is found', () => {
    const fns = collected();
    for (const category of MATH_CATEGORIES) {
      expect(fns.filter((f) => f.category === category).length, category).toBeGreaterThan(10);
    }
    // internal helpers are not documented, so they are not counted either
    const names = new Set(fns.map((f) => f.name));
    for (const internal of ['resolveScalar', 'checkPositive', 'resolveOptions', 'referenceUpdate']) expect(names.has(internal)).toBe(false);
  });

  it('every one of them renders at least one KaTeX block', () => {
    const without = collected()
      .filter((f) => f.blocks === 0)
      .map((f) => `${f.module} ${f.name}`);
    expect(without).toEqual([]);
  });
});
