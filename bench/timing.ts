/**
 * What the benches share: interleaved timing rounds (so load from other
 * processes hits every runner alike), medians, and switching tfjs backends
 * (the wasm backend's binaries found next to its package).
 */
import { createRequire } from 'node:module';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { TimedStep } from './native.ts';

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Something to time: a step (on `backend`, when given), and what frees its tensors. */
export type Runner = TimedStep & { backend?: 'cpu' | 'wasm' };

let wasmReady = false;

/** Makes `name` tfjs's backend (loading the wasm binaries from the installed package the first time). */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm' && !wasmReady) {
    setWasmPaths(
      createRequire(import.meta.url)
        .resolve('@tensorflow/tfjs-backend-wasm')
        .replace(/[^/\\]*$/, ''),
    );
    wasmReady = true;
  }
  if (tf.getBackend() !== name) await tf.setBackend(name);
}

/**
 * Times the runners' steps interleaved round by round (after `warmup` untimed
 * rounds), so that load from other processes hits each of them alike; returns
 * ms per step (median) for each.
 */
export async function timeInterleaved(runners: Runner[], rounds: number, warmup = 1): Promise<number[]> {
  const once = async (r: Runner): Promise<number> => {
    if (r.backend !== undefined) await useBackend(r.backend);
    if ('stepTimed' in r) return await r.stepTimed();
    const t0 = performance.now();
    r.step();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) for (const r of runners) await once(r);
  const ts = runners.map((): number[] => []);
  for (let k = 0; k < rounds; k++) {
    for (const [i, r] of runners.entries()) (ts[i] as number[]).push(await once(r));
  }
  return ts.map(median);
}
