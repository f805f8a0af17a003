/**
 * The privacy planner (docs/privacy.md#the-planner-from-a-budget-to-noise): from the run's
 * total (ε, δ), the record count N and the two DP trainings' batch sizes and epochs, find
 * the noise multipliers σ_G and σ_R.
 *
 * Meaning of `privacy.split` (docs/privacy.md): the two proxies' own ε, each computed alone,
 * stand in the ratio split : (1 − split), and both scale together until the RDP composition
 * of the two trainings meets the target total from below, within PLAN_TOLERANCE. Both
 * searches are over monotone functions (ε falls as σ grows; the composed total grows with
 * the per-model budgets), so bracketing root finders are safe.
 */
import { resolveDelta, type RunConfig } from '../config/index.js';
import { evaluationReservation, type EvaluationReservation } from './evaluation-noise.js';
import { composeEpsilon, rdpToEpsilon } from './conversion.js';
import { DEFAULT_DISCRETIZATION, pldEpsilon } from './pld.js';
import { DEFAULT_ORDERS, rdpCurve, type Mechanism } from './rdp.js';

export type AccountantName = 'rdp' | 'pld';

/**
 * The PLD planner's grid width: ten times dp-accounting's default, for speed. The grids nest
 * (every point of the 1e-4 grid is kept), so the finer connect-the-dots PLD is dominated by
 * this one: any recomputation at the default width gives an ε at or below the plan's.
 */
export const PLANNER_DISCRETIZATION = 10 * DEFAULT_DISCRETIZATION;
// Loss grids beyond this belong to σ far too small for any budget ≤ 100: ε = ∞ without the work.
const PLANNER_MAX_GRID_POINTS = 2 ** 18;

/** The ε of DP-SGD runs composed, as the named accountant computes it (what a plan promises). */
export function accountedEpsilon(
  accountant: AccountantName,
  mechanisms: readonly Mechanism[],
  delta: number,
  discretization = PLANNER_DISCRETIZATION,
): number {
  return accountant === 'pld'
    ? pldEpsilon(mechanisms, delta, { discretization, maxGridPoints: PLANNER_MAX_GRID_POINTS })
    : composeEpsilon(mechanisms, delta);
}

/** A noise multiplier above this trains nothing useful; a plan needing more is refused. */
export const MAX_NOISE_MULTIPLIER = 50;
/** Below this the accountant's ε is already astronomically large; the search stops here. */
export const MIN_NOISE_MULTIPLIER = 0.01;
/** The composed ε of a plan lies in [(1 − PLAN_TOLERANCE)·target, target]. */
export const PLAN_TOLERANCE = 0.01;

// The searches aim well inside PLAN_TOLERANCE so that the promise holds with room to spare.
const MODEL_TOLERANCE = 1e-4;
const TOTAL_TOLERANCE = 2e-3;

export interface ModelPlan {
  noiseMultiplier: number;
  /** Poisson sampling rate q = min(1, batchSize / records). */
  sampleRate: number;
  /** epochs · ceil(records / batchSize). */
  steps: number;
  /** This model's training alone. */
  epsilon: number;
  batchSize: number;
  epochs: number;
  clipNorm: number;
}

export interface PrivacyPlan {
  /** The composed ε of both trainings: the run's guarantee, plus `evaluation.epsilon` when that is reserved. */
  epsilon: number;
  /** The trainings' budget: privacy.epsilon less the evaluation's reservation. */
  targetEpsilon: number;
  /** The trainings' δ: the run's, less the evaluation's reservation. */
  delta: number;
  accountant: AccountantName;
  /** The PLD's grid width (PLD plans only): Release recomputes ε on the same grid. */
  discretization?: number;
  split: number;
  generator: ModelPlan;
  reward: ModelPlan;
  /** The noised evaluation's share of the run's (ε, δ), when `evaluation.noise` is on. */
  evaluation?: EvaluationReservation;
}

/** The request cannot be met; `message` says why and what would work. */
export class InfeasiblePlanError extends Error {
  constructor(
    message: string,
    /** The smallest total ε these records and settings allow, when one exists. */
    readonly minimumEpsilon?: number,
    /** The fewest records with which the requested ε works under these settings, when found. */
    readonly minimumRecords?: number,
  ) {
    super(message);
    this.name = 'InfeasiblePlanError';
  }
}

type ModelName = 'generator' | 'reward';
const LABEL: Record<ModelName, string> = { generator: 'generation proxy', reward: 'reward proxy' };

