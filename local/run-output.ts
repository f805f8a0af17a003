/**
 * What a finished local run leaves on disk: every object of the run from both buckets, its
 * quarantined upload and the job logs, copied to the run's output folder, and the private
 * reason of a failure read back from that copy.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { privateKeys } from '../core/contract/index.js';
import type { LocalSageMaker } from './sagemaker/index.js';
import { downloadPrefix } from './s3-folders.js';

/** Copies every object of the run (both buckets), its quarantined upload and the job logs to `outputDir`. */
export async function copyRun(
  s3: S3Client,
  roles: { private: string; synthesis: string },
  runId: string,
  uploadKey: string,
  outputDir: string,
  sm: LocalSageMaker,
) {
  rmSync(outputDir, { recursive: true, force: true });
  const runPrefix = `runs/${runId}/`;
  const copies: [string, string, string][] = [
    ['private', roles.private, runPrefix],
    ['synthesis', roles.synthesis, runPrefix],
    ['private', roles.private, privateKeys.quarantined(uploadKey)],
  ];
  for (const [zone, bucket, prefix] of copies) {
    await downloadPrefix(s3, bucket, prefix, join(outputDir, zone), (key) =>
      key.startsWith(runPrefix) ? key.slice(runPrefix.length) : key,
    );
  }
  for (const job of sm.list()) {
    if (!existsSync(job.logPath)) continue;
    mkdirSync(join(outputDir, 'logs'), { recursive: true });
    copyFileSync(job.logPath, join(outputDir, 'logs', `${job.name}.log`));
  }
}

/**
 * The raw reason of a private-zone failure. Only the vocabulary's phrase crosses into the
 * synthesis zone (core/contract/failure-reasons.ts); local mode runs for the data owner, who
 * may read the private zone, so it shows the reason from there: the failed job's private
 * record, or the upload's quarantine report.
 */
export function privateFailureDetail(
  outputDir: string,
  runId: string,
  state: string,
  uploadKey: string,
): string | undefined {
  const privateDir = join(outputDir, 'private');
  const jobsDir = join(privateDir, privateKeys.jobRecordsPrefix(runId).slice(`runs/${runId}/`.length));
  if (existsSync(jobsDir)) {
    for (const file of readdirSync(jobsDir).sort()) {
      const job = readJsonIfExists<{
        jobName?: string;
        state?: string;
        status?: string;
        failureReason?: string | null;
      }>(join(jobsDir, file));
      if (job?.state === state && job.status)
        return `${state}: ${job.jobName} ${job.status}: ${job.failureReason ?? ''}`;
    }
  }
  const report = readJsonIfExists<{ file?: string; line?: number | null; field?: string | null; reason?: string }>(
    join(privateDir, privateKeys.quarantineReport(uploadKey)),
  );
  if (report?.reason)
    return `${[report.file, report.line, report.field].filter((p) => p != null).join(':')}: ${report.reason}`;
  return undefined;
}

export function readJsonIfExists<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}
