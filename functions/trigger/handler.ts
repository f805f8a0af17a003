/**
 * Trigger: an S3 "Object Created" event from EventBridge starts one execution per
 * uploaded object. The execution name is derived from the key and ETag, so EventBridge's
 * at-least-once delivery (or a replay) finds the run already there and starts nothing.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { readEnv } from '../../core/config/index.js';
import { powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import { bareEtag, runName, uploadLayout } from '../../core/contract/index.js';

/** The fields of S3's EventBridge event that the trigger reads; the rest may vary. */
export const ObjectCreatedEventSchema = z.object({
  'detail-type': z.literal('Object Created'),
  source: z.literal('aws.s3'),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({ key: z.string().min(1), etag: z.string().min(1), size: z.number().optional() }),
  }),
});
export type ObjectCreatedEvent = z.infer<typeof ObjectCreatedEventSchema>;

export interface TriggerConfig {
  privateBucket: string;
  stateMachineArn: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): TriggerConfig {
  return readEnv(env, { privateBucket: z.string().min(1), stateMachineArn: z.string().min(1) });
}

export interface TriggerDeps {
  sfn: Pick<SFNClient, 'send'>;
  config: TriggerConfig;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export type TriggerResult =
  | { started: true; runId: string; executionArn: string }
  | { started: false; runId: string; reason: 'already started' }
  | { started: false; reason: 'ignored'; key: string };

/** Names the wrong field of an event that is not S3's Object Created. */
function parseEvent(event: unknown): ObjectCreatedEvent {
  const result = ObjectCreatedEventSchema.safeParse(event);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  throw new Error(`trigger: not an S3 Object Created event: ${issues.join('; ')}`);
}

export async function startRun(event: unknown, deps: TriggerDeps): Promise<TriggerResult> {
  const { detail } = parseEvent(event);
  const { key } = detail.object;
  const bucket = detail.bucket.name;
  if (bucket !== deps.config.privateBucket || !uploadLayout(key)) {
    deps.logger?.info('ignored: not a dataset upload under incoming/', { bucket, key });
    return { started: false, reason: 'ignored', key };
  }
  const etag = bareEtag(detail.object.etag);
  const runId = runName(key, etag);
  const input = { runId, upload: { bucket, key, etag } };
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.config.stateMachineArn,
        name: runId,
        input: JSON.stringify(input),
      }),
    );
    deps.logger?.info('run started', { runId, key, executionArn: out.executionArn });
    return { started: true, runId, executionArn: out.executionArn! };
  } catch (error) {
    // Same name means same key and ETag: this object already has its run.
    if (error instanceof ExecutionAlreadyExists || (error as { name?: string }).name === 'ExecutionAlreadyExists') {
      deps.logger?.info('run already started for this object; nothing to do', { runId, key });
      return { started: false, runId, reason: 'already started' };
    }
    throw error;
  }
}

export const createHandler = (deps: TriggerDeps) => (event: unknown) => startRun(event, deps);

const sfn = new SFNClient({});
const { logger } = powertools('trigger');

export const handler = wireOnFirstCall(() => createHandler({ sfn, config: configFromEnv(), logger }));