/** The job contract's two formulas (docs/job-contract.md): the DP jobs compute the same. */
export function dpSgdSchedule({ records, batchSize, epochs }: { records: number; batchSize: number; epochs: number }): {
  sampleRate: number;
  steps: number;
} {
  return { sampleRate: Math.min(1, batchSize / records), steps: epochs * Math.ceil(records / batchSize) };
}

interface Schedule {
  name: ModelName;
  sampleRate: number;
  steps: number;
  batchSize: number;
  epochs: number;
}

/**
 * ε of one schedule as a function of σ. RDP curves are memoized in a cache shared by both
 * proxies (keyed by q, steps and σ): the searches revisit the same σ, and with the default
 * config both proxies have the same schedule.
 */
class ModelAccountant {
  constructor(
    readonly schedule: Schedule,
    readonly delta: number,
    /** RDP curves, or PLD ε, shared by both proxies. */
    private readonly curves: Map<string, number[]>,
    readonly accountant: AccountantName,
    /** For PLD: the RDP accountant of the same schedule, whose σ brackets the search. */
    private readonly guide?: ModelAccountant,
  ) {}

  mechanism(noiseMultiplier: number): Mechanism {
    return { noiseMultiplier, sampleRate: this.schedule.sampleRate, steps: this.schedule.steps };
  }

  curve(noiseMultiplier: number): number[] {
    const key = `${this.schedule.sampleRate}|${this.schedule.steps}|${noiseMultiplier}`;
    let curve = this.curves.get(key);
    if (curve === undefined) {
      curve = rdpCurve(this.mechanism(noiseMultiplier));
      this.curves.set(key, curve);
    }
    return curve;
  }

  epsilon(noiseMultiplier: number): number {
    if (this.accountant === 'rdp') {
      return rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: this.curve(noiseMultiplier), delta: this.delta }).epsilon;
    }
    const key = `pld|${this.schedule.sampleRate}|${this.schedule.steps}|${noiseMultiplier}`;
    let epsilon = this.curves.get(key)?.[0];
    if (epsilon === undefined) {
      epsilon = accountedEpsilon('pld', [this.mechanism(noiseMultiplier)], this.delta);
      this.curves.set(key, [epsilon]);
    }
    return epsilon;
  }

  /**
   * The smallest σ in [MIN, MAX] whose ε does not exceed `budget` (to MODEL_TOLERANCE),
   * or null when even MAX_NOISE_MULTIPLIER is not enough. Illinois-modified regula falsi on
   * log ε against log σ, which is nearly linear, so a handful of evaluations suffice. The σ
   * returned always meets the budget: b only ever moves to a point with g ≤ 0.
   */
  noiseFor(budget: number): number | null {
    const logBudget = Math.log(budget);
    const g = (u: number) => Math.log(this.epsilon(Math.exp(u))) - logBudget;
    const bracket = this.bracket(budget);
    if (bracket === null) return null;
    let [a, b] = bracket; // g(a) > 0: too little noise; g(b) ≤ 0: enough noise
    let ga = g(a);
    let gb = g(b);
    let side = 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,UpdateOperator: a safety bound; the search ends on its tolerance first
    for (let iteration = 0; iteration < 200 && b - a > 1e-13; iteration++) {
      const secant = (a * gb - b * ga) / (gb - ga);
      // NaN (g(a) = +∞ on a PLD grid too large to compute) fails both comparisons: bisect.
      // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator: g(a) > 0 ≥ g(b) puts a finite secant in (a, b]
      const c = secant > a && secant < b ? secant : (a + b) / 2;
      const gc = g(c);
      // Stryker disable next-line EqualityOperator: differs only when ε equals the budget to the last bit
      if (gc <= 0) {
        b = c;
        gb = gc;
        // Stryker disable next-line EqualityOperator: differs only at exactly the tolerance
        if (gc >= Math.log1p(-MODEL_TOLERANCE)) break;
        if (side === -1) ga /= 2;
        side = -1;
      } else {
        a = c;
        ga = gc;
        if (side === 1) gb /= 2;
        side = 1;
      }
    }
    return Math.exp(b);
  }

  /**
   * log σ below and above the answer, or null (even MAX is not enough). σ = MIN never meets a
   * budget the config allows (ε ≤ 100): RDP's ε there is in the thousands and the PLD's loss
   * grid is refused (ε = ∞). Each PLD evaluation costs a composition, so the PLD search starts
   * next to the RDP σ for the same budget: RDP is looser, so its σ is (nearly always) enough
   * noise for the PLD too.
   */
  private bracket(budget: number): [number, number] | null {
    const full = (): [number, number] | null =>
      this.epsilon(MAX_NOISE_MULTIPLIER) > budget
        ? null
        : [Math.log(MIN_NOISE_MULTIPLIER), Math.log(MAX_NOISE_MULTIPLIER)];
    const rdp = this.guide?.noiseFor(budget);
    if (rdp == null) return full();
    // Stryker disable next-line EqualityOperator: differs only when ε equals the budget to the last bit
    if (this.epsilon(rdp) > budget) return full();
    for (const factor of [0.85, 0.6]) {
      const low = rdp * factor;
      if (low <= MIN_NOISE_MULTIPLIER) break;
      // Stryker disable next-line EqualityOperator: differs only when ε equals the budget to the last bit
      if (this.epsilon(low) > budget) return [Math.log(low), Math.log(rdp)];
    }
    return [Math.log(MIN_NOISE_MULTIPLIER), Math.log(rdp)];
  }
}

