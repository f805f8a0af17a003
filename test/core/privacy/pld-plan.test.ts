/**
 * Planning with the PLD accountant, checking release with the plan's accountant, and
 * `rewardds plan --accountant`: the PLD plan meets its target (recomputed on the finer default
 * grid too), needs less noise than RDP, and release judges a PLD plan by the PLD even when the
 * jobs' own RDP self-reports compose above the budget.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../cli/commands/plan.js';
import { pldEpsilon } from '../../../core/privacy/index.js';
import {
  checkRelease,
  PrivacyBudgetExceeded,
  PrivacyCheckFailed,
  type DpMetrics,
  type ModelName,
} from '../../../functions/release/privacy-check.js';
import {
  composeEpsilon,
  mechanismEpsilon,
  PLAN_TOLERANCE,
  PLANNER_DISCRETIZATION,
  planPrivacy,
  type ModelPlan,
  type PrivacyPlan,
} from '../../../core/privacy/index.js';
import { parseRunConfig, type RunConfigInput } from '../../../core/config/index.js';

const plan = (records: number, config: RunConfigInput = {}) => planPrivacy({ records, config: parseRunConfig(config) });
const both = (p: PrivacyPlan) => [p.generator, p.reward];

describe('the PLD planner', () => {
  it('is the default, and plans the medical defaults (3,364 records) with less noise than RDP', () => {
    const pld = plan(3364);
    const rdp = plan(3364, { privacy: { accountant: 'rdp' } });
    expect(pld).toMatchObject({ accountant: 'pld', discretization: PLANNER_DISCRETIZATION, targetEpsilon: 8 });
    expect(rdp.accountant).toBe('rdp');
    expect(rdp).not.toHaveProperty('discretization');
    expect(pld.generator.noiseMultiplier).toBeCloseTo(0.606, 3);
    expect(rdp.generator.noiseMultiplier).toBeCloseTo(0.641, 3);
    // Its total is the PLD's, within tolerance from below, and the finer grid agrees from below.
    expect(pld.epsilon).toBe(pldEpsilon(both(pld), pld.delta, { discretization: PLANNER_DISCRETIZATION }));
    expect(pld.epsilon).toBeLessThanOrEqual(8);
    expect(pld.epsilon).toBeGreaterThanOrEqual((1 - PLAN_TOLERANCE) * 8);
    expect(pldEpsilon(both(pld), pld.delta)).toBeLessThanOrEqual(pld.epsilon);
    // The same σ under RDP would overshoot: the saving is real, not a looser target.
    expect(composeEpsilon(both(pld), pld.delta)).toBeGreaterThan(8);
  });

  it('keeps the split between the proxies and handles different schedules', () => {
    const p = plan(20_000, {
      privacy: { epsilon: 3, split: 0.3 },
      generator: { batchSize: 32, epochs: 2 },
      reward: { batchSize: 128, epochs: 4 },
    });
    expect(p.generator.epsilon / p.reward.epsilon).toBeCloseTo(0.3 / 0.7, 2);
    expect(p.epsilon).toBeLessThanOrEqual(3);
    expect(p.epsilon).toBeGreaterThanOrEqual((1 - PLAN_TOLERANCE) * 3);
    expect(p.epsilon).toBe(pldEpsilon(both(p), p.delta, { discretization: PLANNER_DISCRETIZATION }));
  });

  it('refuses a budget that needs σ above the bound, with a feasible suggestion', () => {
    expect(() => plan(200, { privacy: { epsilon: 0.05 } })).toThrow(/noise multiplier above 50/);
  });
});

/** A job's metrics.json for exactly the planned schedule, self-reporting Opacus' RDP ε. */
function metricsFor(m: ModelPlan, delta: number, records: number, stage: string): DpMetrics {
  return {
    stage,
    records,
    epochs: m.epochs,
    steps: m.steps,
    sampleRate: m.sampleRate,
    noiseMultiplier: m.noiseMultiplier,
    clipNorm: m.clipNorm,
    delta,
    epsilon: mechanismEpsilon(m, delta),
    accountant: 'rdp',
  };
}

