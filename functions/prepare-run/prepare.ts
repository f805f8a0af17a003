/**
 * Prepare run (docs/design.md#prepare-run): validate and normalize the upload and its siblings,
 * resolve the run config, plan the privacy budget, and write what the jobs read. Every
 * refusal happens here, before any job, and quarantines the upload.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type RunState, type Upload, privateKeys, synthesisKeys, uploadLayout } from '../../core/contract/index.js';
import { InputError, toJsonlLine } from '../../core/jsonl/index.js';
import {
  type Canary,
  InfeasiblePlanError,
  insertedRecords,
  makeCanaries,
  planPrivacy,
  type PrivacyPlan,
} from '../../core/privacy/index.js';
import { ENV, parseRunConfig, resolveDelta, RunConfigError, type RunConfig } from '../../core/config/index.js';
import { deleteObject, getJson, listKeys, putJson, putText } from '../shared/s3-objects.js';
import { randomInt } from 'node:crypto';
import { computeIssues } from './compute-checks.js';
import { normalizeFile } from './input-files.js';
import { InputRejected, quarantine } from './rejection.js';

export interface PrepareConfig {
  /**
   * The deployment's defaults (DEFAULT_RUN_CONFIG): an upload's config.json is laid over
   * them key by key, and the run config's own defaults fill the rest.
   */
  defaultRunConfig?: Record<string, unknown>;
  privateBucket: string;
  synthesisBucket: string;
  privateKeyArn?: string;
  synthesisKeyArn?: string;
}

/** The part of Powertools Metrics used here (tests pass a recorder). */
export interface MetricsSink {
  addMetric(name: string, unit: 'Count' | 'None', value: number): unknown;
}

export interface PrepareDeps {
  s3: S3Client;
  config: PrepareConfig;
  logger?: Pick<Logger, 'info' | 'warn'>;
  metrics?: MetricsSink;
  now?: () => Date;
  /** A canary secret: 10 digits from a CSPRNG; tests may pass their own. */
  canarySecret?: () => string;
}

/** Ten uniform digits from the operating system's CSPRNG (randomInt draws without modulo bias). */
export const cryptoSecret = () => String(randomInt(0, 10_000_000_000)).padStart(10, '0');

/** The files of one upload: train is the trigger; the others sit beside it in the folder layout. */
export interface UploadFiles {
  train: string;
  config?: string;
  test?: string;
  seeds?: string;
}

export function uploadFiles(key: string): UploadFiles {
  const layout = uploadLayout(key);
  if (layout?.kind !== 'folder') return { train: key };
  return {
    train: key,
    config: `${layout.folder}config.json`,
    test: `${layout.folder}test.jsonl`,
    seeds: `${layout.folder}seeds.jsonl`,
  };
}

