import { describe, expect, it } from 'vitest';
import {
  evaluationNoiseScale,
  evaluationReservation,
  gaussianDelta,
  gaussianSigma,
  gaussianVariate,
  laplaceVariate,
  normalCdf,
} from '../../../core/privacy/index.js';
import { osUniform } from '../../../functions/release/release.js';

/** δ(ε) of N(0,σ²) vs N(Δ,σ²) by direct integration of (p − e^ε q)₊: independent of the closed form. */
function integratedDelta(sigma: number, sensitivity: number, epsilon: number): number {
  const density = (x: number, mean: number) =>
    Math.exp(-((x - mean) ** 2) / (2 * sigma ** 2)) / (sigma * Math.sqrt(2 * Math.PI));
  const lo = -12 * sigma;
  const hi = sensitivity + 12 * sigma;
  const steps = 400_000;
  const h = (hi - lo) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const x = lo + i * h;
    const f = Math.max(0, density(x, sensitivity) - Math.exp(epsilon) * density(x, 0));
    sum += (i === 0 || i === steps ? 0.5 : 1) * f;
  }
  return sum * h;
}

describe('noised evaluation means', () => {
  it('reserves ε alone for Laplace, ε and half the run’s δ for the Gaussian, nothing when off', () => {
    expect(evaluationReservation({ mechanism: 'off', epsilon: 0.5 }, 1e-5)).toBeNull();
    expect(evaluationReservation({ mechanism: 'laplace', epsilon: 0.5 }, 1e-5)).toEqual({
      mechanism: 'laplace',
      epsilon: 0.5,
      delta: 0,
    });
    expect(evaluationReservation({ mechanism: 'gaussian', epsilon: 0.5 }, 1e-5)).toEqual({
      mechanism: 'gaussian',
      epsilon: 0.5,
      delta: 5e-6,
    });
  });

  it('gives Laplace scale (k/n)/ε: L1 sensitivity of k means of scores in [0, 1] over n records', () => {
    expect(evaluationNoiseScale({ mechanism: 'laplace', epsilon: 0.5, delta: 0 }, 8, 200)).toBeCloseTo(
      8 / 200 / 0.5,
      15,
    );
  });

  it('computes the Gaussian mechanism’s δ(ε) as direct integration does', () => {
    for (const [sigma, sensitivity, epsilon] of [
      [1, 1, 1],
      [3.7, 1, 1],
      [0.05, 0.02, 0.5],
      [2, 0.5, 0.25],
    ] as const) {
      const closed = gaussianDelta(sigma, sensitivity, epsilon);
      expect(Math.abs(closed - integratedDelta(sigma, sensitivity, epsilon))).toBeLessThan(1e-7 + 1e-4 * closed);
    }
    expect(normalCdf(0)).toBeCloseTo(0.5, 15);
    expect(normalCdf(-10)).toBeGreaterThan(0);
  });

  it('calibrates the smallest Gaussian σ for (ε, δ) with L2 sensitivity √k/n', () => {
    const sensitivity = Math.sqrt(8) / 200;
    const sigma = evaluationNoiseScale({ mechanism: 'gaussian', epsilon: 0.5, delta: 5e-6 }, 8, 200);
    expect(sigma).toBe(gaussianSigma(sensitivity, 0.5, 5e-6));
    expect(gaussianDelta(sigma, sensitivity, 0.5)).toBeLessThanOrEqual(5e-6);
    expect(gaussianDelta(sigma * (1 - 1e-6), sensitivity, 0.5)).toBeGreaterThan(5e-6);
  });

  it('draws Laplace and Gaussian variates by their inverse CDF / Box–Muller', () => {
    expect(laplaceVariate(2, 0.5)).toBe(0);
    expect(laplaceVariate(2, 0.75)).toBeCloseTo(2 * Math.LN2, 14);
    expect(laplaceVariate(2, 0.25)).toBeCloseTo(-2 * Math.LN2, 14);
    expect(gaussianVariate(3, Math.exp(-0.5), 0)).toBeCloseTo(3, 14);
    // From the OS's entropy: E|X| = b for Laplace(b), E X² = σ² for the Gaussian (20,000 draws, 5 % margin).
    const draws = 20_000;
    let abs = 0;
    let square = 0;
    for (let i = 0; i < draws; i++) {
      abs += Math.abs(laplaceVariate(1, osUniform()));
      square += gaussianVariate(1, osUniform(), osUniform()) ** 2;
    }
    expect(abs / draws).toBeGreaterThan(0.95);
    expect(abs / draws).toBeLessThan(1.05);
    expect(square / draws).toBeGreaterThan(0.95);
    expect(square / draws).toBeLessThan(1.05);
  });
});
