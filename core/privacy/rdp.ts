/**
 * Rényi DP of the Poisson-subsampled Gaussian mechanism (the mechanism of one DP-SGD step).
 *
 * References:
 * - I. Mironov, "Rényi Differential Privacy", CSF 2017: RDP composes by adding the
 *   curves order by order, and the Gaussian mechanism has RDP α / (2σ²).
 * - I. Mironov, K. Talwar, L. Zhang, "Rényi Differential Privacy of the Sampled Gaussian
 *   Mechanism", arXiv:1908.10530 (2019), §3.3: log A_α for integer α (a finite binomial
 *   sum) and for fractional α (two infinite series of erfc-weighted terms).
 *
 * The formulas, the stopping rule of the fractional series and the special cases
 * (q = 0, σ = 0, q = 1) follow what Opacus' RDPAccountant computes, so that the plan the
 * TypeScript side makes and the ε the Python DP jobs report agree to many digits.
 * Everything runs in log space: the terms span hundreds of orders of magnitude.
 */

/** Opacus' RDPAccountant.DEFAULT_ALPHAS: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10),
  ...Array.from({ length: 52 }, (_, k) => 12 + k),
]);

/** log(e^x + e^y) without overflow; -Infinity stands for 0. */
export function logAdd(x: number, y: number): number {
  const lo = Math.min(x, y);
  const hi = Math.max(x, y);
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
}

/** log(e^x − e^y) for x ≥ y; -Infinity stands for 0. */
export function logSub(x: number, y: number): number {
  if (x < y) throw new RangeError('logSub: the difference would be negative');
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const result = Math.log(Math.expm1(x - y)) + y;
  // expm1 overflows only when y is negligible next to x.
  return Number.isFinite(result) ? result : x;
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) for 0 ≤ x ≤ 3 from the series 2x/√π · e^{−x²} · Σ (2x²)ⁿ / (1·3·…·(2n+1)),
 * whose terms are all positive, so it loses no digits to cancellation.
 */
function erfSeries(x: number): number {
  const twoX2 = 2 * x * x;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 500; n++) {
    term *= twoX2 / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * x * Math.exp(-x * x) * sum;
}

/**
 * log(erfc(x)) for x ≥ 3 from Laplace's continued fraction
 * erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), evaluated with the modified
 * Lentz method. Kept in log space because erfc underflows for x beyond ~27, while the
 * fractional-order series needs it far past that.
 */
function logErfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = f;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    d = 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** log(erfc(x)), accurate to ~1e-12 relative for every finite x, including where erfc(x) underflows. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (x >= 3) return logErfcContinuedFraction(x);
  if (x >= 0) return Math.log1p(-erfSeries(x));
  // erfc(−y) = 2 − erfc(y) lies in (1, 2]: no precision problem on this side.
  const y = -x;
  return Math.log(2 - (y >= 3 ? Math.exp(logErfcContinuedFraction(y)) : 1 - erfSeries(y)));
}

/** log A_α for integer α ≥ 2 (Mironov–Talwar–Zhang §3.3): Σᵢ C(α,i) qⁱ (1−q)^{α−i} e^{(i²−i)/(2σ²)}. */
function logAIntegerOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoSigma2 = 2 * sigma * sigma;
  let logBinom = 0; // log C(α, 0)
  let logA = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log(alpha - i + 1) - Math.log(i);
    const term = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoSigma2;
    logA = logAdd(logA, term);
  }
  return logA;
}

/**
 * log A_α for fractional α (Mironov–Talwar–Zhang §3.3): two series, A₀ and A₁, over the
 * generalized binomial coefficients C(α, i), whose sign alternates once i exceeds α.
 * Summed until both new terms fall below e^{−30}, the same stopping rule as Opacus.
 */
function logAFractionalOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoSigma2 = 2 * sigma * sigma;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * (log1mQ - logQ) + 0.5;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logAbsCoef = 0; // log |C(α, 0)|
  let coefPositive = true;
  for (let i = 0; ; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logAbsCoef += Math.log(Math.abs(factor));
      if (factor < 0) coefPositive = !coefPositive;
    }
    const j = alpha - i;
    const logT0 = logAbsCoef + i * logQ + j * log1mQ;
    const logT1 = logAbsCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / twoSigma2 + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigma2 + logE1;
    if (coefPositive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/**
 * RDP at order α of one step of the sampled Gaussian mechanism with sampling rate q and
 * noise multiplier σ (noise std / L2 sensitivity). Infinity means no privacy at all.
 */
export function rdpOfSampledGaussian({
  sampleRate: q,
  noiseMultiplier: sigma,
  order: alpha,
}: {
  sampleRate: number;
  noiseMultiplier: number;
  order: number;
}): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampleRate must lie in [0, 1], got ${q}`);
  if (!(sigma >= 0)) throw new RangeError(`noiseMultiplier must be ≥ 0, got ${sigma}`);
  if (!(alpha > 1)) throw new RangeError(`RDP order must be > 1, got ${alpha}`);
  if (q === 0) return 0; // never sampled: the record has no influence
  if (sigma === 0) return Infinity; // no noise: no privacy
  if (q === 1) return alpha / (2 * sigma * sigma); // the plain Gaussian mechanism (Mironov 2017)
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAIntegerOrder(q, sigma, alpha) : logAFractionalOrder(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** A DP-SGD run: `steps` steps of the sampled Gaussian with rate `sampleRate` and noise `noiseMultiplier`. */
export interface Mechanism {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/** The RDP curve (one value per order) of a mechanism run `steps` times: per-step RDP × steps. */
export function rdpCurve(
  { noiseMultiplier, sampleRate, steps }: Mechanism,
  orders: readonly number[] = DEFAULT_ORDERS,
): number[] {
  if (!(Number.isInteger(steps) && steps >= 0)) {
    throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
  }
  return orders.map((order) => rdpOfSampledGaussian({ sampleRate, noiseMultiplier, order }) * steps);
}

/** RDP composition (Mironov 2017, Prop. 1): the curves of independent mechanisms add per order. */
export function composeRdp(mechanisms: readonly Mechanism[], orders: readonly number[] = DEFAULT_ORDERS): number[] {
  const total = orders.map(() => 0);
  for (const mechanism of mechanisms) {
    rdpCurve(mechanism, orders).forEach((value, k) => {
      total[k] = (total[k] ?? 0) + value;
    });
  }
  return total;
}
