// Conformance with optax 0.2.8: every case of fixtures/optax-losses.json (made
// by fixtures/generate_optax_losses.py from real optax) evaluated with the same
// inputs on the tfjs cpu backend and compared element-wise with optax's
// float32 result: |actual - expected| <= ATOL · max(1, max|expected|) + RTOL · |expected|,
// NaN where optax gives NaN and the same infinities. Each case also checks
// that the loss leaks no tensor and leaves its inputs alive.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as losses from './index.js';

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
interface Leaf {
  shape: number[];
  data: (Num | boolean)[];
  dtype?: 'float32' | 'int32' | 'bool';
}
interface LossCase {
  id: string;
  fn: string;
  args: (Leaf | number)[];
  options: Record<string, unknown>;
  optax: string;
  expected: Leaf;
}

/**
 * One evaluation in float32 (no accumulated steps): a few ulps of the result
 * for the transcendental functions (tfjs and XLA round exp/log differently),
 * with ATOL covering the cancellation in `1 - similarity` and `lse - logit`.
 */
const RTOL = 4e-6;
const ATOL = 1e-6;

const fixture = JSON.parse(readFileSync(new URL('../fixtures/optax-losses.json', import.meta.url), 'utf8')) as {
  source: string;
  cases: LossCase[];
};

const num = (x: Num | boolean): number =>
  typeof x === 'boolean' ? Number(x) : x === 'NaN' ? Number.NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x;

function isLeaf(x: unknown): x is Leaf {
  return x !== null && typeof x === 'object' && Array.isArray((x as Leaf).shape) && Array.isArray((x as Leaf).data);
}

function decode(x: unknown): unknown {
  if (!isLeaf(x)) return x;
  const dtype = x.dtype ?? 'float32';
  if (dtype === 'bool') return tf.tensor(x.data as boolean[], x.shape, 'bool');
  return tf.tensor(x.data.map(num), x.shape, dtype);
}

function expectClose(id: string, actual: tf.Tensor, expected: Leaf): void {
  expect(actual.shape, `${id}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${id}: dtype`).toBe('float32');
  const want = expected.data.map(num);
  const got = Array.from(actual.dataSync());
  const scale = Math.max(1, ...want.filter(Number.isFinite).map(Math.abs));
  got.forEach((a, i) => {
    const e = want[i] as number;
    if (!Number.isFinite(e)) {
      expect(a, `${id}[${i}]`).toBe(e);
      return;
    }
    const bound = ATOL * scale + RTOL * Math.abs(e);
    if (!(Math.abs(a - e) <= bound)) throw new Error(`${id}[${i}]: got ${a}, optax ${e} (|diff| ${Math.abs(a - e)} > ${bound})`);
  });
}

describe(`optax conformance: losses (${fixture.source})`, () => {
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => {
      const fn = (losses as unknown as Record<string, (...a: unknown[]) => tf.Tensor>)[c.fn];
      if (typeof fn !== 'function') throw new Error(`@gradtx/losses has no function ${c.fn}`);
      const args = c.args.map(decode);
      const options = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, decode(v)]));
      const inputs = [...args, ...Object.values(options)].filter((x): x is tf.Tensor => x instanceof tf.Tensor);
      const before = tf.memory().numTensors;
      const out = Object.keys(options).length > 0 ? fn(...args, options) : fn(...args);
      expect(tf.memory().numTensors, 'only the result is new').toBe(before + 1);
      for (const x of inputs) expect(x.isDisposed, 'an input was disposed').toBe(false);
      try {
        expectClose(c.id, out, c.expected);
      } finally {
        out.dispose();
        tf.dispose(inputs);
      }
    });
  }
});
