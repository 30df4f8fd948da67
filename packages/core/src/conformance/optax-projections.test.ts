// Conformance with optax 0.2.8 of the projections: the cases of
// fixtures/optax-projections.json (made by fixtures/generate_optax_projections.py),
// evaluated once on the tfjs cpu backend. Tolerance: rtol 2e-6, atol 1e-6
// of the tree's scale (one pass of float32 sums, square roots and
// divisions; the simplex threshold is a cumulative sum of up to 17 terms).
// Each case also checks that only the result's tensors are new.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as gradtx from '../index.js';
import { disposeTree } from '../test-utils/index.js';
import { treeLeaves } from '../tree.js';
import { compare, decodeTree, type FixtureTree, readFixture } from './loader.js';

interface ProjectionCase {
  id: string;
  fn: string;
  optax: string;
  args: (FixtureTree | number)[];
  expected: FixtureTree;
}

const fixture = readFixture<ProjectionCase>('optax-projections.json');

describe(`optax conformance: projections (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => {
      const fn = (gradtx as unknown as Record<string, (...a: unknown[]) => unknown>)[c.fn];
      if (typeof fn !== 'function') throw new Error(`@gradtx/core has no function ${c.fn}`);
      const args = c.args.map((a) => (typeof a === 'number' ? a : decodeTree(a)));
      const before = tf.memory().numTensors;
      const out = fn(...args);
      expect(tf.memory().numTensors - before, 'only the result is new').toBe(treeLeaves(out).length);
      try {
        compare(c.id, out, c.expected, { rtol: 2e-6, atol: 1e-6 });
      } finally {
        disposeTree([out, args]);
      }
    });
  }
});
