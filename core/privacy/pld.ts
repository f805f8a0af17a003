/**
 * Privacy-loss-distribution (PLD) accounting of the Poisson-subsampled Gaussian mechanism
 * (one DP-SGD step), under add/remove-one-record neighbouring (docs/privacy.md).
 *
 * The maths, from the literature:
 * - Meiser, Mohammadi, "Tight on Budget? Tight Bounds for r-Fold Approximate Differential
 *   Privacy", CCS 2018, and Sommer, Meiser, Mohammadi, "Privacy Loss Classes", PoPETs 2019:
 *   δ(ε) = P(L = ∞) + E_P[(1 − e^{ε−L})₊] for the privacy loss L = log(P/Q) under P, and the
 *   PLD of a composition is the convolution of the PLDs.
 * - Koskela, Jälkö, Prediger, Honkela, "Tight Differential Privacy for Discrete-Valued
 *   Mechanisms and for the Subsampled Gaussian Mechanism Using FFT", AISTATS 2021: the loss
 *   on a grid of width h, composition of T steps as one FFT raised to the T-th power, with
 *   the window's wrap-around bounded by a Chernoff bound.
 * - Doroshenko, Ghazi, Kamath, Kumar, Manurangsi, "Connect the Dots: Tighter Discrete
 *   Approximations of Privacy Loss Distributions", PoPETs 2022: each loss value ℓ between grid
 *   points a < ℓ < b is split between a and b so that both P- and Q-mass are kept. The δ(ε)
 *   of the result equals the true one on the grid and interpolates it linearly in e^ε between
 *   (where the true curve, convex in e^ε, lies below): a pessimistic estimate whose error is
 *   far smaller than rounding every loss up (which would cost T·h/2 of ε after T steps).
 *   Google's dp-accounting builds its default PLD the same way, which is why the two agree.
 * - Zhu, Dong, Wang, "Optimal Accounting of Differential Privacy via Characteristic Function",
 *   AISTATS 2022: dominating pairs compose, so pessimism survives the convolution; and for
 *   add/remove with Poisson sampling the worst case is one of two pairs, "remove"
 *   (P = (1−q)N(0,σ²) + qN(1,σ²), Q = N(0,σ²)) and "add" (the two swapped); ε is the larger.
 *
 * Every approximation goes the pessimistic way: tail mass above the grid counts as infinite
 * loss (it enters δ whole), tail mass below the grid is moved up, and the FFT window's
 * wrap-around is bounded and added to δ.
 */
import { logAdd, logErfc, logSub, type Mechanism } from './rdp.js';

export type PldDirection = 'remove' | 'add';

export interface PldOptions {
  /** Grid width h of the privacy loss (the default is dp-accounting's). */
  discretization?: number;
  /** Larger grids (one step's, or the composition's window) give ε = ∞ instead of the work. */
  maxGridPoints?: number;
}

export const DEFAULT_DISCRETIZATION = 1e-4;

/** Each step's loss is kept for x within this many σ of the Gaussians' means: Φ̄(8.5) ≈ 1e-17. */
const TAIL_SIGMAS = 8.5;
/** Bound on the mass that may wrap around the FFT window, on each side. */
const WINDOW_TAIL = 1e-15;
/** Above this many grid points the composition is refused as too costly (ε reported as ∞). */
export const MAX_GRID_POINTS = 2 ** 22;

/** One step's discrete PLD: pmf[i] is the P-mass at loss (offset + i)·h; `infinity` the mass at +∞. */
interface StepPld {
  offset: number;
  pmf: Float64Array;
  infinity: number;
}

/** log Φ̄(z) = log P(N(0,1) > z). */
const logTail = (z: number) => logErfc(z / Math.SQRT2) - Math.LN2;

/**
 * N(0,1)-mass between consecutive sorted points (±∞ allowed), each point's tail computed
 * once and the differences taken on the side where they lose no digits.
 */
function intervalMasses(points: Float64Array): Float64Array {
  const upper = new Float64Array(points.length); // log Φ̄(z)
  const lower = new Float64Array(points.length); // log Φ(z)
  for (let k = 0; k < points.length; k++) {
    const z = points[k]!;
    if (z >= 0) {
      upper[k] = logTail(z);
      lower[k] = Math.log1p(-Math.exp(upper[k]!));
    } else {
      lower[k] = logTail(-z);
      upper[k] = Math.log1p(-Math.exp(lower[k]!));
    }
  }
  const masses = new Float64Array(points.length - 1);
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k]!;
    const b = points[k + 1]!;
    let mass: number;
    if (!(b > a)) mass = 0;
    else if (a >= 0) mass = -Math.exp(upper[k]!) * Math.expm1(upper[k + 1]! - upper[k]!);
    else if (b <= 0) mass = -Math.exp(lower[k + 1]!) * Math.expm1(lower[k]! - lower[k + 1]!);
    else mass = 1 - Math.exp(upper[k + 1]!) - Math.exp(lower[k]!);
    masses[k] = Math.max(0, mass);
  }
  return masses;
}

