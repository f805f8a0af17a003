/** The run's public seed prompts for the selection Lambdas (filter and gate). */
import type { S3Client } from '@aws-sdk/client-s3';
import { type RunState, synthesisKeys } from '../../../core/contract/index.js';
import { readSeedPrompts } from '../../../core/selection/index.js';
import { s3Source } from './s3-io.js';

/** Prepare run wrote them to the synthesis bucket; only the rouge-l method reads them. */
export async function seedPromptsFor(
  s3: S3Client,
  bucket: string,
  runId: string,
  run: Pick<RunState, 'hasSeeds' | 'config'>,
): Promise<string[] | undefined> {
  if (run.config.filter.method !== 'rouge-l' || !run.hasSeeds) return undefined;
  return readSeedPrompts(s3Source(s3, bucket, synthesisKeys.seeds(runId)));
}
