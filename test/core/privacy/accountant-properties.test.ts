/**
 * What must hold for every input, not just the cross-checked grid: ε is monotone in the
 * mechanism's parameters, composition never helps, and the special cases behave like the
 * reference accountants'.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  composeEpsilon,
  composeRdp,
  DEFAULT_ORDERS,
  logAdd,
  logSub,
  mechanismEpsilon,
  rdpOfSampledGaussian,
  rdpToEpsilon,
} from '../../../core/privacy/index.js';

// Each run computes whole RDP curves (151 orders), so the run counts stay small.
const RUNS = { numRuns: 25 };
const sampleRate = fc.double({ min: 1e-4, max: 0.5, noNaN: true });
const noise = fc.double({ min: 0.4, max: 20, noNaN: true });
const steps = fc.integer({ min: 1, max: 20_000 });
const delta = fc.constantFrom(1e-5, 1e-6, 1e-8);
// Tiny slack for the last bits of the log-space sums.
const SLACK = 1e-9;

describe('ε of the sampled Gaussian', () => {
  it('falls as the noise multiplier grows', () => {
    fc.assert(
      fc.property(sampleRate, noise, noise, steps, delta, (q, s1, s2, t, d) => {
        const [lo, hi] = s1 < s2 ? [s1, s2] : [s2, s1];
        const more = mechanismEpsilon({ sampleRate: q, noiseMultiplier: hi, steps: t }, d);
        const less = mechanismEpsilon({ sampleRate: q, noiseMultiplier: lo, steps: t }, d);
        expect(more).toBeLessThanOrEqual(less * (1 + SLACK));
      }),
      RUNS,
    );
  });

  it('grows with the sampling rate', () => {
    fc.assert(
      fc.property(sampleRate, sampleRate, noise, steps, delta, (q1, q2, s, t, d) => {
        const [lo, hi] = q1 < q2 ? [q1, q2] : [q2, q1];
        const more = mechanismEpsilon({ sampleRate: hi, noiseMultiplier: s, steps: t }, d);
        const less = mechanismEpsilon({ sampleRate: lo, noiseMultiplier: s, steps: t }, d);
        expect(more).toBeGreaterThanOrEqual(less * (1 - SLACK));
      }),
      RUNS,
    );
  });

  it('grows with the number of steps', () => {
    fc.assert(
      fc.property(sampleRate, noise, steps, steps, delta, (q, s, t1, t2, d) => {
        const [lo, hi] = t1 < t2 ? [t1, t2] : [t2, t1];
        const more = mechanismEpsilon({ sampleRate: q, noiseMultiplier: s, steps: hi }, d);
        const less = mechanismEpsilon({ sampleRate: q, noiseMultiplier: s, steps: lo }, d);
        expect(more).toBeGreaterThanOrEqual(less * (1 - SLACK));
      }),
      RUNS,
    );
  });

  it('composes to at least each part', () => {
    const mechanism = fc.record({ sampleRate, noiseMultiplier: noise, steps });
    fc.assert(
      fc.property(mechanism, mechanism, delta, (a, b, d) => {
        const total = composeEpsilon([a, b], d);
        const ea = mechanismEpsilon(a, d);
        const eb = mechanismEpsilon(b, d);
        expect(total).toBeGreaterThanOrEqual(Math.max(ea, eb) * (1 - SLACK));
      }),
      RUNS,
    );
  });

  it('adds RDP curves order by order, and steps multiply a curve', () => {
    const m = { sampleRate: 0.02, noiseMultiplier: 1.1, steps: 300 };
    const once = composeRdp([m]);
    const twice = composeRdp([m, m]);
    const doubled = composeRdp([{ ...m, steps: 600 }]);
    twice.forEach((value, k) => {
      expect(value).toBeCloseTo(2 * once[k]!, 10);
      expect(value).toBeCloseTo(doubled[k]!, 10);
    });
  });
});

describe('special cases, as the reference accountants handle them', () => {
  it('q = 0 leaks nothing; σ = 0 leaks everything; q = 1 is the plain Gaussian α/(2σ²)', () => {
    for (const order of [1.5, 2, 7.3, 63]) {
      expect(rdpOfSampledGaussian({ sampleRate: 0, noiseMultiplier: 1, order })).toBe(0);
      expect(rdpOfSampledGaussian({ sampleRate: 0.1, noiseMultiplier: 0, order })).toBe(Infinity);
      expect(rdpOfSampledGaussian({ sampleRate: 1, noiseMultiplier: 2, order })).toBeCloseTo(order / 8, 14);
    }
    expect(mechanismEpsilon({ sampleRate: 0.1, noiseMultiplier: 0, steps: 10 }, 1e-5)).toBe(Infinity);
  });

  it('a curve of zeros still costs the conversion term, smallest at the largest order', () => {
    const d = 1e-5;
    const { epsilon, order } = rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: DEFAULT_ORDERS.map(() => 0), delta: d });
    expect(order).toBe(63);
    expect(epsilon).toBeCloseTo(-(Math.log(d) + Math.log(63)) / 62 + Math.log(62 / 63), 14);
    expect(mechanismEpsilon({ sampleRate: 0, noiseMultiplier: 1, steps: 1000 }, d)).toBe(epsilon);
  });

  it('subsampling amplifies: q < 1 never costs more than the full-batch Gaussian', () => {
    for (const order of DEFAULT_ORDERS.filter((_, k) => k % 10 === 0)) {
      const full = rdpOfSampledGaussian({ sampleRate: 1, noiseMultiplier: 1.3, order });
      const sampled = rdpOfSampledGaussian({ sampleRate: 0.05, noiseMultiplier: 1.3, order });
      expect(sampled).toBeLessThan(full);
      expect(sampled).toBeGreaterThan(0);
    }
  });

  it('refuses parameters outside their domain', () => {
    expect(() => rdpOfSampledGaussian({ sampleRate: 1.5, noiseMultiplier: 1, order: 2 })).toThrow(/sampleRate/);
    expect(() => rdpOfSampledGaussian({ sampleRate: 0.1, noiseMultiplier: -1, order: 2 })).toThrow(/noiseMultiplier/);
    expect(() => rdpOfSampledGaussian({ sampleRate: 0.1, noiseMultiplier: 1, order: 1 })).toThrow(/order/);
    expect(() => mechanismEpsilon({ sampleRate: 0.1, noiseMultiplier: 1, steps: 2.5 }, 1e-5)).toThrow(/steps/);
    expect(() => mechanismEpsilon({ sampleRate: 0.1, noiseMultiplier: 1, steps: 10 }, 0)).toThrow(/delta/);
  });

  it('log-space arithmetic: adding and subtracting zero, equal terms, no overflow', () => {
    expect(logAdd(-Infinity, 3)).toBe(3);
    expect(logAdd(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 14);
    expect(logAdd(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSub(Math.log(5), Math.log(3))).toBeCloseTo(Math.log(2), 14);
    expect(logSub(4, -Infinity)).toBe(4);
    expect(logSub(4, 4)).toBe(-Infinity);
    expect(logSub(1000, 1)).toBe(1000);
    expect(() => logSub(1, 2)).toThrow(RangeError);
  });
});
