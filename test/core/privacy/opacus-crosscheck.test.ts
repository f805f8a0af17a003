/**
 * Live cross-check against Opacus 1.6 from the project's venv: the DP jobs report the ε of
 * Opacus' RDP accountant, the planner and Release compute it here, and the two must agree.
 * One Python process answers every question of this file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  composeEpsilon,
  composePrivacy,
  DEFAULT_ORDERS,
  logErfc,
  mechanismEpsilon,
  planPrivacy,
  type Mechanism,
  type PrivacyPlan,
} from '../../../core/privacy/index.js';
import { parseRunConfig, type RunConfigInput } from '../../../core/config/index.js';
import { runPythonJson } from '../../helpers/python.js';

const OPACUS = `
import json, sys
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis import rdp as analysis

req = json.load(sys.stdin)
orders = RDPAccountant.DEFAULT_ALPHAS
curves = {}
def curve(m):
    key = (m["sampleRate"], m["noiseMultiplier"], m["steps"])
    if key not in curves:
        curves[key] = analysis.compute_rdp(q=key[0], noise_multiplier=key[1], steps=key[2], orders=orders)
    return curves[key]
def spent(ms, delta):
    eps, order = analysis.get_privacy_spent(orders=orders, rdp=sum(curve(m) for m in ms), delta=delta)
    return {"epsilon": float(eps), "order": float(order)}
def accountant_epsilon(ms, delta):
    # What a DP job does: its accountant's history holds (sigma, q, steps) per mechanism.
    acc = RDPAccountant()
    acc.history = [(m["noiseMultiplier"], m["sampleRate"], m["steps"]) for m in ms]
    return float(acc.get_epsilon(delta=delta))
json.dump({
    "orders": [float(a) for a in orders],
    "logErfc": [float(analysis._log_erfc(x)) for x in req["erfc"]],
    "singles": [spent([c["m"]], c["delta"]) for c in req["singles"]],
    "pairs": [spent(c["ms"], c["delta"]) for c in req["pairs"]],
    "plans": [{"total": accountant_epsilon(c["ms"], c["delta"]),
               "alone": [accountant_epsilon([m], c["delta"]) for m in c["ms"]]} for c in req["plans"]],
}, sys.stdout)
`;

interface Spent {
  epsilon: number;
  order: number;
}
interface OpacusAnswer {
  orders: number[];
  logErfc: number[];
  singles: Spent[];
  pairs: Spent[];
  plans: { total: number; alone: number[] }[];
}

const ERFC_POINTS = [-6, -2.5, -1, -0.3, 0, 0.2, 1, 2.5, 2.99, 3, 3.01, 4, 6, 10, 26, 27.5, 40, 100, 1e3, 1e5];

const singles: { m: Mechanism; delta: number }[] = [];
for (const delta of [1e-5, 1e-7])
  for (const sampleRate of [0.001, 0.01, 0.1])
    for (const noiseMultiplier of [0.5, 1, 2, 5])
      for (const steps of [100, 1000, 10000]) singles.push({ m: { sampleRate, noiseMultiplier, steps }, delta });

// Each of the 36 mechanisms per δ paired with itself and with two others across the
// grid (different q, σ and steps), 108 compositions in all.
const pairs: { ms: Mechanism[]; delta: number }[] = [];
for (const delta of [1e-5, 1e-7]) {
  const ms = singles.filter((s) => s.delta === delta).map((s) => s.m);
  ms.forEach((m, i) => {
    pairs.push({ ms: [m, m], delta });
    pairs.push({ ms: [m, ms[(i * 7 + 5) % ms.length]!], delta });
    pairs.push({ ms: [m, ms[(i * 13 + 11) % ms.length]!], delta });
  });
}

const PLAN_REQUESTS: { records: number; config: RunConfigInput }[] = [
  { records: 3364, config: {} },
  { records: 1693, config: {} },
  {
    records: 10_000,
    config: {
      privacy: { epsilon: 1, split: 0.3, delta: 1e-6 },
      generator: { batchSize: 32, epochs: 2 },
      reward: { batchSize: 128, epochs: 4 },
    },
  },
  { records: 200, config: { privacy: { epsilon: 0.5 } } },
  { records: 500, config: { privacy: { epsilon: 30, split: 0.8 }, reward: { batchSize: 500, epochs: 1 } } },
];

const relativeError = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('the accountant agrees with Opacus 1.6 (live, from the venv)', () => {
  let opacus: OpacusAnswer;
  let plans: PrivacyPlan[];
  const mechanisms = (plan: PrivacyPlan): Mechanism[] => [plan.generator, plan.reward];

  beforeAll(async () => {
    plans = PLAN_REQUESTS.map(({ records, config }) =>
      planPrivacy({
        records,
        config: parseRunConfig({ ...config, privacy: { accountant: 'rdp', ...config.privacy } }),
      }),
    );
    opacus = await runPythonJson<OpacusAnswer>(OPACUS, {
      erfc: ERFC_POINTS,
      singles,
      pairs,
      plans: plans.map((plan) => ({ ms: mechanisms(plan), delta: plan.delta })),
    });
  });

  it('uses the same default orders as RDPAccountant', () => {
    expect([...DEFAULT_ORDERS]).toEqual(opacus.orders);
    expect(DEFAULT_ORDERS).toHaveLength(151);
  });

  it('computes log erfc like scipy, including where erfc underflows', () => {
    ERFC_POINTS.forEach((x, k) => {
      const expected = opacus.logErfc[k]!;
      expect(Math.abs(logErfc(x) - expected), `x = ${x}`).toBeLessThanOrEqual(1e-12 + 1e-10 * Math.abs(expected));
    });
  });

  it('matches ε and the best order for 72 single mechanisms within 1e-6 relative', () => {
    expect(opacus.singles).toHaveLength(72);
    singles.forEach(({ m, delta }, k) => {
      const expected = opacus.singles[k]!;
      const label = `q=${m.sampleRate} σ=${m.noiseMultiplier} steps=${m.steps} δ=${delta}`;
      expect(Number.isFinite(expected.epsilon), label).toBe(true);
      expect(relativeError(mechanismEpsilon(m, delta), expected.epsilon), label).toBeLessThan(1e-6);
      expect(composePrivacy([m], delta).order, label).toBe(expected.order);
    });
  });

  it('matches the composed ε of 108 pairs within 1e-6 relative', () => {
    pairs.forEach(({ ms, delta }, k) => {
      const expected = opacus.pairs[k]!;
      expect(relativeError(composeEpsilon(ms, delta), expected.epsilon), JSON.stringify({ ms, delta })).toBeLessThan(
        1e-6,
      );
    });
  });

  it("plans whose total Opacus' RDPAccountant confirms: within 1 % of the target, from below", () => {
    plans.forEach((plan, k) => {
      const expected = opacus.plans[k]!;
      const label = `plan ${k}: ${JSON.stringify(PLAN_REQUESTS[k])}`;
      expect(relativeError(plan.epsilon, expected.total), label).toBeLessThan(1e-6);
      expect(relativeError(plan.generator.epsilon, expected.alone[0]!), label).toBeLessThan(1e-6);
      expect(relativeError(plan.reward.epsilon, expected.alone[1]!), label).toBeLessThan(1e-6);
      expect(expected.total, label).toBeLessThanOrEqual(plan.targetEpsilon);
      expect(expected.total, label).toBeGreaterThanOrEqual(0.99 * plan.targetEpsilon);
    });
  });
});
