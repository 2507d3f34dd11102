import { defineConfig } from 'vitest/config';

const ALL = ['packages/*/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts'];

/**
 * Files that load the box on purpose (busy loops and a disk writer, floods of hostile clients)
 * or whose assertions are about keeping time in-process (the open-model schedule, a sweep's
 * knee). Run beside other files on two cores, each disturbs or is disturbed by whatever runs
 * next to it; so they run after the rest, one at a time.
 */
const ALONE = [
  'packages/sampler/test/sampler-real-pressure.test.ts',
  'packages/smtp-sink/test/hostile-clients.test.ts',
  'packages/smtp-source/test/open-model.test.ts',
  'packages/capacity/test/sweep-sink.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Interop tests start real servers; two cores, so keep files from crowding each other.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'shared', include: ALL, exclude: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
