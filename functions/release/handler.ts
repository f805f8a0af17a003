/**
 * Release Lambda: `{runId, what, run, models?}` → `$.release` (models) or `$.evaluation`.
 */
import { z } from 'zod';
import { readEnv } from '../../core/config/index.js';
import { flushingMetrics, powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import {
  parseEvent,
  ReleaseInputSchema,
  type ReleaseAuditOutput,
  type ReleaseEvaluationOutput,
  type ReleaseModelsOutput,
} from '../../core/contract/index.js';
import { createS3Client } from '../shared/s3-objects.js';
import type { MetricsSink } from '../prepare-run/prepare.js';
import { releaseAudit, releaseEvaluation, releaseModels, type ReleaseConfig, type ReleaseDeps } from './release.js';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ReleaseConfig {
  return readEnv(env, {
    privateBucket: z.string().min(1),
    synthesisBucket: z.string().min(1),
    synthesisKeyArn: z.string().min(1).optional(),
  });
}

export type ReleaseHandlerDeps = ReleaseDeps & { metrics?: MetricsSink & { publishStoredMetrics(): unknown } };
type ReleaseOutput = ReleaseModelsOutput | ReleaseEvaluationOutput | ReleaseAuditOutput;

export const createHandler = flushingMetrics<ReleaseHandlerDeps, ReleaseOutput>(async (event, deps) => {
  const input = parseEvent(ReleaseInputSchema, event, 'release');
  if (input.what === 'models') return releaseModels(input.runId, input.run, input.models, deps);
  if (input.what === 'audit') return releaseAudit(input.runId, input.run, deps);
  return releaseEvaluation(input.runId, input.run, deps);
});

const s3 = createS3Client();
const { logger, metrics } = powertools('release');

export const handler = wireOnFirstCall(() => createHandler({ s3, config: configFromEnv(), logger, metrics }));

export { PrivacyBudgetExceeded, PrivacyCheckFailed } from './privacy-check.js';
export { EvaluationNotAggregate } from './evaluation.js';
export { AuditNotAggregate } from './audit.js';