interface Allocation {
  noise: Record<ModelName, number>;
  total: number;
}

/**
 * The σ pair that gives the proxies ε budgets split·t and (1 − split)·t, with their composed
 * total. Called only with t ≥ smallestScale, where MAX is enough noise for both shares; MAX in
 * place of a missing σ would still leave the total true to the σ returned.
 */
function allocate(t: number, split: number, models: Record<ModelName, ModelAccountant>, delta: number): Allocation {
  const generator = models.generator.noiseFor(split * t) ?? MAX_NOISE_MULTIPLIER;
  const reward = models.reward.noiseFor((1 - split) * t) ?? MAX_NOISE_MULTIPLIER;
  if (models.generator.accountant === 'pld') {
    const total = accountedEpsilon(
      'pld',
      [models.generator.mechanism(generator), models.reward.mechanism(reward)],
      delta,
    );
    return { noise: { generator, reward }, total };
  }
  // RDP composition: the two curves add order by order (the same sums composeEpsilon makes).
  const g = models.generator.curve(generator);
  const r = models.reward.curve(reward);
  const total = rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: g.map((value, k) => value + r[k]!), delta }).epsilon;
  return { noise: { generator, reward }, total };
}

/**
 * The smallest scale t the split allows: the proxy that reaches MAX_NOISE_MULTIPLIER first
 * sets it. Nudged up past the solver's tolerance so that this proxy lands at σ ≤ MAX.
 */
function smallestScale(split: number, models: Record<ModelName, ModelAccountant>): number {
  const t = Math.max(
    models.generator.epsilon(MAX_NOISE_MULTIPLIER) / split,
    models.reward.epsilon(MAX_NOISE_MULTIPLIER) / (1 - split),
  );
  return t * (1 + MODEL_TOLERANCE);
}

/** The smallest composed ε the split allows, with the allocation that gives it. */
function smallestTotal(split: number, models: Record<ModelName, ModelAccountant>, delta: number): Allocation {
  return allocate(smallestScale(split, models), split, models, delta);
}

function schedules(records: number, config: RunConfig): Record<ModelName, Schedule> {
  const one = (name: ModelName): Schedule => {
    const { batchSize, epochs } = config[name];
    return { name, batchSize, epochs, ...dpSgdSchedule({ records, batchSize, epochs }) };
  };
  return { generator: one('generator'), reward: one('reward') };
}

function accountants(records: number, config: RunConfig, delta: number): Record<ModelName, ModelAccountant> {
  const s = schedules(records, config);
  const curves = new Map<string, number[]>();
  const { accountant } = config.privacy;
  const model = (name: ModelName) =>
    new ModelAccountant(
      s[name],
      delta,
      curves,
      accountant,
      accountant === 'pld' ? new ModelAccountant(s[name], delta, curves, 'rdp') : undefined,
    );
  return { generator: model('generator'), reward: model('reward') };
}

/**
 * The run's δ for these records, the noised evaluation's reservation, and the δ left to the
 * trainings (basic composition: the run's total is the sum of the parts, docs/privacy.md).
 */
function deltaShares(
  config: RunConfig,
  records: number,
): { runDelta: number; evaluation: EvaluationReservation | null; delta: number } {
  const runDelta = resolveDelta(config.privacy.delta, records);
  const evaluation = evaluationReservation(config.evaluation.noise, runDelta);
  return { runDelta, evaluation, delta: runDelta - (evaluation?.delta ?? 0) };
}

/** The most records a fixed δ allows (δ < 1/N); unbounded with δ auto, which stays below 1/N. */
function mostRecordsFor(config: RunConfig): number {
  const delta = config.privacy.delta;
  if (typeof delta !== 'number') return Number.POSITIVE_INFINITY;
  // δ is in (0, 1) (the config's schema): at n = 0 at the latest, δ < 1/0 = ∞ ends the loop.
  let n = Math.floor(1 / delta);
  while (!(delta < 1 / n)) n -= 1;
  return n;
}

