/**
 * The run report as data: what report.json holds and report.html renders. Everything in
 * it comes from the synthesis zone (DP models' outputs, released aggregates, job timing),
 * so it is covered by the run's (ε, δ) guarantee by post-processing.
 */
import type { JobCost, StageTotal } from './costs.js';
import type { Summary } from './distribution.js';

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

export interface PrivacyFigures {
  epsilon: number;
  delta: number;
  accountant: string;
  targetEpsilon: number;
  records: number;
  mechanisms: Record<string, MechanismFigures>;
}

export interface EvaluationRow {
  model: string;
  n: number;
  rougeL?: number;
  bleu?: number;
  exactMatch?: number;
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
  /** Numeric figures each stage reported in its metrics.json, by state and round. */
  stageMetrics: { state: string; round: number | null; metrics: Record<string, number | string | boolean> }[];
  evaluation: EvaluationRow[] | null;
  jobs: JobCost[];
  stages: StageTotal[];
  cost: { estimatedUsd: number | null; priceSource: string; note: string };
}
