// The @example of every alias in aliases.ts builds a working transformation:
// each example's `createOptimizer(<call>, params)` is evaluated with the
// aliases in scope (an unknown option key or a bad value throws), then stepped twice.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as aliases from './aliases.js';
import { createOptimizer } from './optimizer.js';

const source = readFileSync(new URL('./aliases.ts', import.meta.url), 'utf8');
const documented = [...source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\nexport function (\w+)\(/g)].map(([, doc, name]) => ({
  name: name as string,
  call: /createOptimizer\((\w+\([^;]*?\)), params\)/.exec(doc as string)?.[1],
}));

describe('alias examples', () => {
  it('every exported alias has an @example', () => {
    expect(documented.length).toBeGreaterThanOrEqual(26);
    expect(documented.filter((d) => d.call === undefined).map((d) => d.name)).toEqual([]);
  });

  for (const { name, call } of documented) {
    it(`${name}: ${call} builds a transformation that steps`, () => {
      const build = new Function(...Object.keys(aliases), `return ${call};`) as (...a: unknown[]) => aliases.AdamState;
      const tx = build(...Object.values(aliases)) as unknown as Parameters<typeof createOptimizer>[0];
      const params = { w: tf.tensor2d([1, -2, 3, 0.5], [2, 2]) };
      const opt = createOptimizer(tx, params);
      const g = { w: tf.tensor2d([0.1, -0.2, 0.3, 0.4], [2, 2]) };
      opt.step(g);
      opt.step(g); // rprop moves from its second step
      const w = Array.from((opt.params as { w: tf.Tensor }).w.dataSync());
      expect(w.every(Number.isFinite)).toBe(true);
      expect(w).not.toEqual([1, -2, 3, 0.5]);
      opt.dispose();
      tf.dispose([g.w, (opt.params as { w: tf.Tensor }).w]);
    });
  }
});
