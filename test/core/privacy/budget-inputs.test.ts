/**
 * Budget inputs (docs/privacy.md): δ ≥ 1/N is refused naming the bound, the RDP→(ε, δ)
 * conversion never goes below 0, and every infeasible request gets a clear refusal with no
 * NaN, undefined or Infinity in it, whichever accountant plans.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ORDERS, InfeasiblePlanError, planPrivacy, rdpToEpsilon } from '../../../core/privacy/index.js';
import { parseRunConfig, type RunConfigInput } from '../../../core/config/index.js';

const plan = (records: number, config: RunConfigInput) => planPrivacy({ records, config: parseRunConfig(config) });

function refusal(run: () => unknown): InfeasiblePlanError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InfeasiblePlanError);
    return error as InfeasiblePlanError;
  }
  throw new Error('expected a refusal');
}

describe('δ must lie below 1/N', () => {
  for (const accountant of ['rdp', 'pld'] as const) {
    it(`refuses δ = 1/N and δ = 50/N, naming the largest allowed (${accountant})`, () => {
      for (const delta of [1 / 1000, 50 / 1000]) {
        const e = refusal(() => plan(1000, { privacy: { delta, accountant } }));
        expect(e.message).toMatch(/^δ = [\d.e-]+ is not below 1\/N = 1\/1,000 = 0\.001: δ must be smaller than 0\.001/);
        expect(e.message).toContain('1/(10·N) = 0.0001');
      }
    });
  }

  it('plans with δ just below 1/N', () => {
    const p = plan(1000, { privacy: { delta: 0.00099, accountant: 'rdp' } });
    expect(p.delta).toBe(0.00099);
    expect(p.epsilon).toBeLessThanOrEqual(8);
  });

  it('never suggests a record count at which the given δ would itself be refused', () => {
    const e = refusal(() => plan(1000, { privacy: { delta: 0.0009, epsilon: 0.01 } }));
    expect(e.minimumRecords).toBeUndefined();
    expect(e.message).toMatch(/no number of records makes ε = 0\.01 work at this δ/);
  });
});

describe('the RDP→(ε, δ) conversion', () => {
  it('is clamped at 0 where a large δ would push the bound below it', () => {
    const zero = DEFAULT_ORDERS.map(() => 0);
    expect(rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: zero, delta: 0.9 }).epsilon).toBe(0);
    const tiny = DEFAULT_ORDERS.map((a) => a * 1e-6);
    expect(rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: tiny, delta: 0.5 }).epsilon).toBe(0);
    // And unchanged where it is positive.
    expect(rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: zero, delta: 1e-5 }).epsilon).toBeCloseTo(0.1028, 3);
  });
});

describe('every request is planned or clearly refused', () => {
  it('no NaN, undefined or Infinity in any refusal (property, both accountants)', () => {
    const request = fc.record({
      records: fc.integer({ min: 1, max: 20_000 }),
      epsilon: fc.double({ min: 0.01, max: 100, noNaN: true }),
      // Log-uniform, so that both sides of 1/N come up.
      delta: fc.oneof(
        fc.constant('auto' as const),
        fc.double({ min: 0.3, max: 12, noNaN: true }).map((u) => 10 ** -u),
      ),
      batch: fc.integer({ min: 1, max: 512 }),
      epochs: fc.integer({ min: 1, max: 10 }),
      accountant: fc.constantFrom('rdp' as const, 'pld' as const),
    });
    fc.assert(
      fc.property(request, (r) => {
        const config: RunConfigInput = {
          privacy: { epsilon: r.epsilon, delta: r.delta, accountant: r.accountant },
          generator: { batchSize: r.batch, epochs: r.epochs },
          reward: { batchSize: r.batch, epochs: r.epochs },
        };
        try {
          const p = plan(r.records, config);
          expect(p.epsilon).toBeLessThanOrEqual(r.epsilon);
          expect(p.delta).toBeLessThan(1 / r.records);
        } catch (error) {
          expect(error).toBeInstanceOf(InfeasiblePlanError);
          const { message, minimumEpsilon, minimumRecords } = error as InfeasiblePlanError;
          expect(message).not.toMatch(/NaN|undefined|Infinity|null/);
          if (minimumEpsilon !== undefined) expect(Number.isFinite(minimumEpsilon)).toBe(true);
          if (minimumRecords !== undefined) expect(Number.isInteger(minimumRecords)).toBe(true);
        }
      }),
      { numRuns: 16, seed: 11 },
    );
  });
});
