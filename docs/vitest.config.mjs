import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['site.test.mjs', 'api-math.test.mjs'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
