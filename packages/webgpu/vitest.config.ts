import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Dawn (the `webgpu` package) loads the Vulkan loader `libvulkan.so.1` with
// dlopen. Where the system has none, Debian's chromium ships one next to its
// SwiftShader driver. The loader's search path is read when a process starts,
// so it is set here, before vitest forks the workers that run the tests.
const CHROMIUM_LIB = '/usr/lib/chromium';
if (process.platform === 'linux' && existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`)) {
  const paths = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((p) => p !== '');
  if (!paths.includes(CHROMIUM_LIB)) process.env.LD_LIBRARY_PATH = [...paths, CHROMIUM_LIB].join(':');
}

export default defineConfig({
  resolve: {
    // the tests run against core's sources, so they never see a stale build
    alias: [
      { find: /^@gradtx\/core$/, replacement: fileURLToPath(new URL('../core/src/index.ts', import.meta.url)) },
      { find: /^@gradtx\/core\/(engine|testing)$/, replacement: fileURLToPath(new URL('../core/src/$1.ts', import.meta.url)) },
      { find: /^@gradtx\/contrib$/, replacement: fileURLToPath(new URL('../contrib/src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    // the browser demo's page test lives with the demo (examples/browser) and runs here
    include: ['src/**/*.test.ts', '../../examples/browser/*.test.ts'],
    setupFiles: ['src/test-utils/setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
