/**
 * What the PLD accountant must do beyond the cross-checked grid: the special cases, ε
 * monotone in σ, composition never helps, a coarser nested grid never gives less (what lets
 * the planner search on 1e-3 and anyone recompute on 1e-4), never above RDP on DP-SGD's
 * settings, and ε clamped at 0.
 */
import { describe, expect, it } from 'vitest';
import { composedPrivacyLoss, pldEpsilon, pldEpsilons } from '../../../core/privacy/index.js';
import { mechanismEpsilon, PLANNER_DISCRETIZATION } from '../../../core/privacy/index.js';

const COARSE = { discretization: 1e-3 };
const base = { sampleRate: 0.02, noiseMultiplier: 0.8, steps: 200 };

describe('PLD accountant', () => {
  it('special cases: never sampled or no steps leak nothing, no noise leaks everything', () => {
    expect(pldEpsilon([{ ...base, sampleRate: 0 }], 1e-5)).toBe(0);
    expect(pldEpsilon([{ ...base, steps: 0 }], 1e-5)).toBe(0);
    expect(pldEpsilon([], 1e-5)).toBe(0);
    expect(pldEpsilon([{ ...base, noiseMultiplier: 0 }], 1e-5)).toBe(Infinity);
    expect(pldEpsilon([base, { ...base, noiseMultiplier: 0 }], 1e-5)).toBe(Infinity);
  });

  it('q = 1 is the plain Gaussian mechanism, whose exact ε is known in closed form', () => {
    // One step, σ = 1, sensitivity 1: δ(ε) = Φ(1/2 − ε) − e^ε Φ(−1/2 − ε) (Balle & Wang 2018).
    // At ε = 1 that is 0.126936; the PLD must certify ε = 1 at that δ, within its grid.
    const epsilon = pldEpsilon([{ sampleRate: 1, noiseMultiplier: 1, steps: 1 }], 0.126936);
    expect(epsilon).toBeGreaterThanOrEqual(1 - 1e-5);
    expect(epsilon).toBeLessThan(1 + 1e-3);
  });

  it('falls as σ grows and grows with the steps and the sampling rate', () => {
    const eps = (m: Partial<typeof base>) => pldEpsilon([{ ...base, ...m }], 1e-5, COARSE);
    const sigmas = [0.6, 0.8, 1.2, 2, 4].map((noiseMultiplier) => eps({ noiseMultiplier }));
    sigmas.slice(1).forEach((e, k) => {
      expect(e).toBeLessThan(sigmas[k]!);
    });
    expect(eps({ steps: 400 })).toBeGreaterThan(eps({}));
    expect(eps({ sampleRate: 0.04 })).toBeGreaterThan(eps({}));
  });

  it('composition is at least each part, and composing with nothing changes nothing', () => {
    const other = { sampleRate: 0.05, noiseMultiplier: 1.5, steps: 60 };
    const both = pldEpsilon([base, other], 1e-5, COARSE);
    expect(both).toBeGreaterThan(pldEpsilon([base], 1e-5, COARSE));
    expect(both).toBeGreaterThan(pldEpsilon([other], 1e-5, COARSE));
    expect(pldEpsilon([base, { ...other, steps: 0 }], 1e-5, COARSE)).toBe(pldEpsilon([base], 1e-5, COARSE));
  });

  it('ε is the worse of the two directions of add/remove', () => {
    const remove = composedPrivacyLoss([base], 'remove', COARSE).epsilon(1e-5);
    const add = composedPrivacyLoss([base], 'add', COARSE).epsilon(1e-5);
    expect(add).toBeGreaterThan(0);
    expect(pldEpsilon([base], 1e-5, COARSE)).toBe(Math.max(remove, add));
  });

  it("the planner's grid never gives less than the finer default grid it nests into", () => {
    for (const m of [
      base,
      { sampleRate: 64 / 3364, noiseMultiplier: 0.606, steps: 159 },
      { sampleRate: 0.001, noiseMultiplier: 1, steps: 3000 },
    ]) {
      for (const delta of [1e-5, 1e-7]) {
        const coarse = pldEpsilon([m], delta, { discretization: PLANNER_DISCRETIZATION });
        const fine = pldEpsilon([m], delta);
        expect(coarse, JSON.stringify({ m, delta })).toBeGreaterThanOrEqual(fine);
      }
    }
  });

  it('is tighter than RDP on DP-SGD settings', () => {
    for (const m of [base, { sampleRate: 0.001, noiseMultiplier: 1, steps: 1000 }, { ...base, noiseMultiplier: 3 }]) {
      expect(pldEpsilon([m], 1e-5, COARSE)).toBeLessThan(mechanismEpsilon(m, 1e-5));
    }
  });

  it('δ(ε) falls with ε: larger δ, smaller ε, clamped at 0', () => {
    const [small, large, huge] = pldEpsilons([base], [1e-8, 1e-3, 0.999], COARSE);
    expect(small).toBeGreaterThan(large!);
    expect(huge).toBe(0);
  });

  it('refuses bad inputs, and gives ∞ rather than building a grid past the limit', () => {
    expect(() => pldEpsilon([base], 0)).toThrow(/delta must lie in \(0, 1\)/);
    expect(() => pldEpsilon([base], 1)).toThrow(/delta must lie in \(0, 1\)/);
    expect(() => pldEpsilon([{ ...base, sampleRate: 1.5 }], 1e-5)).toThrow(/sampleRate/);
    expect(() => pldEpsilon([{ ...base, steps: 2.5 }], 1e-5)).toThrow(/steps/);
    expect(() => pldEpsilon([base], 1e-5, { discretization: 0 })).toThrow(/discretization/);
    expect(pldEpsilon([{ ...base, noiseMultiplier: 0.01 }], 1e-5, { maxGridPoints: 2 ** 16 })).toBe(Infinity);
  });
});
