/**
 * Gathers the report from the synthesis bucket only: run.json, privacy.json, each stage's
 * metrics.json, the pool/working/scores files (streamed) and the job timing records.
 * Missing pieces (a run that failed early, a stage not run) are reported as absent.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { JobRecordSchema, type JobRecord, type RunState, synthesisKeys } from '../../core/contract/index.js';
import { readJsonl, splitLines } from '../../core/jsonl/index.js';
import { getJson, getObjectStream, listKeys } from '../shared/s3-objects.js';
import { jobCost, PRICE_SOURCE, PRIVATE_TIMING_NOTE, stageTotals } from './costs.js';
import { DistributionAccumulator } from './distribution.js';
import type {
  CanaryAudit,
  EvaluationRelease,
  EvaluationRow,
  PoolRound,
  PrivacyFigures,
  ReportDocument,
  RoundRewards,
  StageCount,
} from './report-document.js';

/** The canary audit's released aggregates (functions/release/audit.ts); the report draws five of them. */
type ReleasedAuditFigures = Required<CanaryAudit> & { maxExposure: number; candidates: number };

export interface CollectDeps {
  s3: S3Client;
  synthesisBucket: string;
  logger?: Pick<Logger, 'warn'>;
  now?: () => Date;
}

type Reader = Awaited<ReturnType<typeof reader>>;

/**
 * Every read goes through here, bound to the synthesis bucket. The run's keys are listed
 * once up front and only listed keys are read: a missing stage output is then simply
 * absent, where a GET of it would be a 403 under a role that may list only `runs/*`.
 */
async function reader(deps: CollectDeps, runId: string) {
  const bucket = deps.synthesisBucket;
  const present = new Set<string>();
  for await (const { key } of listKeys(deps.s3, bucket, synthesisKeys.runPrefix(runId))) present.add(key);
  return {
    json: async <T>(key: string): Promise<T | undefined> =>
      present.has(key) ? getJson<T>(deps.s3, bucket, key) : undefined,
    stream: async (key: string): Promise<Readable | undefined> =>
      present.has(key) ? getObjectStream(deps.s3, bucket, key) : undefined,
    keys: (prefix: string) => [...present].filter((k) => k.startsWith(prefix)).sort(),
  };
}

async function countLines(read: Reader, key: string): Promise<number | null> {
  const stream = await read.stream(key);
  if (!stream) return null;
  let n = 0;
  for await (const line of splitLines(stream)) if (line.byteLength > 0) n += 1;
  return n;
}

/** A count a job wrote in its metrics.json; null when the file or the number is absent. */
function countIn(metrics: Record<string, unknown> | undefined, key: string): number | null {
  const value = metrics?.[key];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

/** Scalars only: a stage's metrics.json may hold lists (losses) that do not belong in a table. */
function scalars(value: unknown): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) {
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || typeof v === 'string') out[k] = v;
  }
  return out;
}

interface ScoreLine {
  id: string;
  candidates: { text: string; reward: number; ppl: number }[];
}

/** Candidates of a candidates.jsonl or scores.jsonl: records and total candidates. */
async function countCandidates(read: Reader, key: string, visit?: (record: ScoreLine) => void) {
  const stream = await read.stream(key);
  if (!stream) return null;
  let records = 0;
  let candidates = 0;
  for await (const { value } of readJsonl(stream, key)) {
    const record = value as ScoreLine;
    records += 1;
    candidates += Array.isArray(record.candidates) ? record.candidates.length : 0;
    visit?.(record);
  }
  return { records, candidates };
}

interface PoolLine {
  id: string;
  response: string;
  reward: number;
}

async function readPool(read: Reader, key: string, keep?: Map<string, string>) {
  const stream = await read.stream(key);
  if (!stream) return null;
  const reward = new DistributionAccumulator();
  let size = 0;
  for await (const { value } of readJsonl(stream, key)) {
    const entry = value as PoolLine;
    size += 1;
    reward.add(entry.reward);
    keep?.set(entry.id, entry.response);
  }
  return { size, reward: reward.summary(), rewards: reward };
}

async function readJobs(read: Reader, runId: string, deps: CollectDeps): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  for (const key of read.keys(synthesisKeys.jobRecordsPrefix(runId))) {
    if (!key.endsWith('.json')) continue;
    const parsed = JobRecordSchema.safeParse(await read.json(key));
    if (!parsed.success) deps.logger?.warn('skipped a job record that does not match the schema', { key });
    // A private-zone job's timing has no place here (PRIVATE_TIMING_NOTE); one written by an older version is ignored.
    else if (parsed.data.zone === 'private') deps.logger?.warn('skipped a private-zone job record', { key });
    else jobs.push(parsed.data);
  }
  return jobs.sort((a, b) => (a.start ?? '').localeCompare(b.start ?? '') || a.jobName.localeCompare(b.jobName));
}

