import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'e2e/**/*.test.ts',
      'apps/cluster/test/**/*.test.ts',
      // The web client's component tests; each file asks for jsdom in its docblock.
      'apps/web/test/**/*.test.tsx',
      'infra/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
    ],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: a few files at a time keep the database server responsive.
    maxWorkers: 3,
    reporters: ['default'],
  },
});
