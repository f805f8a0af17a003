/**
 * The run report as data: what report.json holds and report.html renders. Everything in
 * it comes from the synthesis zone (DP models' outputs, released aggregates, job timing),
 * so it is covered by the run's (ε, δ) guarantee by post-processing.
 */
import type { JobCost, StageTotal } from './costs.js';
import type { Histogram, Summary } from './distribution.js';

export interface StageCount {
  /** Console name of the state that produced it. */
  state: string;
  round: number | null;
  what: string;
  count: number | null;
}

export interface PoolRound {
  round: number;
  size: number | null;
  working: number | null;
  reward: Summary | null;
}

export interface MechanismFigures {
  stage?: string;
  sampleRate: number;
  steps: number;
  noiseMultiplier: number;
  clipNorm: number;
  epsilon: number;
  selfReportedEpsilon: number;
}

/** The noised evaluation, the run's third mechanism when the plan reserved it (docs/privacy.md). */
export interface EvaluationMechanismFigures {
  mechanism: string;
  epsilon: number;
  delta: number;
  sensitivity?: string;
}

export interface PrivacyFigures {
  epsilon: number;
  delta: number;
  accountant: string;
  /** Absent in privacy.json written before it was recorded. */
  neighbouring?: string;
  targetEpsilon: number;
  records: number;
  mechanisms: Record<string, MechanismFigures | EvaluationMechanismFigures>;
}

export interface EvaluationRow {
  model: string;
  n: number;
  rougeL?: number;
  bleu?: number;
  exactMatch?: number;
  answerAccuracy?: number;
  /** A reference trained on the private records without DP (benchmarks only, never released). */
  nonPrivate?: boolean;
}

/** How the evaluation crossed (docs/privacy.md, "The evaluation"): withheld, noised, or exact. */
export interface EvaluationRelease {
  /** Why no aggregate was released (too few test records). */
  withheld?: string;
  noise?: { mechanism: string; epsilon: number; delta: number; scale: number; withheldMetrics: string[] };
}

/**
 * The empirical privacy audit with canaries (docs/privacy.md), when the run enabled it:
 * aggregates only, computed in the private zone.
 */
export interface CanaryAudit {
  canaries: number;
  /** Exposure of each canary's secret, in bits (rank among random candidates). */
  exposures?: number[];
  /** The exposure a secret the model never saw gets on average, in bits. */
  chanceExposure?: number;
  /** Membership-inference AUC, inserted vs never-inserted canaries (0.5 is chance). */
  auc?: number;
  /** Canary secrets found verbatim in the synthetic data. */
  secretsInSynthetic?: number;
}

/** One round's rewards: every scored candidate and the pool after the round, on shared bins. */
export interface RoundRewards {
  round: number;
  candidates: { count: number; histogram: Histogram };
  pool: { count: number; histogram: Histogram } | null;
  /** The threshold this round applied: the pool's lowest reward (round 0), else pool r−1's. */
  threshold: number | null;
}

export interface ReportDocument {
  runId: string;
  generatedAt: string;
  run: {
    records: number;
    rounds: number;
    hasTest: boolean;
    hasSeeds: boolean;
    filterMethod: string;
    keepFraction: number;
    queries: number | null;
    candidatesPerQuery: number;
  };
  privacy: PrivacyFigures | null;
  counts: StageCount[];
  distributions: {
    /** Every candidate scored in round 0, before filtering. */
    before: { reward: Summary; ppl: Summary } | null;
    /** The chosen responses kept in pool round 0. */
    after: { reward: Summary; ppl: Summary } | null;
  };
  pools: PoolRound[];
  /** Per round; absent in reports written before it was recorded. */
  rewardsByRound?: RoundRewards[];
  /** Numeric figures each stage reported in its metrics.json, by state and round. */
  stageMetrics: { state: string; round: number | null; metrics: Record<string, number | string | boolean> }[];
  evaluation: EvaluationRow[] | null;
  /** Absent in reports written before it was recorded. */
  evaluationRelease?: EvaluationRelease | null;
  canaryAudit?: CanaryAudit | null;
  jobs: JobCost[];
  stages: StageTotal[];
  cost: { estimatedUsd: number | null; priceSource: string; note: string };
}
