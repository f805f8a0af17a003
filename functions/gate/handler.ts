/**
 * Gate refined samples Lambda: `{runId, round, run}` → `$.selection`. Streams round r's
 * scores with pool and working set r−1 through the refinement gate and writes pool and
 * working set r.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { flushingMetrics, powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import { GateInputSchema, parseEvent, s3Uri, synthesisKeys } from '../../core/contract/index.js';
import { createS3Client } from '../shared/s3-objects.js';
import { gateRound, type GateSummary } from '../../core/selection/index.js';
import { seedPromptsFor } from '../shared/selection/seed-prompts.js';
import { s3Sink, s3Source } from '../shared/selection/s3-io.js';
import { selectionConfigFromEnv, type SelectionConfig } from '../shared/selection/lambda-config.js';

export interface GateDeps {
  s3: S3Client;
  config: SelectionConfig;
  logger?: Pick<Logger, 'info'>;
  metrics?: Pick<Metrics, 'addMetric' | 'addDimension' | 'publishStoredMetrics'>;
}

export type GateOutput = GateSummary & { round: number; poolUri: string; workingUri: string };

export async function gateRun(event: unknown, deps: GateDeps): Promise<GateOutput> {
  const { runId, round, run } = parseEvent(GateInputSchema, event, 'gate');
  const { s3, config } = deps;
  const bucket = config.synthesisBucket;
  const { method, alpha } = run.config.filter;
  const poolKey = synthesisKeys.pool(runId, round);
  const workingKey = synthesisKeys.working(runId, round);

  const seedPrompts = await seedPromptsFor(s3, bucket, runId, run);

  const started = Date.now();
  const summary = await gateRound(
    {
      scores: s3Source(s3, bucket, synthesisKeys.scores(runId, round)),
      poolIn: s3Source(s3, bucket, synthesisKeys.pool(runId, round - 1)),
      workingIn: s3Source(s3, bucket, synthesisKeys.working(runId, round - 1)),
      pool: s3Sink(s3, bucket, poolKey, config.synthesisKeyArn),
      working: s3Sink(s3, bucket, workingKey, config.synthesisKeyArn),
    },
    { method, alpha, seedPrompts },
  );
  const seconds = (Date.now() - started) / 1000;

  deps.logger?.info('gated', { runId, round, seconds, ...summary });
  deps.metrics?.addDimension('round', String(round));
  deps.metrics?.addMetric('Refined', MetricUnit.Count, summary.refined);
  deps.metrics?.addMetric('PoolAdded', MetricUnit.Count, summary.added);
  deps.metrics?.addMetric('PoolReplaced', MetricUnit.Count, summary.replaced);
  deps.metrics?.addMetric('PoolSize', MetricUnit.Count, summary.poolSize);
  return { ...summary, round, poolUri: s3Uri(bucket, poolKey), workingUri: s3Uri(bucket, workingKey) };
}

/** The environment reader, under the name every handler exports it by (local mode wires handlers with it). */
export const configFromEnv = selectionConfigFromEnv;

export const createHandler = flushingMetrics<GateDeps, GateOutput>(gateRun);

const s3 = createS3Client();
const { logger, metrics } = powertools('gate');

export const handler = wireOnFirstCall(() => createHandler({ s3, config: selectionConfigFromEnv(), logger, metrics }));
