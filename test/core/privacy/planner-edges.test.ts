/**
 * The planner's edges that the worked examples in planner.test.ts do not reach: every refusal's
 * exact wording (it is what the operator reads), the δ < 1/N boundary, which proxy a refusal
 * names, and the job contract's schedule at its corners. Mutation testing found these unpinned
 * (bench/mutation/README.md).
 */
import { describe, expect, it } from 'vitest';
import {
  accountedEpsilon,
  composeEpsilon,
  DEFAULT_ORDERS,
  dpSgdSchedule,
  InfeasiblePlanError,
  PLANNER_DISCRETIZATION,
  pldEpsilon,
  planPrivacy,
  rdpToEpsilon,
} from '../../../core/privacy/index.js';
import { parseRunConfig, type RunConfigInput } from '../../../core/config/index.js';

const plan = (records: number, config: RunConfigInput = {}) =>
  planPrivacy({ records, config: parseRunConfig({ ...config, privacy: { accountant: 'rdp', ...config.privacy } }) });

function refusal(records: number, config: RunConfigInput = {}): InfeasiblePlanError {
  try {
    plan(records, config);
  } catch (error) {
    expect(error).toBeInstanceOf(InfeasiblePlanError);
    expect((error as Error).name).toBe('InfeasiblePlanError');
    return error as InfeasiblePlanError;
  }
  throw new Error('expected an InfeasiblePlanError');
}

