// The unit tests of one mutated module (bench/mutation/modules.mjs), for Stryker's vitest runner.
import { defineConfig } from 'vitest/config';
import { selectedModule } from './bench/mutation/modules.mjs';

export default defineConfig({
  test: {
    include: selectedModule().tests,
    setupFiles: ['bench/mutation/vitest-setup.ts'],
    // Instrumented code is slow; a mutant that loops forever still ends at Stryker's own timeout.
    testTimeout: 600_000,
    pool: 'forks',
  },
});