/**
 * The remove-direction loss log(1 − q + q·e^{(2x−1)/(2σ²)}) as a function of x, and its
 * inverse (−∞ below the loss's infimum log(1 − q)). The add direction's loss is its negative.
 */
function removeLoss(q: number, sigma: number) {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const s2 = sigma * sigma;
  return {
    loss: (x: number) => logAdd(log1mQ, logQ + (2 * x - 1) / (2 * s2)),
    xOf: (loss: number) => (loss <= log1mQ ? -Infinity : s2 * (logSub(loss, log1mQ) - logQ) + 0.5),
  };
}

/** One step's connect-the-dots PLD on the grid of width h, in the given direction. */
function stepPld(q: number, sigma: number, direction: PldDirection, h: number, maxGridPoints: number): StepPld | null {
  const { loss, xOf } = removeLoss(q, sigma);
  const remove = direction === 'remove';
  // x ranges over where the upper distribution P keeps all but ~1e-17 of its mass.
  const xLow = -TAIL_SIGMAS * sigma;
  const xHigh = (remove ? 1 : 0) + TAIL_SIGMAS * sigma;
  const lossLow = remove ? loss(xLow) : -loss(xHigh);
  const lossHigh = remove ? loss(xHigh) : -loss(xLow);
  const first = Math.floor(lossLow / h);
  const last = Math.max(first + 1, Math.ceil(lossHigh / h));
  const size = last - first + 1;
  if (!(size <= maxGridPoints)) return null;

  // x at each grid boundary, clamped to the kept range; add reverses x's order.
  const boundaryX = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const l = Math.min(Math.max((first + i) * h, lossLow), lossHigh);
    boundaryX[i] = remove ? xOf(l) : xOf(-l);
  }
  boundaryX[0] = remove ? xLow : xHigh;
  boundaryX[size - 1] = remove ? xHigh : xLow;
  // Sorted standardized points for the two Gaussians N(0,σ²) and N(1,σ²), with ±∞ ends.
  const ordered = remove ? boundaryX : boundaryX.slice().reverse();
  const standardized = (shift: number) => {
    const points = new Float64Array(size + 2);
    points[0] = -Infinity;
    for (let i = 0; i < size; i++) points[i + 1] = (ordered[i]! - shift) / sigma;
    points[size + 1] = Infinity;
    return intervalMasses(points);
  };
  const central = standardized(0);
  const shifted = standardized(1);
  // massesP/Q[i] for i in 0..size: [−∞, b0], [b0, b1], …, [b_{size−1}, ∞] in x order.
  const mixture = (i: number) => (1 - q) * central[i]! + q * shifted[i]!;
  const massP = (i: number) => (remove ? mixture(i) : central[i]!);
  const massQ = (i: number) => (remove ? central[i]! : mixture(i));
  // Loss bin j (between grid points first+j and first+j+1) is x-interval j+1 for remove,
  // and x-interval size−1−j for add (x order reversed); the two ends are the tails.
  const xInterval = (j: number) => (remove ? j + 1 : size - 1 - j);
  const lowTail = remove ? 0 : size;
  const highTail = remove ? size : 0;

  const pmf = new Float64Array(size);
  const shrink = -Math.expm1(-h); // 1 − e^{−h}
  for (let j = 0; j + 1 < size; j++) {
    const a = massP(xInterval(j));
    if (a === 0) continue;
    const b = massQ(xInterval(j));
    // Keep P-mass a and Q-mass b: the part u sent up to the next point satisfies
    // (a − u)·e^{−ℓ_j} + u·e^{−ℓ_j−h} = b.
    const up = Math.min(a, Math.max(0, (a - Math.exp((first + j) * h) * b) / shrink));
    pmf[j]! += a - up;
    pmf[j + 1]! += up;
  }
  // Below the kept range: moved up to the first grid point at or above lossLow.
  pmf[Math.ceil(lossLow / h) - first]! += massP(lowTail);
  return { offset: first, pmf, infinity: massP(highTail) };
}

// The planner's searches revisit the same (q, σ); a step PLD costs one erfc per grid point.
const stepCache = new Map<string, StepPld | null>();

