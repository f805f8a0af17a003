/**
 * Every S3 key of a run (docs/operations.md#5-where-the-outputs-land), in one place. Handlers, the request builder and
 * local mode build keys only through these functions.
 */

export const INCOMING_PREFIX = 'incoming/';
export const QUARANTINE_PREFIX = 'quarantine/';

const run = (runId: string) => `runs/${runId}`;

/** Keys in the private bucket. */
export const privateKeys = {
  runJson: (runId: string) => `${run(runId)}/run.json`,
  input: (runId: string, file: 'train' | 'test' | 'seeds') => `${run(runId)}/input/${file}.jsonl`,
  inputPrefix: (runId: string) => `${run(runId)}/input/`,
  generatorPrefix: (runId: string) => `${run(runId)}/generator/`,
  rewardPrefix: (runId: string) => `${run(runId)}/reward/`,
  pairsPrefix: (runId: string) => `${run(runId)}/pairs/`,
  pairs: (runId: string) => `${run(runId)}/pairs/pairs.jsonl`,
  evalPrefix: (runId: string) => `${run(runId)}/eval/`,
  evalMetrics: (runId: string) => `${run(runId)}/eval/metrics.json`,
  /**
   * The canaries with their secrets (docs/privacy.md), beside the train set they were put into:
   * read by the audit job only; Release has no grant on input/.
   */
  canaries: (runId: string) => `${run(runId)}/input/canaries.jsonl`,
  /** The audit job's aggregates, which Release checks and copies. */
  auditPrefix: (runId: string) => `${run(runId)}/audit/`,
  auditMetrics: (runId: string) => `${run(runId)}/audit/metrics.json`,
  /**
   * Timing and outcome of a private-zone job (describe-job): its duration is a non-DP
   * function of the records, so it stays here (docs/privacy.md).
   */
  jobRecord: (runId: string, jobName: string) => `${run(runId)}/jobs/${jobName}.json`,
  jobRecordsPrefix: (runId: string) => `${run(runId)}/jobs/`,
  /** Job configs written by start-job (the `config` input of private-zone jobs). */
  jobConfigPrefix: (runId: string, jobName: string) => `${run(runId)}/config/${jobName}/`,
  /** Spot checkpoints of one training stage, shared by its attempts so a retry can resume. */
  checkpointPrefix: (runId: string, stage: string) => `${run(runId)}/checkpoints/${stage}/`,
  quarantined: (uploadKey: string) => `${QUARANTINE_PREFIX}${uploadKey.replace(/^incoming\//, '')}`,
  quarantineReport: (uploadKey: string) => `${QUARANTINE_PREFIX}${uploadKey.replace(/^incoming\//, '')}.error.json`,
};

/** Keys in the synthesis bucket. */
export const synthesisKeys = {
  /** Everything of one run; the report lists it once to learn which outputs exist. */
  runPrefix: (runId: string) => `${run(runId)}/`,
  runJson: (runId: string) => `${run(runId)}/run.json`,
  seeds: (runId: string) => `${run(runId)}/input/seeds.jsonl`,
  seedsPrefix: (runId: string) => `${run(runId)}/input/`,
  releasePrefix: (runId: string, model: 'generator' | 'reward') => `${run(runId)}/release/${model}/`,
  privacy: (runId: string) => `${run(runId)}/release/privacy.json`,
  queriesPrefix: (runId: string) => `${run(runId)}/queries/`,
  queries: (runId: string) => `${run(runId)}/queries/queries.jsonl`,
  candidatesPrefix: (runId: string, round: number) => `${run(runId)}/candidates/round-${round}/`,
  candidates: (runId: string, round: number) => `${run(runId)}/candidates/round-${round}/candidates.jsonl`,
  scoresPrefix: (runId: string, round: number) => `${run(runId)}/scores/round-${round}/`,
  scores: (runId: string, round: number) => `${run(runId)}/scores/round-${round}/scores.jsonl`,
  pool: (runId: string, round: number) => `${run(runId)}/pool/round-${round}.jsonl`,
  working: (runId: string, round: number) => `${run(runId)}/working/round-${round}.jsonl`,
  targetPrefix: (runId: string, round: number) => `${run(runId)}/target/round-${round}/`,
  evalMetrics: (runId: string) => `${run(runId)}/eval/metrics.json`,
  /** The canary audit's released aggregates. */
  auditMetrics: (runId: string) => `${run(runId)}/audit/metrics.json`,
  /** Timing records of synthesis-zone jobs only; private-zone jobs' are in the private bucket. */
  jobRecord: (runId: string, jobName: string) => `${run(runId)}/jobs/${jobName}.json`,
  jobRecordsPrefix: (runId: string) => `${run(runId)}/jobs/`,
  jobConfigPrefix: (runId: string, jobName: string) => `${run(runId)}/config/${jobName}/`,
  /** Spot checkpoints of one training stage, shared by its attempts so a retry can resume. */
  checkpointPrefix: (runId: string, stage: string) => `${run(runId)}/checkpoints/${stage}/`,
  failure: (runId: string) => `${run(runId)}/failure.json`,
  report: (runId: string) => `${run(runId)}/report/report.json`,
  reportHtml: (runId: string) => `${run(runId)}/report/report.html`,
};

export const s3Uri = (bucket: string, key: string) => `s3://${bucket}/${key}`;

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}