describe('the refusals say exactly what is wrong and what would work', () => {
  it('no records, or a record count that is not a whole number', () => {
    expect(refusal(0).message).toBe('the training set must hold at least one record (got 0)');
    expect(refusal(1.5).message).toBe('the training set must hold at least one record (got 1.5)');
  });

  it('one record is enough to plan, with batches of one', () => {
    const p = plan(1, { generator: { batchSize: 1 }, reward: { batchSize: 1 } });
    expect(p.generator).toMatchObject({ sampleRate: 1, steps: 3 });
    expect(p.epsilon).toBeLessThanOrEqual(8);
  });

  it('a batch larger than the records, for either proxy', () => {
    expect(refusal(40, { reward: { batchSize: 32 } }).message).toBe(
      'generator.batchSize 64 is larger than the 40 training records: set generator.batchSize to at most 40, ' +
        'or train on at least 64 records',
    );
    expect(refusal(40, { generator: { batchSize: 40 } }).message).toBe(
      'reward.batchSize 64 is larger than the 40 training records: set reward.batchSize to at most 40, ' +
        'or train on at least 64 records',
    );
  });

  it('δ not below 1/N, at exactly 1/N; just below it plans', () => {
    const e = refusal(100, { privacy: { delta: 0.01 } });
    expect(e.message).toBe(
      'δ = 0.01 is not below 1/N = 1/100 = 0.01: δ must be smaller than 0.01 (the customary choice is at most ' +
        '1/(10·N) = 0.001; privacy.delta "auto" picks min(1e-5, 1/(10·N)))',
    );
    expect(refusal(12_345, { privacy: { delta: 0.5 } }).message).toMatch(/^δ = 0\.5 is not below 1\/N = 1\/12,345 = /);
    const below = plan(100, { privacy: { delta: 0.009 } });
    expect(below.delta).toBe(0.009);
    expect(below.epsilon).toBeLessThanOrEqual(8);
  });

  it('an evaluation that takes the whole budget', () => {
    const e = refusal(3364, { privacy: { epsilon: 2 }, evaluation: { noise: { mechanism: 'laplace', epsilon: 2 } } });
    expect(e.message).toBe(
      'evaluation.noise.epsilon = 2 leaves nothing of privacy.epsilon = 2 for the two DP trainings: lower ' +
        'evaluation.noise.epsilon or raise privacy.epsilon',
    );
  });

  it('a budget below the floor: the ε and the record count that work, in full', () => {
    const e = refusal(200, { privacy: { epsilon: 0.12 } });
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([0.135, 330]);
    expect(e.message).toBe(
      'ε = 0.12 (δ = 1.00e-5) cannot be met with 200 records: the generation proxy would need a noise multiplier ' +
        'above 50. These settings allow ε ≥ 0.135; ε = 0.12 works from 330 records. Fewer epochs or a smaller ' +
        'batch size also lower the ε that a noise multiplier buys',
    );
  });

  it('a budget the RDP conversion cannot certify at this δ, whatever the records', () => {
    const e = refusal(200, { privacy: { epsilon: 0.1 } });
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([0.135, undefined]);
    expect(e.message).toBe(
      'ε = 0.1 (δ = 1.00e-5) cannot be met with 200 records: the generation proxy would need a noise multiplier ' +
        'above 50. These settings allow ε ≥ 0.135; the RDP accountant cannot certify ε ≤ 0.103 at this δ with ' +
        'any number of records. Fewer epochs or a smaller batch size also lower the ε that a noise multiplier buys',
    );
  });

  it('at exactly the RDP conversion’s limit: cannot certify; a hair above it: no number of records', () => {
    // The conversion's ε for a mechanism that leaks nothing: the floor below every RDP plan at δ = 1e-5.
    const limit = rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: DEFAULT_ORDERS.map(() => 0), delta: 1e-5 }).epsilon;
    const at = refusal(200, { privacy: { epsilon: limit } });
    expect(at.minimumRecords).toBeUndefined();
    expect(at.message).toMatch(/; the RDP accountant cannot certify ε ≤ 0\.103 at this δ with any number of records\./);
    // Above the limit the record search runs; δ auto shrinks with N, so it finds none.
    const above = refusal(200, { privacy: { epsilon: limit + 1e-15 } });
    expect(above.minimumRecords).toBeUndefined();
    expect(above.message).toMatch(/; no number of records makes ε = 0\.1028672512112\d* work at this δ\./);
  });

  it('suggests no record count when a fixed δ stops being below 1/N before ε is met', () => {
    // δ = 0.004 holds only below 250 records; 0.02 needs more than that, so no N works.
    const e = refusal(200, { privacy: { epsilon: 0.02, delta: 0.004 } });
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([0.0369, undefined]);
    expect(e.message).toBe(
      'ε = 0.02 (δ = 4.00e-3) cannot be met with 200 records: the generation proxy would need a noise multiplier ' +
        'above 50. These settings allow ε ≥ 0.0369; no number of records makes ε = 0.02 work at this δ. Fewer ' +
        'epochs or a smaller batch size also lower the ε that a noise multiplier buys',
    );
  });

  it('suggests a record count below 1/δ when a fixed δ refuses the next step of the doubling search', () => {
    // δ = 0.004 allows at most 249 records; ε = 0.035 works a little above 200 records, but the
    // search's first doubling (400) is refused by δ whatever the noise.
    const e = refusal(200, { privacy: { epsilon: 0.035, delta: 0.004 } });
    expect(e.minimumRecords).toBeGreaterThan(200);
    expect(e.minimumRecords).toBeLessThanOrEqual(249);
    expect(e.message).toMatch(new RegExp(`; ε = 0\\.035 works from ${e.minimumRecords} records\\.`));
    expect(plan(e.minimumRecords!, { privacy: { epsilon: 0.035, delta: 0.004 } }).epsilon).toBeLessThanOrEqual(0.035);
  });

  it('does not suggest the record count at which a fixed δ equals 1/N', () => {
    // Batches of 200 with 200 to 400 records: two steps, q = 200/N, so the floor falls with N and
    // first drops below ε = 0.02652 at exactly N = 400 = 1/δ, where δ is no longer below 1/N.
    const small: RunConfigInput = { generator: { batchSize: 200, epochs: 1 }, reward: { batchSize: 200, epochs: 1 } };
    const e = refusal(200, { ...small, privacy: { epsilon: 0.02652, delta: 0.0025 } });
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([0.0391, undefined]);
    expect(e.message).toMatch(/ε ≥ 0\.0391; no number of records makes ε = 0\.02652 work at this δ\./);
    expect(refusal(399, { ...small, privacy: { epsilon: 0.02652, delta: 0.0025 } }).minimumEpsilon).toBe(0.0266);
    // At 400 records only δ stands in the way: a hair smaller δ plans.
    expect(plan(400, { ...small, privacy: { epsilon: 0.02652, delta: 0.0024999 } }).epsilon).toBeLessThanOrEqual(
      0.02652,
    );
  });

  it('suggests a record count beyond the first doublings of the search', () => {
    // 400 and 800 records are tried before the bisection: the answer lies between them.
    const e = refusal(200, { privacy: { epsilon: 0.11 } });
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([0.135, 692]);
    expect(e.message).toMatch(/; ε = 0\.11 works from 692 records\./);
  });

  it('checks the doubling search’s last step at exactly 1e10 records before giving up', () => {
    // From 5^10 records the doubling reaches 2^10 · 5^10 = 1e10 exactly. With the largest batches
    // and epochs and δ = 1e-11 the floor falls slowly with N: 0.325731… at 5e9 records, 0.325714…
    // at 1e10, so ε = 0.32572 is first met between them.
    const big = { batchSize: 65_536, epochs: 100 };
    const config: RunConfigInput = { generator: big, reward: big, privacy: { epsilon: 0.32572, delta: 1e-11 } };
    const e = refusal(5 ** 10, config);
    expect(e.minimumRecords).toBeGreaterThan(5e9);
    expect(e.minimumRecords).toBeLessThanOrEqual(1e10);
    expect(e.message).toMatch(
      new RegExp(`; ε = 0\\.32572 works from ${e.minimumRecords!.toLocaleString('en-US')} records\\.`),
    );
    expect(plan(e.minimumRecords!, config).epsilon).toBeLessThanOrEqual(0.32572);
    expect(refusal(5e9, config).minimumRecords).toBe(e.minimumRecords);
  });

  it('suggests the record count whose floor equals the requested ε exactly', () => {
    // 0.12 lies within 0.2 % above the floor at 330 records, so this plan's total is that floor.
    const floor330 = plan(330, { privacy: { epsilon: 0.12 } }).epsilon;
    expect(floor330).toBeLessThan(0.12);
    expect(refusal(329, { privacy: { epsilon: floor330 } }).minimumEpsilon).toBe(0.121);
    const e = refusal(200, { privacy: { epsilon: floor330 } });
    expect(e.minimumRecords).toBe(330);
    expect(plan(330, { privacy: { epsilon: floor330 } }).epsilon).toBe(floor330);
  });

  it('names the proxy whose share binds: the reward proxy when it gets the smaller share', () => {
    expect(refusal(200, { privacy: { epsilon: 0.12, split: 0.9 } }).message).toMatch(
      /^ε = 0\.12 \(δ = 1\.00e-5\) cannot be met with 200 records: the reward proxy would need/,
    );
    expect(refusal(200, { privacy: { epsilon: 0.12, split: 0.1 } }).message).toMatch(/: the generation proxy would/);
    // The reward proxy's share sets the floor here: 1.07, far above the generation proxy's 0.135 at split 0.5.
    const e = refusal(200, { privacy: { epsilon: 0.12, split: 0.9 } });
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([1.07, undefined]);
  });
});

