/**
 * Release Lambda: `{runId, what, run, models?}` → `$.release` (models) or `$.evaluation`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { parseEvent, ReleaseInputSchema, type ReleaseEvaluationOutput, type ReleaseModelsOutput } from '../shared/events.js';
import { createS3Client } from '../shared/s3-objects.js';
import type { MetricsSink } from '../prepare-run/prepare.js';
import { releaseEvaluation, releaseModels, type ReleaseConfig, type ReleaseDeps } from './release.js';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ReleaseConfig {
  const parsed = z
    .object({
      PRIVATE_BUCKET: z.string().min(1),
      SYNTHESIS_BUCKET: z.string().min(1),
      SYNTHESIS_KEY_ARN: z.string().min(1).optional(),
    })
    .parse(env);
  return { privateBucket: parsed.PRIVATE_BUCKET, synthesisBucket: parsed.SYNTHESIS_BUCKET, synthesisKeyArn: parsed.SYNTHESIS_KEY_ARN };
}

export type ReleaseHandlerDeps = ReleaseDeps & { metrics?: MetricsSink & { publishStoredMetrics(): unknown } };
type ReleaseOutput = ReleaseModelsOutput | ReleaseEvaluationOutput;

export const createHandler =
  (deps: ReleaseHandlerDeps) =>
  async (event: unknown): Promise<ReleaseOutput> => {
    const input = parseEvent(ReleaseInputSchema, event, 'release');
    try {
      return input.what === 'models'
        ? await releaseModels(input.runId, input.run, input.models, deps)
        : await releaseEvaluation(input.runId, deps);
    } finally {
      deps.metrics?.publishStoredMetrics();
    }
  };

const s3 = createS3Client();
const logger = new Logger({ serviceName: 'rewardds-release' });
const metrics = new Metrics({ namespace: 'RewardDS', serviceName: 'release' });
let wired: ((event: unknown) => Promise<ReleaseOutput>) | undefined;

export const handler = (event: unknown) => {
  wired ??= createHandler({ s3, config: configFromEnv(), logger, metrics });
  return wired(event);
};

export { PrivacyBudgetExceeded, PrivacyCheckFailed } from './privacy-check.js';
export { EvaluationNotAggregate } from './evaluation.js';
