import { describe, expect, it } from 'vitest';
import { optimisticAdam, optimisticAdamV2 } from './optimistic-adam.js';

// Values against optax: conformance/optax-more.test.ts (fixtures/optax-more.json).
describe('optimisticAdam, optimisticAdamV2', () => {
  it('are chains of element-wise stages (they fuse)', () => {
    for (const tx of [optimisticAdam(0.1), optimisticAdamV2(0.1)]) {
      expect(tx.fusion?.kind).toBe('chain');
      const parts = tx.fusion?.kind === 'chain' ? tx.fusion.children.map(([, member]) => member) : [];
      expect(parts.length).toBeGreaterThan(0);
      expect(parts.every((p) => p.fusion?.kind === 'elementwise')).toBe(true);
    }
  });
  it('optimisticAdam refuses a schedule, as optax does; both reject unknown options', () => {
    expect(() => optimisticAdam((() => 0.1) as never)).toThrow(/optimisticAdam: `learningRate` must be a number/);
    expect(() => optimisticAdam(0.1, { alpha: 1 } as never)).toThrow(/unknown option `alpha`/);
    expect(() => optimisticAdamV2(0.1, { optimism: 1 } as never)).toThrow(/unknown option `optimism`/);
    expect(() => optimisticAdam(0.1, { optimism: Number.NaN })).toThrow(/`optimism` must be a finite number/);
  });
});
