// The @example of every alias in aliases.ts (and of the main transforms)
// builds a working transformation: each example's `createOptimizer(<call>,
// params)` is evaluated with the package's exports in scope (an unknown
// option key or a bad value throws), then stepped twice.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type * as aliases from './aliases.js';
import * as gradtx from './index.js';
import { createOptimizer } from './optimizer.js';

const EXAMPLES = [
  'aliases',
  'transforms/adam',
  'transforms/clipping',
  'transforms/decay',
  'transforms/momentum',
  'transforms/scaling',
  'transforms/rms',
  'transforms/lion',
];

function examplesOf(file: string) {
  const source = readFileSync(new URL(`./${file}.ts`, import.meta.url), 'utf8');
  return [...source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\nexport function (\w+)[<(]/g)].map(([, doc, name]) => ({
    name: name as string,
    call: /createOptimizer\((\w+\([^;]*?\)), params\)/.exec(doc as string)?.[1],
  }));
}
const documented = examplesOf('aliases');
const transforms = EXAMPLES.slice(1)
  .flatMap(examplesOf)
  .filter((d) => d.call !== undefined);

describe('doc examples', () => {
  it('every exported alias has an @example', () => {
    expect(documented.length).toBeGreaterThanOrEqual(26);
    expect(documented.filter((d) => d.call === undefined).map((d) => d.name)).toEqual([]);
  });

  it('the main transforms have examples too', () => {
    expect(transforms.map((d) => d.name)).toEqual(
      expect.arrayContaining([
        'scaleByAdam',
        'clipByGlobalNorm',
        'addDecayedWeights',
        'trace',
        'scaleByLearningRate',
        'scaleByRms',
        'scaleByLion',
      ]),
    );
  });

  for (const { name, call } of [...documented, ...transforms]) {
    it(`${name}: ${call} builds a transformation that steps`, () => {
      const build = new Function(...Object.keys(gradtx), `return ${call};`) as (...a: unknown[]) => aliases.AdamState;
      const tx = build(...Object.values(gradtx)) as unknown as Parameters<typeof createOptimizer>[0];
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
