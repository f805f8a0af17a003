/**
 * The release gate's pure check (functions/release/privacy-check.ts) at its edges: the
 * budget comparison right at the target, and the record count each job trained on.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../core/config/index.js';
import { composeEpsilon, mechanismEpsilon, planPrivacy, type ModelPlan } from '../../core/privacy/index.js';
import {
  checkRelease,
  PrivacyBudgetExceeded,
  PrivacyCheckFailed,
  type DpMetrics,
} from '../../functions/release/privacy-check.js';

const RECORDS = 500;
const plan = planPrivacy({
  records: RECORDS,
  config: parseRunConfig({
    // RDP, so the composed ε below is the one release computes for this plan.
    privacy: { epsilon: 6, accountant: 'rdp' },
    generator: { batchSize: 50 },
    reward: { batchSize: 25, epochs: 2 },
  }),
});

function metrics(stage: string, m: ModelPlan, records = RECORDS): DpMetrics {
  return {
    stage,
    records,
    epochs: m.epochs,
    steps: m.steps,
    sampleRate: m.sampleRate,
    noiseMultiplier: m.noiseMultiplier,
    clipNorm: m.clipNorm,
    delta: plan.delta,
    epsilon: mechanismEpsilon(m, plan.delta),
    accountant: 'rdp',
  };
}

const honest = { generator: metrics('train-generator', plan.generator), reward: metrics('train-reward', plan.reward) };
/** What the two trainings of the plan really compose to. */
const spent = composeEpsilon([plan.generator, plan.reward], plan.delta);

describe('checkRelease: the budget right at the target', () => {
  it('releases when the composed ε equals the target or sits just below it', () => {
    for (const target of [spent, spent * (1 + 1e-9)]) {
      const verdict = checkRelease(honest, { ...plan, targetEpsilon: target }, RECORDS);
      expect(verdict.epsilon).toBe(spent);
      expect(verdict.targetEpsilon).toBe(target);
    }
  });

  it('refuses when the composed ε is just above the target (by one part in a billion, or by 1 %)', () => {
    for (const target of [spent * (1 - 1e-9), spent / 1.01]) {
      expect(() => checkRelease(honest, { ...plan, targetEpsilon: target }, RECORDS)).toThrow(PrivacyBudgetExceeded);
    }
  });

  it('refuses a job that took one step more than a plan whose ε lands on the target', () => {
    // A job that strays from the plan is refused for that, before any budget arithmetic.
    const exact = { ...plan, targetEpsilon: spent };
    const oneMore = { ...plan.reward, steps: plan.reward.steps + 1 };
    expect(() => checkRelease({ ...honest, reward: metrics('train-reward', oneMore) }, exact, RECORDS)).toThrow(
      PrivacyCheckFailed,
    );
    expect(() => checkRelease({ ...honest, reward: metrics('train-reward', oneMore) }, exact, RECORDS)).toThrow(
      /steps/,
    );
  });
});

describe('checkRelease: each job trained on the run’s N records', () => {
  it.each([
    ['generator', RECORDS - 1],
    ['generator', RECORDS + 1],
    ['reward', RECORDS - 1],
    ['reward', 2 * RECORDS],
  ] as const)('refuses %s metrics that report %i records', (name, records) => {
    const stage = name === 'generator' ? 'train-generator' : 'train-reward';
    const off = { ...honest, [name]: metrics(stage, plan[name], records) };
    expect(() => checkRelease(off, plan, RECORDS)).toThrow(
      new PrivacyCheckFailed(`${name}: the job trained on ${records} records, the run prepared ${RECORDS}`),
    );
  });

  it('releases when both report exactly N, and records N in the verdict', () => {
    expect(checkRelease(honest, plan, RECORDS)).toMatchObject({ records: RECORDS, epsilon: spent });
  });
});
