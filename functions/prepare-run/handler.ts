/**
 * Prepare run Lambda: `{runId, upload}` → `$.run`. The work is in prepare.ts; this file
 * wires the environment, the S3 client and Powertools.
 */
import { z } from 'zod';
import { flushingMetrics, powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import { parseEvent, PrepareRunInputSchema, type RunState } from '../../core/contract/index.js';
import { ENV, parseRunConfig, readEnv } from '../../core/config/index.js';
import { createS3Client } from '../shared/s3-objects.js';
import { prepareRun, type MetricsSink, type PrepareConfig, type PrepareDeps } from './prepare.js';

export { InputRejected } from './rejection.js';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PrepareConfig {
  const { defaultRunConfig, ...rest } = readEnv(env, {
    privateBucket: z.string().min(1),
    synthesisBucket: z.string().min(1),
    privateKeyArn: z.string().min(1).optional(),
    synthesisKeyArn: z.string().min(1).optional(),
    defaultRunConfig: z.string().optional(),
  });
  const defaults = defaultRunConfig ? (JSON.parse(defaultRunConfig) as Record<string, unknown>) : {};
  // A bad deployment default fails the cold start, naming the key, not every upload.
  parseRunConfig(defaults, ENV.defaultRunConfig);
  return { defaultRunConfig: defaults, ...rest };
}

export type PrepareRunHandlerDeps = PrepareDeps & { metrics?: MetricsSink & { publishStoredMetrics(): unknown } };

export const createHandler = flushingMetrics<PrepareRunHandlerDeps, RunState>((event, deps) =>
  prepareRun(parseEvent(PrepareRunInputSchema, event, 'prepare-run'), deps),
);

const s3 = createS3Client();
const { logger, metrics } = powertools('prepare-run');

export const handler = wireOnFirstCall(() => createHandler({ s3, config: configFromEnv(), logger, metrics }));
