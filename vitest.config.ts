import { configDefaults, defineConfig } from 'vitest/config';

// Two groups, one after the other: every test file (in parallel), then the upstream conformance
// suite on the local cluster, which loads this 2-core machine with dozens of processes and would
// make the timing-sensitive tests of other files flaky.
const CONFORMANCE = 'test/conformance/**/*.test.ts';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'gatefleet',
          include: [
            'test/**/*.test.ts',
            'controller/**/*.test.ts',
            'xds/**/*.test.ts',
            'gateway/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, CONFORMANCE],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'conformance', include: [CONFORMANCE], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
