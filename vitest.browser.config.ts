import { defineConfig } from 'vitest/config';

/** Tests that drive Debian's Chromium (/usr/bin/chromium) through playwright-core: `npm run test:browser`. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
