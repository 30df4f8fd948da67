import { describe, expect, it, vi } from 'vitest';
import { isFusedEnabled, setFusedEnabled } from './fused/registry.js';
import { checkTfjsCoreVersion, isSupportedTfjsCore } from './tfjs-version.js';

describe('the tfjs-core version check', () => {
  it('accepts 4.20 to 4.x and refuses others', () => {
    expect(['4.20.0', '4.22.0', '4.99.1'].map(isSupportedTfjsCore)).toEqual([true, true, true]);
    expect(['4.19.0', '3.21.0', '5.0.0', 'nonsense'].map(isSupportedTfjsCore)).toEqual([false, false, false, false]);
  });

  it('outside the range warns once, naming the version, and turns the fused engine off', () => {
    const warn = vi.fn();
    try {
      expect(checkTfjsCoreVersion('3.21.0', warn)).toBe(false);
      expect(isFusedEnabled()).toBe(false);
      checkTfjsCoreVersion('3.21.0', warn);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toMatch(
        /@tensorflow\/tfjs-core 3\.21\.0 is outside the tested range \^4\.20\.0; the fused engine is off/,
      );
    } finally {
      setFusedEnabled(true);
    }
    expect(checkTfjsCoreVersion('4.22.0', warn)).toBe(true);
    expect(isFusedEnabled()).toBe(true);
  });
});
