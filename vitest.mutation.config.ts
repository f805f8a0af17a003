// The unit tests of one mutated module (bench/mutation/modules.mjs), for Stryker's vitest runner.
import { defineConfig } from 'vitest/config';
import { selectedModule } from './bench/mutation/modules.mjs';

export default defineConfig({
  test: {
    include: selectedModule().tests,
    testTimeout: 120_000,
    pool: 'forks',
  },
});
