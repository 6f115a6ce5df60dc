import { defineConfig } from 'vitest/config';

/** The multi-host fault tests: a dozen servers of their own on two cores, so they run alone, last. */
const HOSTS = 'apps/cluster/test/hosts.test.ts';

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: a few files at a time keep the database server responsive.
    maxWorkers: 3,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
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
          exclude: [HOSTS],
        },
      },
      {
        extends: true,
        test: { name: 'hosts', include: [HOSTS], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
