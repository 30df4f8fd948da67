import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adam, adamw } from './aliases.js';
import { injectHyperparams } from './combinators/inject-hyperparams.js';
import { chain, namedChain } from './combine.js';
import { createOptimizer } from './optimizer.js';
import { fastPrecision } from './precision.js';
import { disposeTree } from './test-utils/index.js';
import { clipByGlobalNorm } from './transforms/clipping.js';

const params = () => ({ w: tf.tensor1d([0.5, -1.5, 2, 1e-3]), b: tf.tensor1d([0.25]) });
const grads = () => ({ w: tf.tensor1d([0.1, -0.2, 0.3, 1e-4]), b: tf.tensor1d([-0.05]) });

/** Params after `steps` steps of createOptimizer with the given options. */
function train(tx: Parameters<typeof createOptimizer>[0], options: Parameters<typeof createOptimizer>[2], steps = 4): Float32Array[] {
  const opt = createOptimizer(tx, params(), options);
  const g = grads();
  for (let i = 0; i < steps; i++) opt.step(g);
  const p = opt.params as Record<string, tf.Tensor>;
  const out = [p.b, p.w].map((t) => (t as tf.Tensor).dataSync() as Float32Array);
  opt.dispose();
  disposeTree([p, g]);
  return out;
}

describe('fastPrecision', () => {
  it('multiplies by reciprocals: fused and reference paths agree bit for bit, and differ from the exact path by a few ulps', () => {
    const tx = chain(clipByGlobalNorm(1), adamw(1e-2, { weightDecay: 0.1 }));
    const fused = train(tx, { precision: 'fast' });
    const reference = train(tx, { precision: 'fast', fused: false });
    const exact = train(tx, {});
    expect(fused).toEqual(reference);
    expect(fused).not.toEqual(exact);
    fused.forEach((leaf, l) => {
      leaf.forEach((v, i) => {
        const e = (exact[l] as Float32Array)[i] as number;
        expect(Math.abs(v - e)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.abs(e));
      });
    });
  });

  it('keeps the state structure, rebuilds chains and named chains, leaves other stages as they are, and caches per transformation', () => {
    const tx = namedChain(['clip', clipByGlobalNorm(1)], ['opt', chain(adam(1e-2))]);
    const fast = fastPrecision(tx);
    expect(fastPrecision(tx)).toBe(fast);
    const p = params();
    const [s, f] = [tx.init(p), fast.init(p)];
    expect(Object.keys(f as object)).toEqual(Object.keys(s as object));
    const injected = injectHyperparams(adam)(1e-2);
    expect(injected.fusion?.kind).toBe('lowering'); // a lowering combinator: left as it is (its steps keep the exact arithmetic)
    expect(fastPrecision(injected)).toBe(injected);
    disposeTree([p, s, f]);
  });

  it('rejects a precision that is neither exact nor fast, naming the function', () => {
    const p = params();
    expect(() => createOptimizer(adam(1e-2), p, { precision: 'fastest' as never })).toThrow(
      "createOptimizer: `precision` must be 'exact' or 'fast', got 'fastest'",
    );
    disposeTree(p);
  });
});