describe('the smallest ε a refusal quotes is one that plans', () => {
  // δ moves the floor (the smallest total these settings allow) continuously: at 200 records
  // these two neighbouring doubles, found by bisection on δ, put it exactly on 0.134 and one
  // ulp above. Within 0.2 % above the floor a plan keeps the floor's own allocation, so its
  // total is the floor to the last bit.
  const onGrid = 1.0005027665055573e-5;
  const aboveGrid = 1.0005027665055571e-5;
  const floorAt = (delta: number) => plan(200, { privacy: { epsilon: 0.1342, delta } }).epsilon;

  it('a floor exactly on 0.134 is quoted as 0.134, and 0.134 plans', () => {
    expect(floorAt(onGrid)).toBe(0.134);
    expect(refusal(200, { privacy: { epsilon: 0.12, delta: onGrid } }).minimumEpsilon).toBe(0.134);
    expect(plan(200, { privacy: { epsilon: 0.134, delta: onGrid } }).epsilon).toBe(0.134);
  });

  it('a floor one ulp above 0.134 is quoted as 0.135, because 0.134 is refused', () => {
    expect(floorAt(aboveGrid)).toBe(0.134 + 2 ** -55);
    expect(refusal(200, { privacy: { epsilon: 0.12, delta: aboveGrid } }).minimumEpsilon).toBe(0.135);
    expect(refusal(200, { privacy: { epsilon: 0.134, delta: aboveGrid } }).minimumEpsilon).toBe(0.135);
    expect(plan(200, { privacy: { epsilon: 0.135, delta: aboveGrid } }).epsilon).toBeLessThanOrEqual(0.135);
  });
});

