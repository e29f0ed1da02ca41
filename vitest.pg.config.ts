import { defineConfig } from 'vitest/config';

/** The PostgreSQL suite (`npm run test:pg`): each file starts a throwaway cluster (test/pg/cluster.ts). */
export default defineConfig({
  test: {
    include: ['test/pg/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Servers spawned by tests (`vantage server`) open the web port too: a free one, so parallel files never collide on 8082.
    env: { VANTAGE_WEB_PORT: '0' },
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
