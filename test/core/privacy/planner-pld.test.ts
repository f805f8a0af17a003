/**
 * The PLD planner's own branches (core/privacy/planner.ts): the PLD ε cache, the RDP-guided
 * bracket and the PLD total of an allocation. The schedule is tiny (100 records, batches of 50,
 * one epoch: q = 0.5, two steps) and the budgets small, so σ is large, each step's loss grid
 * short and a plan takes well under a second: mutation testing runs this file against every
 * planner mutant (bench/mutation/modules.mjs), which pld-plan.test.ts's plans are too slow for.
 *
 * With split 0.3 the two budgets take every path of the bracket: the generation proxy's share
 * is below anything RDP can certify at δ = 1e-5 (the RDP guide has no σ: the full bracket); the
 * reward proxy's PLD σ lies within 15 % of the RDP σ, within 40 %, or further below.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunConfigInput } from '../../../core/config/index.js';

const calls = vi.hoisted(() => ({ pld: 0 }));
vi.mock('../../../core/privacy/pld.js', async (importOriginal) => {
  // Typed through the barrel (the import scan allows no other path); the mock itself must name the module.
  const original = await importOriginal<typeof import('../../../core/privacy/index.js')>();
  return {
    ...original,
    pldEpsilon: (...args: Parameters<typeof original.pldEpsilon>) => {
      calls.pld += 1;
      return original.pldEpsilon(...args);
    },
  };
});

const { composeEpsilon, InfeasiblePlanError, PLAN_TOLERANCE, PLANNER_DISCRETIZATION, planPrivacy, pldEpsilon } =
  await import('../../../core/privacy/index.js');
const { parseRunConfig } = await import('../../../core/config/index.js');

const SMALL: RunConfigInput = { generator: { batchSize: 50, epochs: 1 }, reward: { batchSize: 50, epochs: 1 } };
const plan = (epsilon: number) =>
  planPrivacy({
    records: 100,
    config: parseRunConfig({ ...SMALL, privacy: { accountant: 'pld', epsilon, split: 0.3 } }),
  });
const grid = { discretization: PLANNER_DISCRETIZATION };

describe('the PLD planner on a two-step schedule', () => {
  beforeEach(() => {
    calls.pld = 0;
  });

  // [target ε, PLD compositions the plan computes: 51 and 54 measured, plus 10 %, and the plan's
  // σ_G and σ_R bit for bit]. At 0.2 the reward proxy's PLD σ lies within 15 % of the RDP σ; at
  // 0.13 first within 40 %, then further below. Without the ε cache each plan needs about 80.
  // The σ pin the path of each search (the bisection start, the RDP-guided bracket): another
  // path stops elsewhere inside the tolerance (planner-effort.test.ts says why that matters).
  it.each([
    [0.2, 56, [27.944502790607192, 13.182628433697118]],
    [0.13, 60, [41.16650059351157, 19.325435862323847]],
  ] as const)(
    'ε = %s: meets the PLD target from below, splits it 3 : 7, and spends few PLD compositions',
    (target, bound, golden) => {
      const p = plan(target);
      const compositions = calls.pld;
      expect(p).toMatchObject({ accountant: 'pld', discretization: PLANNER_DISCRETIZATION, targetEpsilon: target });
      expect(p.delta).toBe(1e-5);
      expect(p.generator).toMatchObject({ sampleRate: 0.5, steps: 2 });
      // The stated figures are the PLD's on the planner's grid, for the stated σ, each alone and composed.
      expect(p.epsilon).toBe(pldEpsilon([p.generator, p.reward], p.delta, grid));
      expect(p.generator.epsilon).toBe(pldEpsilon([p.generator], p.delta, grid));
      expect(p.reward.epsilon).toBe(pldEpsilon([p.reward], p.delta, grid));
      expect(p.epsilon).toBeLessThanOrEqual(target);
      expect(p.epsilon).toBeGreaterThanOrEqual((1 - PLAN_TOLERANCE) * target);
      // Each σ is the least noise that keeps its proxy within its share (the search's tolerance is 1e-4):
      // a proxy left with more noise than its share needs would bend the ratio.
      expect(p.generator.epsilon / p.reward.epsilon).toBeCloseTo(0.3 / 0.7, 3);
      // The PLD is tighter than RDP here: the same σ composed under RDP overshoots.
      expect(composeEpsilon([p.generator, p.reward], p.delta)).toBeGreaterThan(target);
      expect(compositions).toBeGreaterThan(0);
      expect(compositions).toBeLessThanOrEqual(bound);
      expect([p.generator.noiseMultiplier, p.reward.noiseMultiplier]).toEqual(golden);
    },
  );
});

describe('PLD refusals', () => {
  it('suggest a record count for a budget below what RDP could certify at any size: the PLD has no such limit', () => {
    // δ = 0.004: the RDP conversion alone costs 0.0062 there; 0.0025 is met by the PLD from 247
    // records (the search stops at 249, the most that δ < 1/N allows).
    const e = (() => {
      try {
        planPrivacy({
          records: 240,
          config: parseRunConfig({ ...SMALL, privacy: { accountant: 'pld', epsilon: 0.0025, delta: 0.004 } }),
        });
      } catch (error) {
        return error as InstanceType<typeof InfeasiblePlanError>;
      }
      throw new Error('expected an InfeasiblePlanError');
    })();
    expect(e).toBeInstanceOf(InfeasiblePlanError);
    expect([e.minimumEpsilon, e.minimumRecords]).toEqual([0.00282, 247]);
    expect(e.message).toMatch(/These settings allow ε ≥ 0\.00282; ε = 0\.0025 works from 247 records\./);
  });
});
