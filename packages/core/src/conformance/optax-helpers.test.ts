// Conformance with optax 0.2.8 of microbatching (microbatch with every accumulation type, accumulator trees,
// inAxes and numRealMicrobatches; reshapeBatchAxis), multiNormal's logProb, matrixInversePthRoot and
// safeInt32Increment: the cases of fixtures/optax-helpers.json (made by fixtures/generate_optax_helpers.py). Tolerance: rtol 2e-6,
// atol 1e-6 of the tree's scale (one evaluation; sums over microbatches add in optax's order). No leaks.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as gradtx from '../index.js';
import { disposeTree } from '../test-utils/index.js';
import { compare, decodeTree, type FixtureTree, readFixture } from './loader.js';

interface Case {
  id: string;
  kind: 'microbatch' | 'reshapeBatchAxis' | 'multiNormalLogProb' | 'matrixInversePthRoot' | 'safeInt32Increment';
  optax: string;
  fn?: keyof typeof FUNCTIONS;
  options?: gradtx.MicrobatchOptions;
  args: unknown[];
  expected: FixtureTree | number;
}

/** The functions of the generator's FUNCTIONS, in tfjs ops. */
const FUNCTIONS = {
  affineAndTotal: (x: tf.Tensor) => [tf.add(tf.mul(x, 2), 1), tf.sum(tf.mul(3, x))],
  squaredError: (w: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => {
    const pred = tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
    return { loss: tf.sum(tf.square(tf.sub(pred, y))), pred };
  },
  columnNorms: (x: tf.Tensor) => tf.sqrt(tf.sum(tf.square(x), 0)),
};

const fixture = readFixture<Case>('optax-helpers.json');
const ONE_PASS = { rtol: 2e-6, atol: 1e-6 };
/** matrixInversePthRoot: tens of float32 matrix products whose sums tfjs and XLA order differently. */
const NEWTON = { rtol: 1e-4, atol: 1e-5 };
const decodeArg = (a: unknown): unknown => (a !== null && typeof a === 'object' && !Array.isArray(a) ? decodeTree(a as FixtureTree) : a);

function run(c: Case): unknown {
  // matrixInversePthRoot's last argument is its options object, not a tree
  const args = c.kind === 'matrixInversePthRoot' ? [decodeArg(c.args[0]), ...c.args.slice(1)] : c.args.map(decodeArg);
  if (c.kind === 'safeInt32Increment') return gradtx.safeInt32Increment(args[0] as number);
  try {
    if (c.kind === 'microbatch') {
      const f = FUNCTIONS[c.fn as keyof typeof FUNCTIONS] as (...a: tf.Tensor[]) => unknown;
      return gradtx.microbatch(f, c.options as gradtx.MicrobatchOptions)(...(args as tf.Tensor[]));
    }
    if (c.kind === 'matrixInversePthRoot') {
      return gradtx.matrixInversePthRoot(args[0] as tf.Tensor, args[1] as number, args[2] as gradtx.MatrixInversePthRootOptions);
    }
    if (c.kind === 'reshapeBatchAxis') return gradtx.reshapeBatchAxis(args[0] as tf.Tensor, args[1] as number, args[2] as number);
    const d = gradtx.multiNormal(args[0] as tf.Tensor, args[1] as tf.Tensor);
    const lp = d.logProb(args[2] as tf.Tensor);
    d.dispose();
    return lp;
  } finally {
    disposeTree(args);
  }
}

describe(`optax conformance: microbatching, multiNormal, matrixInversePthRoot, safeInt32Increment (${fixture.source})`, () => {
  it('has a case of every kind', () => {
    expect(new Set(fixture.cases.map((c) => c.kind))).toEqual(
      new Set(['microbatch', 'reshapeBatchAxis', 'multiNormalLogProb', 'matrixInversePthRoot', 'safeInt32Increment']),
    );
  });
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => {
      const before = tf.memory().numTensors;
      const out = run(c);
      if (typeof c.expected === 'number') expect(out).toBe(c.expected);
      else {
        compare(c.id, out, c.expected, c.kind === 'matrixInversePthRoot' ? NEWTON : ONE_PASS);
        disposeTree(out);
      }
      expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    });
  }
});
