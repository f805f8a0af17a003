// Mutation testing of the TypeScript core, one module per run: `make mutation` (bench/mutation/README.md).
import { selectedModule } from './bench/mutation/modules.mjs';

const module = selectedModule();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  // Each mutant runs only the tests that covered its code in the first, instrumented run.
  coverageAnalysis: 'perTest',
  mutate: module.mutate,
  // The sandbox needs the TypeScript sources and tests, not the Python jobs or their venv.
  ignorePatterns: [
    '/jobs',
    '/.venv',
    '/bench/out',
    '/bench/mutation/out',
    '/.mutation-node',
    '/.stryker-tmp',
    '/examples',
    '/docs',
    '/cdk.out',
    '/.rewardds',
  ],
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  // The machine is shared and loaded: a slow mutant is not a hung one.
  timeoutFactor: 3,
  timeoutMS: 20_000,
  // The instrumented first run (it records which test covers which mutant) is many times
  // slower than a plain one: the accountant's inner loops call the coverage hook per expression.
  dryRunTimeoutMinutes: 60,
  // Mutants of module-level constants would rerun every test file; the golden values pin those.
  ignoreStatic: true,
  checkers: [],
  // TypeScript 7 has no JavaScript API for Stryker's tsconfig rewrite, and vitest needs none:
  // a name that matches no file skips that step.
  tsconfigFile: 'tsconfig.stryker-skip.json',
  reporters: ['json', 'clear-text', 'progress-append-only'],
  // A rerun of part of a module (`--mutate <file>`) sets MUTATION_PART: its report then
  // replaces that file's results in the summary (bench/mutation/summarize.py).
  jsonReporter: {
    fileName: `bench/mutation/out/stryker-${module.name}${process.env.MUTATION_PART ? `.${process.env.MUTATION_PART}` : ''}.json`,
  },
  tempDirName: `.stryker-tmp/${module.name}${process.env.MUTATION_PART ?? ''}`,
  incremental: process.env.MUTATION_INCREMENTAL === '1',
  incrementalFile: `bench/mutation/out/stryker-incremental-${module.name}.json`,
  cleanTempDir: true,
};