/** The resolved config of docs/state-contract.md: δ a number, M set. */
export function resolveConfig(config: RunConfig, records: number): RunConfig {
  return {
    ...config,
    privacy: { ...config.privacy, delta: resolveDelta(config.privacy.delta, records) },
    synthesis: { ...config.synthesis, queries: config.synthesis.queries ?? records },
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` wins key by key; nested objects merge, arrays and scalars replace. */
export function layConfig(under: Record<string, unknown>, over: unknown): unknown {
  if (!isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) {
    const base = out[key];
    out[key] = isPlainObject(base) && isPlainObject(value) ? layConfig(base, value) : value;
  }
  return out;
}

/**
 * Which of the side files exist, by one listing of the upload's folder: under a grant that
 * lists only a prefix, S3 answers a HEAD or GET of a missing key with 403, not 404.
 */
async function presentFiles(s3: S3Client, bucket: string, files: UploadFiles): Promise<Set<string>> {
  const present = new Set<string>([files.train]);
  const layout = uploadLayout(files.train);
  if (layout?.kind !== 'folder') return present;
  for await (const { key } of listKeys(s3, bucket, layout.folder)) present.add(key);
  return present;
}

async function readRunConfig(
  s3: S3Client,
  bucket: string,
  key: string | undefined,
  defaults: Record<string, unknown>,
): Promise<RunConfig> {
  if (!key) return parseRunConfig(defaults, ENV.defaultRunConfig);
  let value: unknown;
  try {
    value = await getJson(s3, bucket, key);
  } catch (error) {
    // JSON.parse quotes the text it failed on; say where, not what.
    if (error instanceof SyntaxError) throw new InputError(key, undefined, undefined, 'not valid JSON');
    throw error;
  }
  try {
    return parseRunConfig(layConfig(defaults, value), key);
  } catch (error) {
    if (!(error instanceof RunConfigError)) throw error;
    const fields = error.issues.map((i) => i.path || '(root)');
    const reasons = error.issues.map((i) => `${i.path || '(root)'}: ${i.message}`);
    throw new InputError(key, undefined, fields.join(', '), reasons.join('; '));
  }
}

function planFor(records: number, config: RunConfig, file: string): PrivacyPlan {
  try {
    return planPrivacy({ records, config });
  } catch (error) {
    if (error instanceof InfeasiblePlanError)
      throw new InputError(file, undefined, 'privacy', `infeasible privacy plan: ${error.message}`);
    throw error;
  }
}

interface Counts {
  /** Every training record, the inserted canaries included (they are records of the DP unit). */
  train: number;
  test: number;
  seeds: number;
  /** Canaries inserted into train (privacy.audit.canaries); a config value, so public. */
  canaries: number;
}

/** Outputs written so far, removed again if the run is refused (a refused run leaves no outputs). */
type Written = { bucket: string; key: string }[];

async function prepare(runId: string, upload: Upload, deps: PrepareDeps, written: Written): Promise<RunState> {
  const { s3, config: env } = deps;
  const bucket = upload.bucket;
  const files = uploadFiles(upload.key);
  const present = await presentFiles(s3, bucket, files);
  const has = (key: string | undefined) => key !== undefined && present.has(key);
  const runConfig = await readRunConfig(
    s3,
    bucket,
    has(files.config) ? files.config : undefined,
    env.defaultRunConfig ?? {},
  );

  const computeProblems = computeIssues(runConfig.compute);
  if (computeProblems.length > 0)
    throw new InputError(
      has(files.config) ? files.config! : files.train,
      undefined,
      computeProblems.map((i) => i.path).join(', '),
      computeProblems.map((i) => `${i.path}: ${i.message}`).join('; '),
    );

  const hasTest = has(files.test);
  const hasSeeds = has(files.seeds);
  const counts: Counts = { train: 0, test: 0, seeds: 0, canaries: 0 };

  // Small side files first, so a bad one is found before the long pass over train.
  const normalize = async (
    from: string,
    to: { bucket: string; key: string; kmsKeyId?: string },
    kind: 'records' | 'prompts',
    extra: Canary[] = [],
  ) => {
    const count = await normalizeFile(s3, { bucket, key: from }, to, kind, insertedRecords(extra));
    written.push(to);
    return count;
  };
  if (hasTest) {
    counts.test = await normalize(
      files.test!,
      { bucket: env.privateBucket, key: privateKeys.input(runId, 'test'), kmsKeyId: env.privateKeyArn },
      'records',
    );
  }
  if (hasSeeds) {
    // Public by the owner's declaration: they go to the synthesis zone for few-shot prompts.
    counts.seeds = await normalize(
      files.seeds!,
      { bucket: env.synthesisBucket, key: synthesisKeys.seeds(runId), kmsKeyId: env.synthesisKeyArn },
      'prompts',
    );
  }
  // The audit's canaries (docs/privacy.md): the inserted ones join train, all of them with their
  // secrets go to the private audit folder only. Nothing of them is logged.
  const k = runConfig.privacy.audit.canaries;
  const canaries = k > 0 ? makeCanaries(k, deps.canarySecret ?? cryptoSecret) : [];
  counts.train = await normalize(
    files.train,
    { bucket: env.privateBucket, key: privateKeys.input(runId, 'train'), kmsKeyId: env.privateKeyArn },
    'records',
    canaries,
  );
  if (k > 0) {
    const key = privateKeys.canaries(runId);
    await putText(
      s3,
      env.privateBucket,
      key,
      canaries.map(toJsonlLine).join(''),
      'application/x-ndjson',
      env.privateKeyArn,
    );
    written.push({ bucket: env.privateBucket, key });
    counts.canaries = k;
  }

  // The budget lives in config.json when there is one; otherwise the upload is what to change.
  const plan = planFor(counts.train, runConfig, has(files.config) ? files.config! : files.train);
  const resolved = resolveConfig(runConfig, counts.train);
  const run: RunState = {
    runId,
    records: counts.train,
    rounds: resolved.refinement.rounds,
    hasTest,
    hasSeeds,
    // A plain copy: the state schema keeps unknown plan keys, which an interface type does not admit.
    plan: { ...plan, generator: { ...plan.generator }, reward: { ...plan.reward } },
    config: resolved,
  };
  const preparedAt = (deps.now?.() ?? new Date()).toISOString();
  // Counts, config and plan only: nothing of a record crosses to the synthesis zone.
  const summary = { ...run, counts, preparedAt };
  await putJson(s3, env.synthesisBucket, synthesisKeys.runJson(runId), summary, env.synthesisKeyArn);
  // Written last in the private zone: its presence means the inputs above are complete.
  await putJson(s3, env.privateBucket, privateKeys.runJson(runId), { ...summary, upload }, env.privateKeyArn);

  deps.metrics?.addMetric('RecordsAccepted', 'Count', counts.train);
  deps.metrics?.addMetric('TestRecordsAccepted', 'Count', counts.test);
  deps.metrics?.addMetric('SeedPromptsAccepted', 'Count', counts.seeds);
  deps.metrics?.addMetric('PlannedEpsilon', 'None', plan.epsilon);
  deps.logger?.info('run prepared', { runId, counts, epsilon: plan.epsilon, delta: plan.delta });
  return run;
}

/** Runs Prepare run; bad input is quarantined and rethrown as InputRejected. */
export async function prepareRun(input: { runId: string; upload: Upload }, deps: PrepareDeps): Promise<RunState> {
  const written: Written = [];
  try {
    return await prepare(input.runId, input.upload, deps, written);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    for (const { bucket, key } of written) {
      // Best effort: the refusal below is what matters, a failed clean-up must not hide it.
      await deleteObject(deps.s3, bucket, key).catch((cleanup: Error) =>
        deps.logger?.warn('could not remove an output of the refused run', { bucket, key, error: cleanup.name }),
      );
    }
    const report = await quarantine(deps.s3, input.upload, error, {
      kmsKeyId: deps.config.privateKeyArn,
      now: deps.now?.() ?? new Date(),
    });
    deps.metrics?.addMetric('RecordsRefused', 'Count', error.line === undefined ? 0 : 1);
    deps.metrics?.addMetric('UploadsRejected', 'Count', 1);
    deps.logger?.warn('upload rejected and quarantined', {
      runId: input.runId,
      file: report.file,
      line: report.line,
      field: report.field,
      reason: report.reason,
    });
    throw new InputRejected(error);
  }
}
