// Under mutation testing only (vitest.mutation.config.ts): Stryker's instrumented code runs the
// accountant's inner loops tens of times slower, so each property runs at most PROPERTY_RUNS (2)
// cases; the golden values and worked examples still run in full.
import { vi } from 'vitest';

// Only the privacy modules need it; the selection properties are fast enough to run in full.
const PROPERTY_RUNS = process.env.MUTATION_MODULE?.startsWith('privacy') ? 2 : Number.POSITIVE_INFINITY;

vi.mock('fast-check', async (importOriginal) => {
  const original = await importOriginal<typeof import('fast-check')>();
  const fc = original.default;
  const assert = ((property: Parameters<typeof fc.assert>[0], params?: Parameters<typeof fc.assert>[1]) =>
    fc.assert(
      property as never,
      {
        ...params,
        numRuns: Math.min(params?.numRuns ?? 100, PROPERTY_RUNS),
      } as never,
    )) as typeof fc.assert;
  return { ...original, assert, default: { ...fc, assert } };
});
