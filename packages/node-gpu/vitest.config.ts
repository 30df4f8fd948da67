import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-utils/setup.ts'],
    // tfjs-node's native addon is loaded in child processes, not worker threads
    pool: 'forks',
    testTimeout: 60_000,
    env: { TF_CPP_MIN_LOG_LEVEL: '2' },
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