describe('release checks the budget with the accountant the plan used', () => {
  const records = 3364;
  const pld = plan(records);
  const metrics: Record<ModelName, DpMetrics> = {
    generator: metricsFor(pld.generator, pld.delta, records, 'train-generator'),
    reward: metricsFor(pld.reward, pld.delta, records, 'train-reward'),
  };

  it('releases a PLD plan whose RDP self-reports compose above the budget', () => {
    expect(composeEpsilon(both(pld), pld.delta)).toBeGreaterThan(8);
    const verdict = checkRelease(metrics, pld, records);
    expect(verdict.accountant).toBe('pld');
    expect(verdict.epsilon).toBe(pld.epsilon);
    expect(verdict.mechanisms.generator.selfReportedEpsilon).toBeGreaterThan(verdict.mechanisms.generator.epsilon);
  });

  it('refuses the same jobs under an RDP plan, and under a plan from before the choice (RDP)', () => {
    expect(() => checkRelease(metrics, { ...pld, accountant: 'rdp' }, records)).toThrow(PrivacyBudgetExceeded);
    const { accountant: _, discretization: __, ...legacy } = pld;
    expect(() => checkRelease(metrics, legacy as PrivacyPlan, records)).toThrow(PrivacyBudgetExceeded);
  });

  it('refuses a PLD plan whose jobs took more steps than planned, and a plan altered past the budget', () => {
    const longer = { ...metrics, generator: metricsFor({ ...pld.generator, steps: 400 }, pld.delta, records, 'g') };
    // Off the plan: refused by the plan check before any budget is computed.
    expect(() => checkRelease(longer, pld, records)).toThrow(PrivacyCheckFailed);
    // Run as an altered plan says: the plan check passes, the PLD budget check refuses.
    const altered = { ...pld, generator: { ...pld.generator, steps: 400 } };
    expect(() => checkRelease(longer, altered, records)).toThrow(PrivacyBudgetExceeded);
  });
});

describe('rewardds plan --accountant', () => {
  async function capture(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const code = await run(argv);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }
  afterEach(() => vi.restoreAllMocks());

  it('plans with the chosen accountant and says so in the JSON', async () => {
    for (const accountant of ['rdp', 'pld']) {
      const { code, stdout } = await capture([
        '--records',
        '1693',
        '--epsilon',
        '8',
        '--accountant',
        accountant,
        '--json',
      ]);
      expect(code).toBe(0);
      const doc = JSON.parse(stdout);
      expect(doc).toMatchObject({ accountant, neighbouring: 'add-remove' });
      const expected = plan(1693, { privacy: { accountant: accountant as 'rdp' | 'pld' } });
      expect(doc.generator.noiseMultiplier).toBe(expected.generator.noiseMultiplier);
    }
  });

  it("shows both accountants' σ for the same target in the table", async () => {
    const { code, stdout } = await capture(['--records', '3364', '--epsilon', '8']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/PLD accountant, add\/remove-one-record DP with N public/);
    expect(stdout).toMatch(/Noise for the same target: PLD σ_G 0\.606\d, σ_R 0\.606\d \(this plan\)/);
    expect(stdout).toMatch(/RDP σ_G 0\.6407, σ_R 0\.6407/);
    expect(stdout).toMatch(/PLD needs 5\.4 % \(generator\) and 5\.4 % \(reward\) less noise than RDP/);
  });

  it('refuses an unknown accountant (exit 2) and δ ≥ 1/N (exit 1)', async () => {
    const bad = await capture(['--records', '100', '--accountant', 'moments']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--accountant must be rdp or pld, got 'moments'/);
    const delta = await capture(['--records', '1000', '--delta', '0.05']);
    expect(delta.code).toBe(1);
    expect(delta.stderr).toMatch(/δ = 0\.05 is not below 1\/N/);
  });
});
