/**
 * The planner: the plan meets the target total from below within 1 %, follows the split and
 * the job contract's schedule, and refuses what cannot work with a reason that says what would.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  composeEpsilon,
  InfeasiblePlanError,
  MAX_NOISE_MULTIPLIER,
  mechanismEpsilon,
  planPrivacy,
  type PrivacyPlan,
} from '../../../core/privacy/index.js';
import { parseRunConfig, type RunConfigInput } from '../../../core/config/index.js';

// These tests check the RDP planner against the RDP accountant (test/core/privacy has the PLD's).
const plan = (records: number, config: RunConfigInput = {}) =>
  planPrivacy({ records, config: parseRunConfig({ ...config, privacy: { accountant: 'rdp', ...config.privacy } }) });

function expectMeetsTarget(p: PrivacyPlan): void {
  expect(p.epsilon).toBeLessThanOrEqual(p.targetEpsilon);
  expect(p.epsilon).toBeGreaterThanOrEqual(0.99 * p.targetEpsilon);
  // The stated total is the composition of the stated mechanisms, not a figure of the search.
  expect(p.epsilon).toBe(composeEpsilon([p.generator, p.reward], p.delta));
}

function infeasible(run: () => unknown): InfeasiblePlanError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InfeasiblePlanError);
    return error as InfeasiblePlanError;
  }
  throw new Error('expected an InfeasiblePlanError');
}

describe('planPrivacy', () => {
  it('plans the defaults for the medical set (3,364 records) with the job contract schedule', () => {
    const p = plan(3364);
    expectMeetsTarget(p);
    expect(p).toMatchObject({ targetEpsilon: 8, delta: 1e-5, accountant: 'rdp', split: 0.5 });
    // A grid width is a PLD figure: an RDP plan, and the privacy.json that states it, carry none.
    expect(p).not.toHaveProperty('discretization');
    for (const m of [p.generator, p.reward]) {
      expect(m).toMatchObject({ sampleRate: 64 / 3364, steps: 3 * 53, batchSize: 64, epochs: 3, clipNorm: 1 });
      expect(m.epsilon).toBe(mechanismEpsilon(m, p.delta));
    }
    // Same schedule and an even split: the same noise for both proxies.
    expect(p.generator.noiseMultiplier).toBe(p.reward.noiseMultiplier);
    expect(p.generator.noiseMultiplier).toBeGreaterThan(0.5);
    expect(p.generator.noiseMultiplier).toBeLessThan(1);
  });

  it('gives the proxies ε in the ratio split : (1 − split)', () => {
    const p = plan(5000, { privacy: { epsilon: 4, split: 0.3 } });
    expectMeetsTarget(p);
    expect(p.generator.epsilon / p.reward.epsilon).toBeCloseTo(0.3 / 0.7, 3);
    expect(p.generator.noiseMultiplier).toBeGreaterThan(p.reward.noiseMultiplier);
  });

  it('takes δ = min(1e-5, 1/(10·N)) when auto, and the given δ otherwise', () => {
    expect(plan(50_000).delta).toBeCloseTo(2e-6, 20);
    expect(plan(5000).delta).toBe(1e-5);
    expect(plan(5000, { privacy: { delta: 1e-7 } }).delta).toBe(1e-7);
  });

  it('adds noise as the budget shrinks', () => {
    const loose = plan(2000, { privacy: { epsilon: 8 } });
    const tight = plan(2000, { privacy: { epsilon: 2 } });
    expect(tight.generator.noiseMultiplier).toBeGreaterThan(loose.generator.noiseMultiplier);
    expectMeetsTarget(tight);
  });

  it('handles each proxy with its own batch size and epochs', () => {
    const p = plan(1000, { generator: { batchSize: 10, epochs: 1 }, reward: { batchSize: 250, epochs: 5 } });
    expectMeetsTarget(p);
    expect(p.generator).toMatchObject({ sampleRate: 0.01, steps: 100 });
    expect(p.reward).toMatchObject({ sampleRate: 0.25, steps: 20 });
  });

  it('never overshoots and lands within 1 % for any feasible request (property)', () => {
    const request = fc.record({
      records: fc.integer({ min: 50, max: 200_000 }),
      epsilon: fc.double({ min: 0.3, max: 50, noNaN: true }),
      split: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
      genBatch: fc.integer({ min: 1, max: 512 }),
      rewBatch: fc.integer({ min: 1, max: 512 }),
      genEpochs: fc.integer({ min: 1, max: 5 }),
      rewEpochs: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(request, (r) => {
        const config: RunConfigInput = {
          privacy: { epsilon: r.epsilon, split: r.split },
          generator: { batchSize: r.genBatch, epochs: r.genEpochs },
          reward: { batchSize: r.rewBatch, epochs: r.rewEpochs },
        };
        try {
          expectMeetsTarget(plan(r.records, config));
        } catch (error) {
          if (!(error instanceof InfeasiblePlanError)) throw error;
          // Refusals must be real: too small a data set for the batch, or σ beyond the bound.
          const e = error as InfeasiblePlanError;
          const batchTooBig = Math.max(r.genBatch, r.rewBatch) > r.records;
          expect(batchTooBig || (e.minimumEpsilon ?? Infinity) > r.epsilon).toBe(true);
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('infeasible requests are refused before any job starts', () => {
  it('an empty training set', () => {
    expect(infeasible(() => plan(0)).message).toMatch(/at least one record/);
  });

  it('a batch larger than the data, naming the key and what would work', () => {
    const e = infeasible(() => plan(40, { reward: { batchSize: 32 } }));
    expect(e.message).toMatch(/generator\.batchSize 64 is larger than the 40 training records/);
    expect(e.message).toMatch(/at most 40/);
    expect(infeasible(() => plan(40, { generator: { batchSize: 32 } })).message).toMatch(/reward\.batchSize 64/);
  });

  it('a budget that needs σ above the bound: states the ε and the record count that would work, and both do', () => {
    const e = infeasible(() => plan(200, { privacy: { epsilon: 0.12 } }));
    expect(e.message).toMatch(new RegExp(`noise multiplier above ${MAX_NOISE_MULTIPLIER}`));
    expect(e.minimumEpsilon).toBeGreaterThan(0.12);
    expect(e.message).toContain(`ε ≥ ${e.minimumEpsilon}`);
    expect(e.minimumRecords).toBeGreaterThan(200);
    expect(e.message).toContain(`works from ${e.minimumRecords!.toLocaleString('en-US')} records`);

    expectMeetsTarget(plan(200, { privacy: { epsilon: e.minimumEpsilon! } }));
    const enough = plan(e.minimumRecords!, { privacy: { epsilon: 0.12 } });
    expectMeetsTarget(enough);
    expect(enough.generator.noiseMultiplier).toBeLessThanOrEqual(MAX_NOISE_MULTIPLIER);
    infeasible(() => plan(e.minimumRecords! - 1, { privacy: { epsilon: 0.12 } }));
  });

  it('a budget below what the RDP accountant can certify at that δ, whatever the data', () => {
    const e = infeasible(() => plan(200, { privacy: { epsilon: 0.1 } }));
    expect(e.message).toMatch(/cannot certify ε ≤ 0\.103/);
    expect(e.minimumRecords).toBeUndefined();
  });
});

describe('the noised evaluation’s reservation', () => {
  it('plans the trainings for privacy.epsilon less the evaluation’s ε; the Gaussian takes half of δ', () => {
    const off = plan(3364, { privacy: { epsilon: 8 } });
    expect(off.evaluation).toBeUndefined();
    const laplace = plan(3364, {
      privacy: { epsilon: 8 },
      evaluation: { noise: { mechanism: 'laplace', epsilon: 1 } },
    });
    expect(laplace.evaluation).toEqual({ mechanism: 'laplace', epsilon: 1, delta: 0 });
    expect(laplace.targetEpsilon).toBe(7);
    expect(laplace.delta).toBe(off.delta);
    expectMeetsTarget(laplace);
    // Less budget for the trainings: more noise.
    expect(laplace.generator.noiseMultiplier).toBeGreaterThan(off.generator.noiseMultiplier);
    const gaussian = plan(3364, {
      privacy: { epsilon: 8 },
      evaluation: { noise: { mechanism: 'gaussian', epsilon: 1 } },
    });
    expect(gaussian.evaluation).toEqual({ mechanism: 'gaussian', epsilon: 1, delta: off.delta / 2 });
    expect(gaussian.delta + gaussian.evaluation!.delta).toBe(off.delta);
    expectMeetsTarget(gaussian);
  });

  it('refuses an evaluation ε that leaves nothing for the trainings', () => {
    const error = infeasible(() =>
      plan(3364, { privacy: { epsilon: 2 }, evaluation: { noise: { mechanism: 'laplace', epsilon: 2 } } }),
    );
    expect(error.message).toMatch(/evaluation\.noise\.epsilon = 2 leaves nothing of privacy\.epsilon = 2/);
  });

  it('with Gaussian evaluation noise, the suggested record count is the fewest that work at the trainings’ δ', () => {
    const config: RunConfigInput = {
      privacy: { epsilon: 1.125 },
      evaluation: { noise: { mechanism: 'gaussian', epsilon: 1 } },
    };
    const e = infeasible(() => plan(200, config));
    expect(e.minimumRecords).toBeGreaterThan(200);
    const enough = plan(e.minimumRecords!, config);
    expect(enough.delta).toBe(enough.evaluation!.delta);
    expectMeetsTarget(enough);
    infeasible(() => plan(e.minimumRecords! - 1, config));
  });
});
