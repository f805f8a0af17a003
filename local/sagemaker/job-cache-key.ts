/**
 * The key of the local job-result cache (docs/operations.md, local mode): what makes two
 * Create…Job requests the same job. Pure: the request with only its run-specific names
 * replaced, the content digest of every input as the job will see it, the job code's
 * version and the runtime. Everything else in the request is part of the key, so a field
 * nobody thought of makes a miss, never a wrong hit.
 */
import type { CreateProcessingJobRequest, CreateTrainingJobRequest } from '@aws-sdk/client-sagemaker';
import { createHash } from 'node:crypto';
import { jobNameRunPart } from '../../core/sagemaker/index.js';
import type { JobRequest } from './requests.js';

/** Bumped when the key's shape changes, so entries of an older shape are never matched. */
export const JOB_CACHE_KEY_VERSION = 1;

/** The tag the request builder puts on every job: the run it belongs to. */
const RUN_TAG = 'rewardds:run';

export interface JobCacheKeyParts {
  job: JobRequest;
  stage: string;
  /** Input (channel or processing input) name → digest of the files it delivered (treeDigest). */
  inputs: Record<string, string>;
  /** Digest of the job code (the rewardds_jobs sources). */
  code: string;
  /** What else decides a job's result on this machine: interpreter, installed packages, extra job environment. */
  runtime: Record<string, string>;
  /**
   * Names of this local stack's resources that change each time local mode starts it, →
   * a stable name: moto gives every KMS key a fresh id, the template's logical id names it.
   */
  stackNames?: Record<string, string>;
}

/** One file of an input or output tree: its `/`-separated path in the tree and the sha256 of its bytes. */
export interface TreeFile {
  path: string;
  sha256: string;
}

/** A tree's digest: its paths and their bytes' digests, independent of the order they were listed in. */
export function treeDigest(files: TreeFile[]): string {
  const lines = files.map((f) => `${f.sha256}  ${f.path}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** The run a request belongs to (its `rewardds:run` tag), if it says. */
export function runOf(request: CreateTrainingJobRequest | CreateProcessingJobRequest): string | undefined {
  const value = request.Tags?.find((t) => t.Key === RUN_TAG)?.Value;
  return value ? value : undefined;
}

/**
 * The request as the key sees it: its own job name dropped, and in every string the run id
 * (as a whole value or a path segment) and the run's part of job names (`-<8 hex>-a<n>`,
 * core/sagemaker) replaced by `<run>`. Nothing else is removed, so seed, ε, σ and steps —
 * which reach the job through its config input and the config hash in its environment —
 * stay in.
 */
export function canonicalRequest(job: JobRequest, runId: string, stackNames: Record<string, string> = {}): unknown {
  const {
    TrainingJobName: _t,
    ProcessingJobName: _p,
    ...rest
  } = job.request as CreateTrainingJobRequest & CreateProcessingJobRequest;
  const removeRun = runNameRemover(runId);
  // Longest first, so a name that contains another is replaced whole.
  const aliases = Object.entries(stackNames).sort(([a], [b]) => b.length - a.length);
  return mapStrings(rest, (text) =>
    removeRun(aliases.reduce((t, [name, stable]) => t.split(name).join(`<${stable}>`), text)),
  );
}

/** Replaces the run's names in one string (canonicalRequest); also how output locations are compared. */
export function runNameRemover(runId: string): (text: string) => string {
  const jobRunPart = new RegExp(`-${jobNameRunPart(runId)}-a(\\d+)`, 'g');
  const segment = `/${runId}/`;
  return (text) => (text === runId ? '<run>' : text.split(segment).join('/<run>/').replace(jobRunPart, '-<run>-a$1'));
}

/**
 * What the key is the digest of, or undefined when the request does not say which run it is
 * (never cached). Stored beside each entry, so a miss can be explained by comparing two.
 */
export function jobCacheMaterial(parts: JobCacheKeyParts): Record<string, unknown> | undefined {
  const runId = runOf(parts.job.request);
  if (!runId) return undefined;
  return {
    version: JOB_CACHE_KEY_VERSION,
    kind: parts.job.kind,
    stage: parts.stage,
    request: canonicalRequest(parts.job, runId, parts.stackNames),
    inputs: sortedObject(parts.inputs),
    code: parts.code,
    runtime: sortedObject(parts.runtime),
  };
}

/** The cache key of a job, or undefined when the request does not say which run it is (never cached). */
export function jobCacheKey(parts: JobCacheKeyParts): string | undefined {
  const material = jobCacheMaterial(parts);
  return material && keyOf(material);
}

export const keyOf = (material: Record<string, unknown>) =>
  createHash('sha256').update(stableJson(material)).digest('hex');

function mapStrings(value: unknown, f: (text: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

const sortedObject = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** JSON with object keys sorted at every level, so the key does not depend on the order a request was built in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