/** The metrics.json of each round's finished target training, found through its job record. */
async function targetMetrics(read: Reader, runId: string, jobs: JobRecord[], rounds: number) {
  const out: ReportDocument['stageMetrics'] = [];
  for (let round = 0; round <= rounds; round++) {
    const trainings = jobs.filter((j) => j.stage === 'train-target' && j.round === round);
    const last = trainings[trainings.length - 1];
    if (!last) continue;
    const metrics = await read.json(
      `${synthesisKeys.targetPrefix(runId, round)}${last.jobName}/output/model/metrics.json`,
    );
    if (metrics) out.push({ state: last.state, round, metrics: scalars(metrics) });
  }
  return out;
}

/** Candidates and pool of one round binned over their common range, so they overlay bin for bin. */
function roundRewards(
  round: number,
  candidates: DistributionAccumulator,
  pool: DistributionAccumulator | null,
  pools: PoolRound[],
): RoundRewards {
  const c = candidates.summary();
  const p = pool?.summary() ?? null;
  const lows = [c.min, p?.min].filter((v): v is number => typeof v === 'number');
  const highs = [c.max, p?.max].filter((v): v is number => typeof v === 'number');
  const [min, max] = [Math.min(...lows), Math.max(...highs)];
  const threshold = round === 0 ? (pools[0]?.reward?.min ?? null) : (pools[round - 1]?.reward?.min ?? null);
  return {
    round,
    candidates: { count: c.count, histogram: candidates.histogramOver(min, max) },
    pool: p && pool && p.count > 0 ? { count: p.count, histogram: pool.histogramOver(min, max) } : null,
    threshold,
  };
}

