import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Interop tests start real servers; two cores, so keep files from crowding each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