function cachedStepPld(
  q: number,
  sigma: number,
  direction: PldDirection,
  h: number,
  maxGridPoints: number,
): StepPld | null {
  const key = `${q}|${sigma}|${direction}|${h}|${maxGridPoints}`;
  let step = stepCache.get(key);
  if (step === undefined) {
    if (stepCache.size > 256) stepCache.clear();
    step = stepPld(q, sigma, direction, h, maxGridPoints);
    stepCache.set(key, step);
  }
  return step;
}

/** log Σ p_i e^{λ·loss_i} over the finite part of a step PLD. */
function logMoment(step: StepPld, lambda: number, h: number): number {
  const { pmf, offset } = step;
  // The largest exponent sits at the far end of the grid in λ's direction.
  const shift = lambda * (lambda > 0 ? offset + pmf.length - 1 : offset) * h;
  let sum = 0;
  for (let i = 0; i < pmf.length; i++) {
    const p = pmf[i]!;
    if (p > 0) sum += p * Math.exp(lambda * (offset + i) * h - shift);
  }
  return Math.log(sum) + shift;
}

const LAMBDAS = [0.1, 0.3, 1, 3, 10, 30, 100];

/** In-place radix-2 FFT of (re, im); `inverse` leaves the result unscaled. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  const { cos, sin } = twiddles(n);
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const stride = n / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride]!;
        const wi = sign * sin[k * stride]!;
        const a = start + k;
        const b = a + half;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a]! += xr;
        im[a]! += xi;
      }
    }
  }
}

// One table per transform size: the two directions use different sizes, alternately.
const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();
function twiddles(n: number) {
  let table = twiddleCache.get(n);
  if (table === undefined) {
    const cos = new Float64Array(n / 2);
    const sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / n);
      sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    if (twiddleCache.size > 8) twiddleCache.clear();
    table = { cos, sin };
    twiddleCache.set(n, table);
  }
  return table;
}

/** The composed PLD in one direction: pmf[i] at loss (offset + i)·h, plus the mass at +∞. */
interface ComposedPld {
  offset: number;
  pmf: Float64Array;
  infinity: number;
}

function compose(
  mechanisms: readonly Mechanism[],
  direction: PldDirection,
  h: number,
  maxGridPoints: number,
): ComposedPld | null {
  const parts: { step: StepPld; steps: number }[] = [];
  for (const m of mechanisms) {
    const step = cachedStepPld(m.sampleRate, m.noiseMultiplier, direction, h, maxGridPoints);
    if (step === null) return null;
    parts.push({ step, steps: m.steps });
  }
  // Σ T·log(1 − p∞): the chance that no step lands at infinite loss.
  let logFinite = 0;
  for (const { step, steps } of parts) logFinite += steps * Math.log1p(-step.infinity);

  // The window: the support of the sum, narrowed by Chernoff bounds on both tails.
  let top = 0;
  let bottom = 0;
  for (const { step, steps } of parts) {
    top += steps * (step.offset + step.pmf.length - 1) * h;
    bottom += steps * step.offset * h;
  }
  let topWrap = 0;
  const logWindowTail = Math.log(WINDOW_TAIL);
  let bestTop = top;
  let bestBottom = bottom;
  for (const lambda of LAMBDAS) {
    let up = 0;
    let down = 0;
    for (const { step, steps } of parts) {
      up += steps * logMoment(step, lambda, h);
      down += steps * logMoment(step, -lambda, h);
    }
    bestTop = Math.min(bestTop, (up - logWindowTail) / lambda);
    bestBottom = Math.max(bestBottom, (logWindowTail - down) / lambda);
  }
  if (bestTop < top) topWrap = WINDOW_TAIL;
  const first = Math.floor(bestBottom / h) - 1;
  const span = Math.ceil(bestTop / h) - first + 2;
  let n = 2;
  while (n < span) n <<= 1;
  if (n > maxGridPoints) return null;

  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const accRe = new Float64Array(n).fill(1);
  const accIm = new Float64Array(n);
  for (const { step, steps } of parts) {
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < step.pmf.length; i++) {
      const k = (((step.offset + i) % n) + n) % n;
      re[k]! += step.pmf[i]!;
    }
    fft(re, im, false);
    for (let k = 0; k < n; k++) {
      // z^T in polar form; |z| ≤ 1, so the power only shrinks (often to nothing).
      const logMagnitude = steps * Math.log(Math.hypot(re[k]!, im[k]!));
      if (logMagnitude < -745) {
        accRe[k] = 0;
        accIm[k] = 0;
        continue;
      }
      const theta = Math.atan2(im[k]!, re[k]!);
      const magnitude = Math.exp(logMagnitude);
      const pr = magnitude * Math.cos(steps * theta);
      const pi = magnitude * Math.sin(steps * theta);
      const ar = accRe[k]!;
      accRe[k] = ar * pr - accIm[k]! * pi;
      accIm[k] = ar * pi + accIm[k]! * pr;
    }
  }
  fft(accRe, accIm, true);
  const pmf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = (((first + i) % n) + n) % n;
    pmf[i] = accRe[k]! / n;
  }
  return { offset: first, pmf, infinity: Math.min(1, -Math.expm1(logFinite) + topWrap) };
}