/** The fewest records (≥ `from`) whose plan is feasible for `target`, searched by doubling then bisection. */
function fewestRecordsFor(target: number, from: number, config: RunConfig): number | undefined {
  // Every N tried is at most `most`, so δ < 1/N holds there: only the floor decides.
  const feasible = (records: number) => {
    const { delta } = deltaShares(config, records);
    return smallestTotal(config.privacy.split, accountants(records, config, delta), delta).total <= target;
  };
  // A fixed δ refuses every N ≥ 1/δ, so feasibility does not keep growing with N: the doubling
  // stops at the largest N that δ allows instead of jumping past a feasible N below it.
  const most = mostRecordsFor(config);
  let lo = from; // infeasible
  let hi = Math.min(from * 2, most);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: else hi = most = from is checked once (refused) and the loop stops
  if (hi <= lo) return undefined;
  while (!feasible(hi)) {
    if (hi >= most) return undefined;
    lo = hi;
    hi = Math.min(hi * 2, most);
    if (hi > 1e10) return undefined;
  }
  while (hi - lo > Math.max(1, Math.floor(lo * 0.001))) {
    const mid = Math.floor((lo + hi) / 2);
    if (feasible(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Rounds x (finite, > 0: a refusal's floor) up to `digits` significant digits, so a suggested ε is never just below it. */
function ceilSignificant(x: number, digits: number): number {
  const unit = 10 ** (Math.floor(Math.log10(x)) - digits + 1);
  const rounded = (steps: number) => Number((steps * unit).toPrecision(digits + 2));
  // x / unit carries rounding error, which the 1e-9 forgives for an x on the grid; an x a hair
  // above a grid point must still get the next one, or the suggested ε would be refused.
  const steps = Math.ceil(x / unit - 1e-9);
  return rounded(steps) >= x ? rounded(steps) : rounded(steps + 1);
}

const fmt = (x: number, digits = 3) =>
  Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 12 });

/** Finds σ_G and σ_R for the run; throws InfeasiblePlanError before any job would start. */
export function planPrivacy({ records, config }: { records: number; config: RunConfig }): PrivacyPlan {
  if (!(Number.isInteger(records) && records >= 1)) {
    throw new InfeasiblePlanError(`the training set must hold at least one record (got ${records})`);
  }
  const { epsilon: runEpsilon, split, clipNorm } = config.privacy;
  for (const name of ['generator', 'reward'] as const) {
    const { batchSize } = config[name];
    if (batchSize > records) {
      throw new InfeasiblePlanError(
        `${name}.batchSize ${batchSize} is larger than the ${records} training records: ` +
          `set ${name}.batchSize to at most ${records}, or train on at least ${batchSize} records`,
      );
    }
  }
  const { runDelta, evaluation, delta } = deltaShares(config, records);
  if (!(runDelta < 1 / records)) {
    // With δ ≥ 1/N, "publish one record at random" is (0, δ)-DP: the guarantee means nothing.
    throw new InfeasiblePlanError(
      `δ = ${runDelta} is not below 1/N = 1/${records.toLocaleString('en-US')} = ${fmt(1 / records, 4)}: ` +
        `δ must be smaller than ${fmt(1 / records, 4)} (the customary choice is at most 1/(10·N) = ` +
        `${fmt(1 / (10 * records), 4)}; privacy.delta "auto" picks min(1e-5, 1/(10·N)))`,
    );
  }
  // The noised evaluation's share is set aside first; the trainings get the rest.
  const target = runEpsilon - (evaluation?.epsilon ?? 0);
  if (!(target > 0)) {
    throw new InfeasiblePlanError(
      `evaluation.noise.epsilon = ${evaluation!.epsilon} leaves nothing of privacy.epsilon = ${runEpsilon} for the ` +
        'two DP trainings: lower evaluation.noise.epsilon or raise privacy.epsilon',
    );
  }
  const models = accountants(records, config, delta);

  const floorAllocation = smallestTotal(split, models, delta);
  const floor = floorAllocation.total;
  if (floor > target) {
    const binding: ModelName =
      models.generator.epsilon(MAX_NOISE_MULTIPLIER) / split >=
      models.reward.epsilon(MAX_NOISE_MULTIPLIER) / (1 - split)
        ? 'generator'
        : 'reward';
    const minimumEpsilon = Number.isFinite(floor) ? ceilSignificant(floor, 3) : undefined;
    // Even a mechanism that leaks nothing gets ε > 0 from the RDP→(ε, δ) conversion,
    // because the accountant's orders stop at 63: below that, no N or σ helps.
    // The PLD has no such floor.
    const certifiable =
      config.privacy.accountant === 'rdp'
        ? rdpToEpsilon({ orders: DEFAULT_ORDERS, rdp: DEFAULT_ORDERS.map(() => 0), delta }).epsilon
        : 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: no floor is ≤ certifiable at any N, so the search finds none: same message
    const minimumRecords = target > certifiable ? fewestRecordsFor(target, records, config) : undefined;
    // Stryker disable next-line ConditionalExpression,StringLiteral: a floor at σ ≤ MAX is finite (an ∞ PLD needs a far smaller σ)
    const allowed = minimumEpsilon === undefined ? 'no finite ε' : `ε ≥ ${fmt(minimumEpsilon)}`;
    const remedy =
      minimumRecords !== undefined
        ? `; ε = ${target} works from ${minimumRecords.toLocaleString('en-US')} records`
        : target <= certifiable
          ? `; the RDP accountant cannot certify ε ≤ ${fmt(certifiable)} at this δ with any number of records`
          : `; no number of records makes ε = ${target} work at this δ`;
    throw new InfeasiblePlanError(
      `ε = ${target} (δ = ${delta.toExponential(2)}) cannot be met with ${records} records: the ${LABEL[binding]} ` +
        `would need a noise multiplier above ${MAX_NOISE_MULTIPLIER}. These settings allow ${allowed}${remedy}. ` +
        'Fewer epochs or a smaller batch size also lower the ε that a noise multiplier buys',
      minimumEpsilon,
      minimumRecords,
    );
  }

  // total(t) grows with t. The floor's scale is the smallest feasible t; at
  // t = target / max(split, 1 − split) the larger share alone reaches the target, so the
  // total is at least the target there (composition ≥ each part). Regula falsi between.
  let lo = smallestScale(split, models);
  let best: Allocation = floorAllocation;
  let hi = Math.max(target / Math.max(split, 1 - split), lo);
  const atHi = allocate(hi, split, models, delta);
  // Stryker disable next-line EqualityOperator: differs only when the total equals the target to the last bit
  if (atHi.total <= target) {
    best = atHi; // a lopsided split: the larger share alone all but spends the target
  } else {
    let fLo = best.total - target; // ≤ 0
    let fHi = atHi.total - target; // > 0
    let side = 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,UpdateOperator: a safety bound; the search ends on its tolerance first
    for (let iteration = 0; iteration < 100; iteration++) {
      if (best.total >= (1 - TOTAL_TOLERANCE) * target) break;
      // With fLo ≤ 0 < fHi both finite the secant lies in (lo, hi). A total that composes to +∞ at hi
      // (a PLD grid too large) would pin it to lo for every iteration: bisect then, so the search
      // still narrows instead of ending at the floor's allocation.
      const secant = lo + ((hi - lo) * -fLo) / (fHi - fLo);
      // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator: no reachable plan has an infinite total at hi; the pinned plans take the secant
      const t = secant > lo && secant < hi ? secant : (lo + hi) / 2;
      const at = allocate(t, split, models, delta);
      const f = at.total - target;
      // Stryker disable next-line EqualityOperator: differs only when the total equals the target to the last bit
      if (f <= 0) {
        best = at;
        lo = t;
        fLo = f;
        if (side === -1) fHi /= 2;
        side = -1;
      } else {
        hi = t;
        fHi = f;
        if (side === 1) fLo /= 2;
        side = 1;
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: a safety stop; the search ends on its tolerance first
      if (hi - lo <= hi * 1e-12) break;
    }
  }

  const modelPlan = (name: ModelName): ModelPlan => {
    const { sampleRate, steps, batchSize, epochs } = models[name].schedule;
    const noiseMultiplier = best.noise[name];
    return {
      noiseMultiplier,
      sampleRate,
      steps,
      epsilon: models[name].epsilon(noiseMultiplier),
      batchSize,
      epochs,
      clipNorm,
    };
  };
  return {
    epsilon: best.total,
    targetEpsilon: target,
    delta,
    accountant: config.privacy.accountant,
    ...(config.privacy.accountant === 'pld' ? { discretization: PLANNER_DISCRETIZATION } : {}),
    split,
    generator: modelPlan('generator'),
    reward: modelPlan('reward'),
    ...(evaluation ? { evaluation } : {}),
  };
}
