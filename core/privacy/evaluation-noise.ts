/**
 * The optional DP release of the evaluation means (docs/privacy.md, "The evaluation").
 *
 * Sensitivity. Each released figure is a mean over the n test records of a per-record score
 * in [0, 1] (ROUGE-L F-measure, exact match). The test-set size n is public (released), so
 * the neighbouring test sets are the same size and differ in one record; one record moves
 * each mean by at most 1/n. Over k released means: L1 sensitivity k/n, L2 sensitivity √k/n.
 * Corpus BLEU is not a mean of per-record scores (its n-gram counts are pooled before the
 * geometric mean and the brevity penalty), so it has no such bound and is not released
 * when the noise is on.
 *
 * Pure: the uniform variates come from the caller (Release draws them from the OS).
 */
import { logErfc } from './rdp.js';

export type EvaluationNoiseMechanism = 'laplace' | 'gaussian';

/** The metrics that are means of per-record scores in [0, 1], the only ones the noise covers. */
export const NOISABLE_METRICS = ['rougeL', 'exactMatch'] as const;

/** The evaluation's share of the run's (ε, δ): what the planner sets aside before the trainings. */
export interface EvaluationReservation {
  mechanism: EvaluationNoiseMechanism;
  epsilon: number;
  delta: number;
}

/**
 * Laplace is pure ε-DP (δ = 0); the Gaussian needs a δ, and takes half of the run's, the
 * trainings the other half. Basic composition: the run's total is the sum of the parts.
 */
export function evaluationReservation(
  noise: { mechanism: 'off' | EvaluationNoiseMechanism; epsilon: number },
  delta: number,
): EvaluationReservation | null {
  if (noise.mechanism === 'off') return null;
  return { mechanism: noise.mechanism, epsilon: noise.epsilon, delta: noise.mechanism === 'gaussian' ? delta / 2 : 0 };
}

/** Φ, the standard normal CDF, accurate in both tails (through log erfc). */
export function normalCdf(x: number): number {
  return x >= 0 ? 1 - Math.exp(logErfc(x / Math.SQRT2)) / 2 : Math.exp(logErfc(-x / Math.SQRT2)) / 2;
}

/**
 * δ(ε) of the Gaussian mechanism with noise σ and L2 sensitivity Δ, exactly (Balle and
 * Wang, "Improving the Gaussian mechanism for differential privacy", 2018, Thm 8).
 */
export function gaussianDelta(sigma: number, sensitivity: number, epsilon: number): number {
  const a = sensitivity / (2 * sigma);
  const b = (epsilon * sigma) / sensitivity;
  return normalCdf(a - b) - Math.exp(epsilon) * normalCdf(-a - b);
}

/** The smallest σ (to 1e-9 relative, rounded up) whose Gaussian mechanism is (ε, δ)-DP. */
export function gaussianSigma(sensitivity: number, epsilon: number, delta: number): number {
  if (!(sensitivity > 0 && epsilon > 0 && delta > 0 && delta < 1)) {
    throw new RangeError('gaussianSigma: sensitivity, ε and δ must be positive, δ below 1');
  }
  let lo = sensitivity * 1e-6;
  let hi = sensitivity;
  while (gaussianDelta(hi, sensitivity, epsilon) > delta) hi *= 2;
  // δ(σ) falls as σ grows; bisection keeps hi on the safe side.
  while (hi - lo > hi * 1e-9) {
    const mid = (lo + hi) / 2;
    if (gaussianDelta(mid, sensitivity, epsilon) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The noise for `count` means over `n` records: Laplace scale b, or Gaussian σ. */
export function evaluationNoiseScale(reservation: EvaluationReservation, count: number, n: number): number {
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(n) && n >= 1)) {
    throw new RangeError('evaluationNoiseScale: count and n must be positive integers');
  }
  if (reservation.mechanism === 'laplace') return count / n / reservation.epsilon;
  return gaussianSigma(Math.sqrt(count) / n, reservation.epsilon, reservation.delta);
}

/** A Laplace(0, b) variate from a uniform u in (0, 1), by the inverse CDF. */
export function laplaceVariate(b: number, u: number): number {
  const centred = u - 0.5;
  return -b * Math.sign(centred) * Math.log1p(-2 * Math.abs(centred));
}

/** A N(0, σ²) variate from two uniforms in (0, 1), by Box–Muller. */
export function gaussianVariate(sigma: number, u1: number, u2: number): number {
  return sigma * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