describe('the outer search', () => {
  it('plans a budget exactly at the floor, at the floor; the next double below is refused', () => {
    // Within 0.2 % above the floor the search keeps the floor's own allocation, so this plan's
    // total is the floor to the last bit (the refusals above round it up to 0.135).
    const floor = plan(200, { privacy: { epsilon: 0.1342 } }).epsilon;
    expect(floor).toBeGreaterThan(0.134);
    expect(floor).toBeLessThan(0.1342);
    const at = plan(200, { privacy: { epsilon: floor } });
    expect(at.epsilon).toBe(floor);
    expect(at.epsilon).toBe(composeEpsilon([at.generator, at.reward], at.delta));
    expect(at.generator.noiseMultiplier).toBeLessThanOrEqual(50);
    const below = refusal(200, { privacy: { epsilon: floor - 2 ** -55 } });
    expect([below.minimumEpsilon, below.minimumRecords]).toEqual([0.135, 201]);
  });

  it('stops as soon as the total reaches 99.8 % of the target, even at the floor itself', () => {
    const floor = plan(200, { privacy: { epsilon: 0.1342 } }).epsilon;
    // The double whose 99.8 % (the search's own tolerance, inside the promised 99 %) is the floor to the last bit.
    const target = 0.13427666044108608;
    expect((1 - 2e-3) * target).toBe(floor);
    expect(plan(200, { privacy: { epsilon: target } }).epsilon).toBe(floor);
    // One step up the floor no longer suffices and the search moves off it.
    const next = plan(200, { privacy: { epsilon: target + 2 ** -55 } }).epsilon;
    expect(next).toBeGreaterThan(floor);
    expect(next).toBeLessThanOrEqual(target + 2 ** -55);
  });

  it('takes its first upper end when the lopsided split already meets the target there', () => {
    // split 0.99: the generation proxy alone gets ε = 50 within 1e-4, and the reward proxy's
    // ε ≈ 0.5 at 100,000 records adds less than that to the composition (measured 1.6e-5 below).
    const p = plan(100_000, { privacy: { split: 0.99, epsilon: 50 } });
    expect(p.epsilon).toBe(composeEpsilon([p.generator, p.reward], p.delta));
    expect(p.epsilon).toBeLessThanOrEqual(50);
    expect(p.epsilon).toBeGreaterThanOrEqual((1 - 1e-4) * 50);
    expect(p.generator.epsilon).toBeGreaterThanOrEqual((1 - 1e-4) * 50);
    expect(p.generator.epsilon / p.reward.epsilon).toBeCloseTo(99, 1);
    // Pinned bit for bit: entering the search instead lands elsewhere within its tolerance.
    expect([p.generator.noiseMultiplier, p.reward.noiseMultiplier, p.epsilon]).toEqual([
      0.2624058864751748, 1.2308562492336577, 49.99918315187427,
    ]);
  });
});

describe('the job contract schedule and the accountant a plan names', () => {
  it('q = min(1, B/N) and steps = epochs · ceil(N/B)', () => {
    expect(dpSgdSchedule({ records: 1000, batchSize: 3, epochs: 2 })).toEqual({ sampleRate: 3 / 1000, steps: 668 });
    expect(dpSgdSchedule({ records: 10, batchSize: 64, epochs: 3 })).toEqual({ sampleRate: 1, steps: 3 });
    expect(dpSgdSchedule({ records: 64, batchSize: 64, epochs: 1 })).toEqual({ sampleRate: 1, steps: 1 });
  });

  it('accountedEpsilon is the RDP composition for rdp and the planner-grid PLD for pld', () => {
    const mechanisms = [
      { noiseMultiplier: 1.1, sampleRate: 0.02, steps: 50 },
      { noiseMultiplier: 0.9, sampleRate: 0.05, steps: 20 },
    ];
    expect(accountedEpsilon('rdp', mechanisms, 1e-5)).toBe(composeEpsilon(mechanisms, 1e-5));
    const pld = accountedEpsilon('pld', mechanisms, 1e-5);
    expect(pld).toBe(pldEpsilon(mechanisms, 1e-5, { discretization: PLANNER_DISCRETIZATION }));
    expect(pld).toBeLessThan(composeEpsilon(mechanisms, 1e-5));
  });
});
