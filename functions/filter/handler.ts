/**
 * Filter by reward Lambda: `{runId, run}` → `$.selection`. Streams the round-0 scores from
 * the synthesis bucket through Reward-Guided Filtering (or the configured baseline) and
 * writes pool/round-0.jsonl and working/round-0.jsonl beside them.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { flushingMetrics, powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import { FilterInputSchema, parseEvent, s3Uri, synthesisKeys } from '../../core/contract/index.js';
import { createS3Client, getObjectStream } from '../shared/s3-objects.js';
import { filterScores, type FilterSummary, lazySink } from '../../core/selection/index.js';
import { seedPromptsFor } from '../shared/selection/seed-prompts.js';
import { s3Sink, s3Source } from '../shared/selection/s3-io.js';
import { selectionConfigFromEnv, type SelectionConfig } from '../shared/selection/lambda-config.js';

export interface FilterDeps {
  s3: S3Client;
  config: SelectionConfig;
  logger?: Pick<Logger, 'info'>;
  metrics?: Pick<Metrics, 'addMetric' | 'addDimension' | 'publishStoredMetrics'>;
}

export type FilterOutput = FilterSummary & { poolUri: string; workingUri: string };

export async function filterRun(event: unknown, deps: FilterDeps): Promise<FilterOutput> {
  const { runId, run } = parseEvent(FilterInputSchema, event, 'filter');
  const { s3, config } = deps;
  const bucket = config.synthesisBucket;
  const { method, alpha, keepFraction } = run.config.filter;
  const poolKey = synthesisKeys.pool(runId, 0);
  const workingKey = synthesisKeys.working(runId, 0);

  const seedPrompts = await seedPromptsFor(s3, bucket, runId, run);

  const started = Date.now();
  const summary = await filterScores(
    {
      scores: s3Source(s3, bucket, synthesisKeys.scores(runId, 0)),
      working: s3Sink(s3, bucket, workingKey, config.synthesisKeyArn),
      reopenWorking: () => getObjectStream(s3, bucket, workingKey),
      pool: lazySink(() => s3Sink(s3, bucket, poolKey, config.synthesisKeyArn)),
    },
    { method, alpha, keepFraction, seed: run.config.seed, seedPrompts },
  );
  const seconds = (Date.now() - started) / 1000;

  // Counts and rewards only: no record text reaches the logs.
  deps.logger?.info('filtered', { runId, seconds, ...summary });
  deps.metrics?.addDimension('method', method);
  deps.metrics?.addMetric('Queries', MetricUnit.Count, summary.queries);
  deps.metrics?.addMetric('PoolSize', MetricUnit.Count, summary.poolSize);
  deps.metrics?.addMetric('SelectionSeconds', MetricUnit.Seconds, seconds);
  return { ...summary, poolUri: s3Uri(bucket, poolKey), workingUri: s3Uri(bucket, workingKey) };
}

/** The environment reader, under the name every handler exports it by (local mode wires handlers with it). */
export const configFromEnv = selectionConfigFromEnv;

export const createHandler = flushingMetrics<FilterDeps, FilterOutput>(filterRun);

const s3 = createS3Client();
const { logger, metrics } = powertools('filter');

export const handler = wireOnFirstCall(() => createHandler({ s3, config: selectionConfigFromEnv(), logger, metrics }));
