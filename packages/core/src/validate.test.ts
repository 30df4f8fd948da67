import { describe, expect, it } from 'vitest';
import { resolveOptions } from './validate.js';

describe('resolveOptions', () => {
  const defaults = { b1: 0.9, b2: 0.999, mask: undefined as unknown };
  it('fills defaults and keeps given values', () => {
    expect(resolveOptions('f', undefined, defaults)).toEqual({ b1: 0.9, b2: 0.999, mask: undefined });
    expect(resolveOptions('f', { b2: 0.5, b1: undefined }, defaults)).toEqual({ b1: 0.9, b2: 0.5, mask: undefined });
  });
  it('rejects an unknown key, naming it and the valid keys', () => {
    expect(() => resolveOptions('scaleByAdam', { beta1: 0.5 }, defaults)).toThrow(
      /^scaleByAdam: unknown option `beta1`; the options are `b1`, `b2`, `mask`$/,
    );
  });
  it('rejects a positional number, a string, an array and null', () => {
    expect(() => resolveOptions('f', 0.9, defaults)).toThrow(/^f: the options must be an object, got 0.9$/);
    expect(() => resolveOptions('f', '0.9', defaults)).toThrow(/got '0.9'$/);
    expect(() => resolveOptions('f', [1], defaults)).toThrow(/got an array$/);
    expect(() => resolveOptions('f', null, defaults)).toThrow(/got null$/);
  });
});
