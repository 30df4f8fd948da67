/**
 * The range of `@tensorflow/tfjs-core` versions gradtx is tested with, and
 * the check that runs once when `@gradtx/core` is imported: outside the
 * range it warns (it does not throw) and turns the fused engine off, so every
 * step runs on the reference path of public tfjs ops.
 *
 * @module
 */
import { version_core } from '@tensorflow/tfjs-core';
import { setFusedEnabled } from './fused/registry.js';

/** The tfjs-core versions gradtx is tested with (the peer range `^4.20.0`): lowest and exclusive upper bound. */
export const TFJS_CORE_RANGE = { lowest: '4.20.0', below: '5.0.0' } as const;

const parse = (v: string): number[] => v.split(/[.+-]/, 3).map((x) => Number.parseInt(x, 10));
const compare = (a: number[], b: number[]): number => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/** Whether `version` lies in {@link TFJS_CORE_RANGE}. */
export function isSupportedTfjsCore(version: string): boolean {
  const v = parse(version);
  if (v.some((x) => !Number.isFinite(x))) return false;
  return compare(v, parse(TFJS_CORE_RANGE.lowest)) >= 0 && compare(v, parse(TFJS_CORE_RANGE.below)) < 0;
}

let warned = false;

/**
 * Checks the installed tfjs-core once: outside {@link TFJS_CORE_RANGE} it
 * prints one warning and turns the fused engine off. Returns whether the
 * version is supported.
 */
export function checkTfjsCoreVersion(version: string = version_core, warn: (message: string) => void = console.warn): boolean {
  const ok = isSupportedTfjsCore(version);
  if (ok) return true;
  if (!warned) {
    warned = true;
    warn(
      `@gradtx/core: @tensorflow/tfjs-core ${version} is outside the tested range ^${TFJS_CORE_RANGE.lowest}; ` +
        'the fused engine is off and every step runs on the reference path (public tfjs ops). Install @tensorflow/tfjs-core ^4.20.0 for the fused engine.',
    );
  }
  setFusedEnabled(false);
  return false;
}

checkTfjsCoreVersion();
