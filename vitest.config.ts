import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The engine tests are CPU-heavy; on 2-core CI machines running them one file at a time is faster.
    fileParallelism: false,
  },
});
