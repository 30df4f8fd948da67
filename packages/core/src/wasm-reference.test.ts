import { describe, it } from 'vitest';
import type { GradientTransformation } from './base.js';
import * as gx from './index.js';
import { type ArrayTree, expectTracesClose, randomArrays, rng, runFused, runReference } from './test-utils/fused.js';
import { onCpu, runFileOnWasm } from './test-utils/wasm.js';

const EXACT = { rtol: 0, atol: 0 };

runFileOnWasm();

/** Gradients scaled into |g| < 1e-6, where tfjs-wasm's Sign gives 0. */
function tiny(seed: number): ArrayTree {
  const a = randomArrays(rng(seed));
  for (const v of Object.values(a)) for (let i = 0; i < v.values.length; i++) v.values[i] = (v.values[i] as number) * 1e-7;
  return a;
}

describe('the reference path on wasm', () => {
  const signed: [string, () => GradientTransformation][] = [
    ['scaleBySign', () => gx.scaleBySign()],
    ['signSgd', () => gx.signSgd(0.1)],
    ['signum', () => gx.signum(0.1)],
    ['lion', () => gx.lion(0.1)],
    ['rprop', () => gx.rprop(0.1)],
    ['yogi', () => gx.yogi(0.1)],
  ];
  for (const [name, make] of signed) {
    it(`${name}: sign of |g| < 1e-6 as on cpu and in the fused kernel, bit for bit`, async () => {
      const params = randomArrays(rng(1));
      const grads = [tiny(2), tiny(3), tiny(4)];
      const ref = runReference(make(), params, grads);
      expectTracesClose(ref, await onCpu(() => runReference(make(), params, grads)), `${name} wasm vs cpu`, EXACT, 'wasm reference');
      expectTracesClose(runFused(make(), params, grads, 'optimizer'), ref, `${name} fused vs reference`, EXACT);
    });
  }

  it('global norms sum in float64: clip + adamw over 20 steps equals the cpu reference bit for bit', async () => {
    const make = () => gx.chain(gx.clipByGlobalNorm(0.5), gx.adamw(0.01), gx.normalizeByUpdateNorm());
    const params = randomArrays(rng(7), { a: [1000], b: [37, 29], c: [] }, 3);
    const grads = Array.from({ length: 20 }, (_, i) => randomArrays(rng(100 + i), { a: [1000], b: [37, 29], c: [] }, 3));
    const ref = runReference(make(), params, grads);
    expectTracesClose(ref, await onCpu(() => runReference(make(), params, grads)), 'wasm vs cpu', EXACT, 'wasm reference');
  });
});
