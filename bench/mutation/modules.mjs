/**
 * The modules `make mutation` mutates, each with the unit tests that guard it. Only these
 * test files run against a module's mutants: the e2e, infra and Python cross-check tests
 * are slow and are not what pins this logic (the golden values in the unit tests are).
 */
export const MODULES = {
  // The accountant's mutants run against its golden values and properties only: the planner's
  // tests cover the same code through a root search and would make each mutant minutes long.
  'privacy-accountant': {
    mutate: ['core/privacy/rdp.ts', 'core/privacy/conversion.ts'],
    tests: ['test/core/privacy/accountant-properties.test.ts', 'test/core/privacy/accountant-edges.test.ts'],
  },
  'privacy-planner': {
    mutate: ['core/privacy/planner.ts'],
    // The RDP planner's tests, and one small PLD schedule for the PLD-only branches:
    // pld-plan.test.ts's plans of the medical defaults take seconds each (see the README).
    tests: [
      'test/core/privacy/planner.test.ts',
      'test/core/privacy/planner-edges.test.ts',
      'test/core/privacy/planner-effort.test.ts',
      'test/core/privacy/planner-pld.test.ts',
    ],
  },
  selection: {
    mutate: ['core/selection/*.ts', '!core/selection/index.ts'],
    tests: ['test/core/selection/*.test.ts'],
  },
  config: {
    mutate: ['core/config/run-config.ts', 'core/config/stage-config.ts'],
    tests: ['test/core/config/run-config.test.ts', 'test/core/config/stage-config.test.ts'],
  },
  sagemaker: {
    mutate: ['core/sagemaker/sagemaker-request.ts'],
    tests: ['test/core/sagemaker/sagemaker-request.test.ts'],
  },
  normalize: {
    mutate: ['functions/prepare-run/normalize.ts'],
    tests: ['test/functions/normalize.test.ts'],
  },
  'release-check': {
    mutate: ['functions/release/privacy-check.ts'],
    tests: ['test/functions/release-privacy-check.test.ts', 'test/functions/release.test.ts'],
  },
};

/** The module named by MUTATION_MODULE (make mutation sets it, one Stryker run per module). */
export function selectedModule() {
  const name = process.env.MUTATION_MODULE;
  const module = name ? MODULES[name] : undefined;
  if (!module) throw new Error(`MUTATION_MODULE must be one of ${Object.keys(MODULES).join(', ')}; got ${name}`);
  return { name, ...module };
}