export async function collectReport(runId: string, run: RunState, deps: CollectDeps): Promise<ReportDocument> {
  const read = await reader(deps, runId);
  const rounds = run.rounds;
  const prepareCount = (what: string, count: number | null): StageCount => ({
    state: 'Prepare run',
    round: null,
    what,
    count,
  });
  const counts: StageCount[] = [prepareCount('private records (count only)', run.records)];
  const stageMetrics: ReportDocument['stageMetrics'] = [];
  const addMetrics = async (state: string, round: number | null, key: string) => {
    const metrics = await read.json<Record<string, unknown>>(key);
    if (metrics) stageMetrics.push({ state, round, metrics: scalars(metrics) });
    return metrics;
  };

  const prepared = await read.json<{ counts?: { test?: number; seeds?: number } }>(synthesisKeys.runJson(runId));
  if (run.hasTest) counts.push(prepareCount('test records (count only)', prepared?.counts?.test ?? null));
  if (run.hasSeeds) counts.push(prepareCount('public seed prompts', prepared?.counts?.seeds ?? null));
  const privacy = (await read.json<PrivacyFigures>(synthesisKeys.privacy(runId))) ?? null;
  const released = await read.json<{ rows: EvaluationRow[] } & EvaluationRelease>(synthesisKeys.evalMetrics(runId));
  const evaluation = released?.rows ?? null;
  const evaluationRelease: EvaluationRelease | null = released
    ? {
        ...(released.withheld ? { withheld: released.withheld } : {}),
        ...(released.noise ? { noise: released.noise } : {}),
      }
    : null;

  const audit = await read.json<ReleasedAuditFigures>(synthesisKeys.auditMetrics(runId));
  const canaryAudit: CanaryAudit | null = audit
    ? {
        canaries: audit.canaries,
        exposures: audit.exposures,
        chanceExposure: audit.chanceExposure,
        auc: audit.auc,
        secretsInSynthetic: audit.secretsInSynthetic,
      }
    : null;

  // Counts come from the jobs' own metrics.json: at M = 100,000 the candidates files of all
  // rounds are gigabytes, too much to stream in one Lambda just to count them.
  const queriesMetrics = await addMetrics(
    'Synthesize queries',
    null,
    `${synthesisKeys.queriesPrefix(runId)}metrics.json`,
  );
  counts.push({
    state: 'Synthesize queries',
    round: null,
    what: 'queries',
    count: countIn(queriesMetrics, 'produced'),
  });

  // Pool round 0 first: its responses are matched to their scores for the "after" distribution.
  const pool0Responses = new Map<string, string>();
  const pools: PoolRound[] = [];
  const poolRewards: (DistributionAccumulator | null)[] = [];
  for (let round = 0; round <= rounds; round++) {
    const pool = await readPool(read, synthesisKeys.pool(runId, round), round === 0 ? pool0Responses : undefined);
    const working = await countLines(read, synthesisKeys.working(runId, round));
    pools.push({ round, size: pool?.size ?? null, working, reward: pool?.reward ?? null });
    poolRewards.push(pool?.rewards ?? null);
  }
  const rewardsByRound: RoundRewards[] = [];

  const before = { reward: new DistributionAccumulator(), ppl: new DistributionAccumulator() };
  const after = { reward: new DistributionAccumulator(), ppl: new DistributionAccumulator() };
  for (let round = 0; round <= rounds; round++) {
    const sampleState = round === 0 ? 'Sample candidates' : `Refine round ${round}`;
    const sampled = await addMetrics(sampleState, round, `${synthesisKeys.candidatesPrefix(runId, round)}metrics.json`);
    counts.push({ state: sampleState, round, what: 'candidates', count: countIn(sampled, 'candidates') });

    const roundCandidates = new DistributionAccumulator();
    const visit = (record: ScoreLine) => {
      for (const candidate of record.candidates ?? []) roundCandidates.add(candidate.reward);
      if (round !== 0) return;
      const kept = pool0Responses.get(record.id);
      for (const candidate of record.candidates ?? []) {
        before.reward.add(candidate.reward);
        before.ppl.add(candidate.ppl);
      }
      const chosen = kept === undefined ? undefined : record.candidates?.find((c) => c.text === kept);
      if (chosen) {
        after.reward.add(chosen.reward);
        after.ppl.add(chosen.ppl);
      }
    };
    // The scores are still read once, for the reward distributions; their count is the job's.
    await countCandidates(read, synthesisKeys.scores(runId, round), visit);
    rewardsByRound.push(roundRewards(round, roundCandidates, poolRewards[round] ?? null, pools));
    const scored = await addMetrics(
      'Score candidates',
      round,
      `${synthesisKeys.scoresPrefix(runId, round)}metrics.json`,
    );
    counts.push({ state: 'Score candidates', round, what: 'scored candidates', count: countIn(scored, 'candidates') });

    const pool = pools[round]!;
    const selectState = round === 0 ? 'Filter by reward' : 'Gate refined samples';
    counts.push({ state: selectState, round, what: 'pool', count: pool.size });
    counts.push({ state: selectState, round, what: 'working set', count: pool.working });
  }

  const jobRecords = await readJobs(read, runId, deps);
  stageMetrics.push(...(await targetMetrics(read, runId, jobRecords, rounds)));
  const jobs = jobRecords.map((j) => jobCost(j));
  const stages = stageTotals(jobs);
  const priced = jobs.every((j) => j.estimatedUsd !== null);
  const beforeSummary = { reward: before.reward.summary(), ppl: before.ppl.summary() };
  const afterSummary = { reward: after.reward.summary(), ppl: after.ppl.summary() };

  return {
    runId,
    generatedAt: (deps.now?.() ?? new Date()).toISOString(),
    run: {
      records: run.records,
      rounds,
      hasTest: run.hasTest,
      hasSeeds: run.hasSeeds,
      filterMethod: run.config.filter.method,
      keepFraction: run.config.filter.keepFraction,
      queries: run.config.synthesis.queries ?? null,
      candidatesPerQuery: run.config.synthesis.candidates,
    },
    privacy,
    counts,
    distributions: {
      before: beforeSummary.reward.count ? beforeSummary : null,
      after: afterSummary.reward.count ? afterSummary : null,
    },
    pools,
    rewardsByRound: rewardsByRound.filter((r) => r.candidates.count > 0 || r.pool !== null),
    stageMetrics,
    evaluation,
    evaluationRelease,
    canaryAudit,
    jobs,
    stages,
    cost: {
      estimatedUsd: jobs.length && priced ? jobs.reduce((sum, j) => sum + j.estimatedUsd!, 0) : null,
      priceSource: PRICE_SOURCE,
      note: `Estimate only: billable seconds × on-demand price × instances, synthesis-zone jobs only. Spot discounts, storage, data transfer and Lambda/Step Functions charges are not included. ${PRIVATE_TIMING_NOTE}`,
    },
  };
}
