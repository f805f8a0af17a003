/**
 * Live cross-check of the PLD accountant against Google's dp-accounting 0.6.0 (its
 * PLDAccountant, add/remove neighbouring, from the venv). Both build the connect-the-dots
 * PLD on the same grid, so they must agree closely, ours never below (pessimistic side).
 * One Python process answers every question of this file.
 *
 * The grid is q {0.001, 0.01, 0.1} × σ {0.5, 1, 2, 5} × steps {100, 1000, 10000} × δ
 * {1e-5, 1e-7}, pruned of the cases whose RDP ε exceeds 40 (budgets nobody plans, and loss
 * windows of millions of points), at grid width 1e-3 on both sides to keep the test short;
 * a few cases at dp-accounting's default width 1e-4 check ours at its default too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DISCRETIZATION, pldEpsilons } from '../../../core/privacy/index.js';
import { mechanismEpsilon, PLAN_TOLERANCE, planPrivacy, type Mechanism } from '../../../core/privacy/index.js';
import { parseRunConfig } from '../../../core/config/index.js';
import { runPythonJson } from '../../helpers/python.js';

const DP_ACCOUNTING = String.raw`
import json, sys
import dp_accounting
from dp_accounting.pld import pld_privacy_accountant

req = json.load(sys.stdin)
def epsilons(case):
    acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=case["h"])
    for m in case["ms"]:
        event = dp_accounting.PoissonSampledDpEvent(m["sampleRate"], dp_accounting.GaussianDpEvent(m["noiseMultiplier"]))
        acc.compose(event, m["steps"])
    return [float(acc.get_epsilon(d)) for d in case["deltas"]]
json.dump({"version": dp_accounting.__version__ if hasattr(dp_accounting, "__version__") else None,
           "cases": [epsilons(c) for c in req["cases"]]}, sys.stdout)
`;

const DELTAS = [1e-5, 1e-7];
const COARSE = 1e-3;
const TOLERANCE = 1e-3;

interface Case {
  label: string;
  ms: Mechanism[];
  h: number;
  deltas: number[];
}

const grid: Mechanism[] = [];
for (const sampleRate of [0.001, 0.01, 0.1])
  for (const noiseMultiplier of [0.5, 1, 2, 5])
    for (const steps of [100, 1000, 10000]) {
      const m = { sampleRate, noiseMultiplier, steps };
      if (mechanismEpsilon(m, 1e-7) <= 40) grid.push(m);
    }

const describeM = (m: Mechanism) => `q=${m.sampleRate} σ=${m.noiseMultiplier} T=${m.steps}`;
const cases: Case[] = [
  ...grid.map((m) => ({ label: `alone ${describeM(m)}`, ms: [m], h: COARSE, deltas: DELTAS })),
  // Each mechanism composed with another of different q, σ and steps.
  ...grid.map((m, i) => {
    const other = grid[(i * 7 + 5) % grid.length]!;
    return { label: `${describeM(m)} + ${describeM(other)}`, ms: [m, other], h: COARSE, deltas: DELTAS };
  }),
  // At dp-accounting's default width: the default plan's mechanism, small q, and a pair.
  ...[
    [{ sampleRate: 64 / 3364, noiseMultiplier: 0.606, steps: 159 }],
    [{ sampleRate: 0.001, noiseMultiplier: 2, steps: 1000 }],
  ].map((ms) => ({
    label: `default h: ${ms.map(describeM).join(' + ')}`,
    ms,
    h: DEFAULT_DISCRETIZATION,
    deltas: DELTAS,
  })),
];

// A whole PLD plan (both proxies composed), confirmed at dp-accounting's default grid.
const PLANNED = planPrivacy({ records: 1693, config: parseRunConfig({}) });
cases.push({
  label: 'the default PLD plan for 1,693 records',
  ms: [PLANNED.generator, PLANNED.reward].map(({ sampleRate, noiseMultiplier, steps }) => ({
    sampleRate,
    noiseMultiplier,
    steps,
  })),
  h: DEFAULT_DISCRETIZATION,
  deltas: [PLANNED.delta],
});

describe("the PLD accountant agrees with dp-accounting's PLDAccountant (live, from the venv)", () => {
  let reference: number[][];
  let ours: number[][];

  beforeAll(async () => {
    // Python runs in its own process while this one computes ours.
    const answer = runPythonJson<{ cases: number[][] }>(DP_ACCOUNTING, { cases });
    ours = cases.map((c) => pldEpsilons(c.ms, c.deltas, { discretization: c.h }));
    reference = (await answer).cases;
  });

  it('keeps a representative grid after pruning', () => {
    // Every q and σ of the grid is still there, with all three step counts for most.
    expect(new Set(grid.map((m) => m.sampleRate)).size).toBe(3);
    expect(new Set(grid.map((m) => m.noiseMultiplier)).size).toBe(4);
    expect(grid.length).toBeGreaterThanOrEqual(28);
  });

  it('matches alone and in pairs, to 1e-3 relative and never below', () => {
    let worst = 0;
    cases.forEach((c, k) => {
      c.deltas.forEach((delta, d) => {
        const theirs = reference[k]![d]!;
        const label = `${c.label} δ=${delta} h=${c.h}: ours ${ours[k]![d]}, dp-accounting ${theirs}`;
        expect(Number.isFinite(theirs), label).toBe(true);
        const relative = (ours[k]![d]! - theirs) / theirs;
        expect(Math.abs(relative), label).toBeLessThanOrEqual(TOLERANCE);
        expect(relative, label).toBeGreaterThanOrEqual(-TOLERANCE);
        worst = Math.max(worst, Math.abs(relative));
      });
    });
    // In practice the two agree far more closely than the tolerance.
    expect(worst).toBeLessThan(1e-5);
  });

  it('plans a total that dp-accounting confirms: within 1 % of the target, from below', () => {
    expect(PLANNED.accountant).toBe('pld');
    const confirmed = reference[cases.length - 1]![0]!;
    expect(confirmed).toBeLessThanOrEqual(PLANNED.targetEpsilon);
    expect(confirmed).toBeGreaterThanOrEqual((1 - PLAN_TOLERANCE) * PLANNED.targetEpsilon);
  });
});
