/**
 * Prepare run Lambda: `{runId, upload}` → `$.run`. The work is in prepare.ts; this file
 * wires the environment, the S3 client and Powertools.
 */
import { z } from 'zod';
import { flushingMetrics, powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import { parseEvent, PrepareRunInputSchema, type RunState } from '../../core/contract/index.js';
import { parseRunConfig } from '../../core/config/index.js';
import { createS3Client } from '../shared/s3-objects.js';
import { prepareRun, type MetricsSink, type PrepareConfig, type PrepareDeps } from './prepare.js';

export { InputRejected } from './rejection.js';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PrepareConfig {
  const parsed = z
    .object({
      PRIVATE_BUCKET: z.string().min(1),
      SYNTHESIS_BUCKET: z.string().min(1),
      PRIVATE_KEY_ARN: z.string().min(1).optional(),
      SYNTHESIS_KEY_ARN: z.string().min(1).optional(),
      DEFAULT_RUN_CONFIG: z.string().optional(),
    })
    .parse(env);
  const defaults = parsed.DEFAULT_RUN_CONFIG ? (JSON.parse(parsed.DEFAULT_RUN_CONFIG) as Record<string, unknown>) : {};
  // A bad deployment default fails the cold start, naming the key, not every upload.
  parseRunConfig(defaults, 'DEFAULT_RUN_CONFIG');
  return {
    defaultRunConfig: defaults,
    privateBucket: parsed.PRIVATE_BUCKET,
    synthesisBucket: parsed.SYNTHESIS_BUCKET,
    privateKeyArn: parsed.PRIVATE_KEY_ARN,
    synthesisKeyArn: parsed.SYNTHESIS_KEY_ARN,
  };
}

export type PrepareRunHandlerDeps = PrepareDeps & { metrics?: MetricsSink & { publishStoredMetrics(): unknown } };

export const createHandler = flushingMetrics<PrepareRunHandlerDeps, RunState>((event, deps) =>
  prepareRun(parseEvent(PrepareRunInputSchema, event, 'prepare-run'), deps),
);

const s3 = createS3Client();
const { logger, metrics } = powertools('prepare-run');

export const handler = wireOnFirstCall(() => createHandler({ s3, config: configFromEnv(), logger, metrics }));
