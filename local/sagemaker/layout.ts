/**
 * A job's container layout on this machine: SageMaker's /opt/ml/… moved under
 * `<workdir>/jobs/<jobName>/` (docs/job-contract.md), and the files SageMaker itself reads
 * or writes there (hyperparameters.json, the failure file).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface JobLayout {
  root: string;
  input: string;
  model: string;
  output: string;
  outputData: string;
  processing: string;
}

/** /opt/ml/… of one job, moved under its folder. */
export function jobLayout(dir: string): JobLayout {
  return {
    root: dir,
    input: join(dir, 'input'),
    model: join(dir, 'model'),
    output: join(dir, 'output'),
    outputData: join(dir, 'output', 'data'),
    processing: join(dir, 'processing'),
  };
}

/** The SM_* variables that point a job at its moved layout. */
export function layoutEnv(layout: JobLayout): Record<string, string> {
  return {
    SM_INPUT_DIR: layout.input,
    SM_MODEL_DIR: layout.model,
    SM_OUTPUT_DIR: layout.output,
    SM_OUTPUT_DATA_DIR: layout.outputData,
    SM_PROCESSING_DIR: layout.processing,
  };
}

/** A container path of the request (`/opt/ml/processing/input/x`) → its place in the job folder. */
export function mapContainerPath(containerPath: string, layout: JobLayout): string {
  const normalized = containerPath.replace(/\/+$/, '');
  if (normalized === '/opt/ml' || normalized.startsWith('/opt/ml/'))
    return join(layout.root, normalized.slice('/opt/ml'.length));
  return join(layout.root, 'fs', normalized);
}

/**
 * Where an object of an S3Prefix input lands inside the channel folder: below the prefix
 * when the prefix names a folder (with or without its trailing slash), else below the
 * prefix's parent, so `…/input/train.jsonl` arrives as `train.jsonl`.
 */
export function channelRelativePath(prefix: string, key: string): string {
  if (prefix !== '' && !prefix.endsWith('/') && key.startsWith(`${prefix}/`)) return key.slice(prefix.length + 1);
  return key.slice(prefix.lastIndexOf('/') + 1);
}

/** The first line of the job's failure file (SageMaker's FailureReason), if it wrote one. */
export function readFailureFile(outputDir: string): string | undefined {
  const path = join(outputDir, 'failure');
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').split('\n')[0]?.trim();
  return text ? text.slice(0, 1024) : undefined;
}

export function writeJsonFile(path: string, value: unknown) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}
