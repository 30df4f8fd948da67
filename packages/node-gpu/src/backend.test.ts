// useNodeBackend without a working tfjs-node (runs on every machine): the
// fallback, its message, and a tfjs-node that is installed but has no native
// binding counting as absent.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useNodeBackend } from './backend.js';

/** A folder whose node_modules holds the given packages, each failing to load as tfjs-node does without its binding. */
function brokenInstall(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradtx-node-gpu-'));
  for (const name of names) {
    const pkg = join(dir, 'node_modules', ...name.split('/'));
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, version: '4.22.0', main: 'index.js' }));
    // tfjs-node's index.js throws this when lib/napi-v8/tfjs_binding.node is missing
    writeFileSync(
      join(pkg, 'index.js'),
      `throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: ${pkg}/lib/napi-v8/tfjs_binding.node. \\nPlease run command \\'npm rebuild ${name} --build-addon-from-source\\' to rebuild the native addon module.');\n`,
    );
  }
  return dir;
}

describe('useNodeBackend: fallback', () => {
  let broken: string;
  beforeAll(() => {
    broken = brokenInstall(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);
  });
  afterAll(() => rmSync(broken, { recursive: true, force: true }));

  it('neither package installed: stays on the active backend and says why', async () => {
    const info = await useNodeBackend({ quiet: true });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.device).toBe('cpu');
    expect(info.package).toBeNull();
    expect(info.attempts).toEqual([
      { package: '@tensorflow/tfjs-node-gpu', resolved: null, error: 'not installed' },
      { package: '@tensorflow/tfjs-node', resolved: null, error: 'not installed' },
    ]);
    expect(info.reason).toBe(
      'no tensorflow backend (@tensorflow/tfjs-node-gpu: not installed; @tensorflow/tfjs-node: not installed); falling back to the cpu backend',
    );
  });

  it('prints the reason with console.warn unless quiet', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      await useNodeBackend({ prefer: 'cpu' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toBe(
        '@gradtx/node-gpu: no tensorflow backend (@tensorflow/tfjs-node: not installed; @tensorflow/tfjs-node-gpu: not installed); falling back to the cpu backend',
      );
      await useNodeBackend({ prefer: 'cpu', quiet: true });
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('a package that is installed but has no native binding counts as absent', async () => {
    const info = await useNodeBackend({ prefer: 'cpu', searchPaths: [broken], quiet: true });
    expect(info.backend).toBe('cpu');
    expect(info.package).toBeNull();
    expect(info.attempts.map((a) => a.package)).toEqual(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);
    for (const a of info.attempts) {
      expect(a.resolved).toBe(join(broken, 'node_modules', ...a.package.split('/'), 'index.js'));
      expect(a.error).toMatch(
        /^installed, but its native binding could not be loaded: The Node\.js native addon module \(tfjs_binding\.node\) can not be found/,
      );
    }
    expect(info.reason).toMatch(
      /^no tensorflow backend \(@tensorflow\/tfjs-node: installed, but its native binding could not be loaded: .*\); falling back to the cpu backend$/,
    );
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
  });

  it('`fallback` picks the backend to fall back to, and says so when it cannot be set', async () => {
    const info = await useNodeBackend({ fallback: 'cpu', quiet: true });
    expect(info.backend).toBe('cpu');
    await expect(useNodeBackend({ fallback: 'no-such-backend', quiet: true })).rejects.toThrow(
      /^useNodeBackend: no tensorflow backend \(.*\), and the fallback backend `no-such-backend` could not be set \(is it imported\?\)$/,
    );
  });

  it('rejects bad options', async () => {
    await expect(useNodeBackend({ prefer: 'tpu' as never })).rejects.toThrow("useNodeBackend: `prefer` must be 'gpu' or 'cpu', got tpu");
    await expect(useNodeBackend({ searchPaths: 'x' as never })).rejects.toThrow(
      'useNodeBackend: `searchPaths` must be an array of folder paths, got x',
    );
  });
});
