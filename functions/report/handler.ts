/**
 * Write report Lambda: `{runId, run, release}` → `{reportUri, htmlUri}`. Reads the
 * synthesis bucket only (it is given no other), writes report.json and report.html there.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readEnv } from '../../core/config/index.js';
import { powertools, wireOnFirstCall } from '../shared/lambda-wiring.js';
import { parseEvent, ReportInputSchema, type ReportOutput, s3Uri, synthesisKeys } from '../../core/contract/index.js';
import { renderReportHtml } from './report-html.js';
import { createS3Client, putJson, putText } from '../shared/s3-objects.js';
import { collectReport } from './collect.js';

export interface ReportConfig {
  synthesisBucket: string;
  synthesisKeyArn?: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ReportConfig {
  return readEnv(env, { synthesisBucket: z.string().min(1), synthesisKeyArn: z.string().min(1).optional() });
}

export interface ReportDeps {
  s3: S3Client;
  config: ReportConfig;
  logger?: Pick<Logger, 'info' | 'warn'>;
  now?: () => Date;
}

export async function writeReport(event: unknown, deps: ReportDeps): Promise<ReportOutput> {
  const { runId, run } = parseEvent(ReportInputSchema, event, 'report');
  const { synthesisBucket: bucket, synthesisKeyArn } = deps.config;
  const report = await collectReport(runId, run, {
    s3: deps.s3,
    synthesisBucket: bucket,
    logger: deps.logger,
    now: deps.now,
  });
  const jsonKey = synthesisKeys.report(runId);
  const htmlKey = synthesisKeys.reportHtml(runId);
  await putJson(deps.s3, bucket, jsonKey, report, synthesisKeyArn);
  await putText(deps.s3, bucket, htmlKey, renderReportHtml(report), 'text/html; charset=utf-8', synthesisKeyArn);
  deps.logger?.info('report written', { runId, jobs: report.jobs.length, estimatedUsd: report.cost.estimatedUsd });
  return { reportUri: s3Uri(bucket, jsonKey), htmlUri: s3Uri(bucket, htmlKey) };
}

export const createHandler = (deps: ReportDeps) => (event: unknown) => writeReport(event, deps);

const s3 = createS3Client();
const { logger } = powertools('report');

export const handler = wireOnFirstCall(() => createHandler({ s3, config: configFromEnv(), logger }));
