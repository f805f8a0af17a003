/**
 * Job durations and an ESTIMATE of their cost. Prices are approximate SageMaker on-demand
 * list prices per instance-hour (us-east-1, training/processing, USD) as published by AWS
 * in 2025; they differ by region, change over time and ignore spot discounts, storage and
 * data transfer. The report labels every figure from here as an estimate.
 */
import type { JobRecord } from '../../core/contract/index.js';

/**
 * Why the private-zone jobs have no row, no duration and no cost here. A coarsened total
 * would not be DP either (one record can push it across a bucket boundary), and the
 * private phase's end is already visible to the synthesis zone as the arrival time of the
 * released models, so the report adds nothing to it (docs/privacy.md, side channels).
 */
export const PRIVATE_TIMING_NOTE =
  'Private-zone jobs (Build reward pairs, the two DP trainings, Evaluate) are not shown: their durations and costs are functions of the private records without differential privacy, so they stay in the private bucket (runs/<run>/jobs/).';

export const PRICE_SOURCE = 'approximate SageMaker on-demand list prices, us-east-1, USD per instance-hour (2025)';

export const ON_DEMAND_USD_PER_HOUR: Readonly<Record<string, number>> = Object.freeze({
  'ml.m5.large': 0.115,
  'ml.m5.xlarge': 0.23,
  'ml.m5.2xlarge': 0.461,
  'ml.g5.xlarge': 1.408,
  'ml.g5.2xlarge': 1.515,
  'ml.g5.4xlarge': 2.03,
  'ml.g5.12xlarge': 7.09,
  'ml.g5.48xlarge': 20.36,
  'ml.p4d.24xlarge': 37.688,
});

export interface JobCost {
  jobName: string;
  stage: string;
  round: number | null;
  state: string;
  zone: string;
  instanceType: string | null;
  instanceCount: number;
  spot: boolean;
  /** ISO start time, for the timeline; absent in reports written before it was recorded. */
  start?: string | null;
  /** Wall-clock seconds from start to end. */
  seconds: number | null;
  /** What the estimate charges: SageMaker's billable seconds when given, else the wall clock. */
  billedSeconds: number | null;
  estimatedUsd: number | null;
}

export function jobCost(record: JobRecord, prices: Readonly<Record<string, number>> = ON_DEMAND_USD_PER_HOUR): JobCost {
  const start = record.start ? Date.parse(record.start) : NaN;
  const end = record.end ? Date.parse(record.end) : NaN;
  const seconds = Number.isFinite(start) && Number.isFinite(end) && end >= start ? (end - start) / 1000 : null;
  const instanceCount = record.instanceCount ?? 1;
  const billedSeconds = record.billableSeconds ?? seconds;
  const price = record.instanceType ? prices[record.instanceType] : undefined;
  // SageMaker's billable time is per instance: a cluster is billed for each of its instances.
  const estimatedUsd =
    price !== undefined && billedSeconds !== null ? (billedSeconds / 3600) * price * instanceCount : null;
  return {
    jobName: record.jobName,
    stage: record.stage,
    round: record.round,
    state: record.state,
    zone: record.zone,
    instanceType: record.instanceType,
    instanceCount,
    spot: record.spot,
    start: record.start,
    seconds,
    billedSeconds,
    estimatedUsd,
  };
}

export interface StageTotal {
  state: string;
  jobs: number;
  seconds: number;
  estimatedUsd: number | null;
}

/** Per console state, in first-seen order; a state's cost is null if any of its jobs has no price. */
export function stageTotals(jobs: JobCost[]): StageTotal[] {
  const totals = new Map<string, StageTotal>();
  for (const job of jobs) {
    const total = totals.get(job.state) ?? { state: job.state, jobs: 0, seconds: 0, estimatedUsd: 0 };
    total.jobs += 1;
    total.seconds += job.seconds ?? 0;
    total.estimatedUsd =
      total.estimatedUsd === null || job.estimatedUsd === null ? null : total.estimatedUsd + job.estimatedUsd;
    totals.set(job.state, total);
  }
  return [...totals.values()];
}