/**
 * The smallest ε ≥ 0 with δ(ε) ≤ δ for a discrete PLD. δ(ε) = p∞ + Σ_{ℓ>ε} p_ℓ(1 − e^{ε−ℓ})
 * is linear in e^ε between grid points, so the crossing is solved exactly.
 */
function epsilonOf(pld: ComposedPld, delta: number, h: number): number {
  if (pld.infinity > delta) return Infinity;
  let above = 0; // Σ p over losses above the current point
  let aboveQ = 0; // Σ p·e^{−ℓ} over the same
  for (let i = pld.pmf.length - 1; i >= 0; i--) {
    const loss = (pld.offset + i) * h;
    const deltaAt = pld.infinity + above - Math.exp(loss) * aboveQ;
    if (loss <= 0 || deltaAt > delta) {
      const excess = pld.infinity + above - delta;
      if (aboveQ === 0 || excess <= aboveQ) return 0; // δ(0) ≤ δ already
      return Math.log(excess / aboveQ);
    }
    const p = Math.max(0, pld.pmf[i]!);
    above += p;
    aboveQ += p * Math.exp(-loss);
  }
  // Every loss is above 0 and δ(lowest loss) ≤ δ: solve on [0, lowest loss].
  const excess = pld.infinity + above - delta;
  return aboveQ === 0 || excess <= aboveQ ? 0 : Math.log(excess / aboveQ);
}

function checkMechanism({ sampleRate, noiseMultiplier, steps }: Mechanism): void {
  if (!(sampleRate >= 0 && sampleRate <= 1)) throw new RangeError(`sampleRate must lie in [0, 1], got ${sampleRate}`);
  if (!(noiseMultiplier >= 0)) throw new RangeError(`noiseMultiplier must be ≥ 0, got ${noiseMultiplier}`);
  if (!(Number.isInteger(steps) && steps >= 0)) {
    throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
  }
}

export interface ComposedPrivacyLoss {
  /** The smallest ε ≥ 0 whose δ(ε) is at most `delta`: ∞ when the grid was refused or σ = 0. */
  epsilon(delta: number): number;
}

/**
 * The composed PLD of DP-SGD runs on the same records in one direction of add/remove, built
 * once and queried for as many δ as needed.
 */
export function composedPrivacyLoss(
  mechanisms: readonly Mechanism[],
  direction: PldDirection,
  { discretization = DEFAULT_DISCRETIZATION, maxGridPoints = MAX_GRID_POINTS }: PldOptions = {},
): ComposedPrivacyLoss {
  mechanisms.forEach(checkMechanism);
  if (!(discretization > 0 && discretization <= 0.1)) {
    throw new RangeError(`discretization must lie in (0, 0.1], got ${discretization}`);
  }
  const active = mechanisms.filter((m) => m.sampleRate > 0 && m.steps > 0);
  const pld = active.some((m) => m.noiseMultiplier === 0)
    ? null
    : active.length === 0
      ? { offset: 0, pmf: new Float64Array(1), infinity: 0 }
      : compose(active, direction, discretization, maxGridPoints);
  return {
    epsilon(delta: number): number {
      if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
      return pld === null ? Infinity : epsilonOf(pld, delta, discretization);
    },
  };
}

/**
 * The (ε, δ) guarantee's ε of DP-SGD runs on the same records, composed, under add/remove
 * neighbouring, for each δ: the worse of the two directions. Infinity when the loss grid
 * would exceed maxGridPoints (only for ε far beyond any useful budget) or a run has no noise.
 */
export function pldEpsilons(
  mechanisms: readonly Mechanism[],
  deltas: readonly number[],
  options: PldOptions = {},
): number[] {
  const remove = composedPrivacyLoss(mechanisms, 'remove', options);
  const add = composedPrivacyLoss(mechanisms, 'add', options);
  return deltas.map((delta) => Math.max(remove.epsilon(delta), add.epsilon(delta)));
}

/** pldEpsilons for one δ. */
export function pldEpsilon(mechanisms: readonly Mechanism[], delta: number, options: PldOptions = {}): number {
  return pldEpsilons(mechanisms, [delta], options)[0]!;
}
