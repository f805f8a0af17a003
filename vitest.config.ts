import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine. Most of
    // a slow file's time is spent waiting on the Python job processes it starts, so a worker per
    // core keeps both cores busy (docs/architecture.md, "The test suite").
    maxWorkers: availableParallelism(),
  },
});
