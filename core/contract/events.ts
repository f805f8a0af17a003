/**
 * What passes between the state machine and its Lambdas (docs/state-contract.md): one zod
 * schema per Lambda input and output, and the pieces of state they share. Every handler
 * parses its event with these, so a malformed event fails naming the field.
 *
 * Outputs are read by the state machine through a ResultSelector that lists each output
 * key (each step passes its output schema's keys to infra/pipeline/lambda-step.ts, which
 * builds the selector from them), so every key of an output schema must always be present:
 * an absent value is `null`, never a missing key.
 */
import { z } from 'zod';
import { RunConfigSchema } from '../config/index.js';

/** The ML stages, one `python -m rewardds_jobs <stage>` each (docs/job-contract.md). */
export const STAGES = [
  'train-generator',
  'build-pairs',
  'train-reward',
  'synthesize-queries',
  'sample-candidates',
  'score',
  'train-target',
  'refine',
  'evaluate',
  'audit-canaries',
] as const;
export const StageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof StageSchema>;

export const ZoneSchema = z.enum(['private', 'synthesis']);
export type Zone = z.infer<typeof ZoneSchema>;

export const JobKindSchema = z.enum(['training', 'processing']);
export type JobKind = z.infer<typeof JobKindSchema>;

/** Execution names allow 80 characters; the trigger builds `<name ≤ 40>-<8 hex>`. */
export const RunIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'must be lower-case [a-z0-9-], at most 80 characters');

export const S3UriSchema = z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}\/.*$/, 'must be an s3://bucket/key URI');

/** A round of the target fine-tuning: 0 is the first fine-tune, 1…R the refinement rounds. */
export const RoundSchema = z.int().min(0).max(64);

// ---------------------------------------------------------------------------------------
// Execution input and the shared state

export const UploadSchema = z.object({
  bucket: z.string().min(3),
  key: z.string().min(1),
  etag: z.string(),
});
export type Upload = z.infer<typeof UploadSchema>;

/** Written by the trigger Lambda as the execution input. */
export const ExecutionInputSchema = z.object({
  runId: RunIdSchema,
  upload: UploadSchema,
});
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

/**
 * The part of the privacy plan (core/privacy) the launcher reads: σ of each
 * DP training. The planner's full object travels unchanged (extra keys are kept).
 */
export const PlanNoiseSchema = z.looseObject({
  generator: z.looseObject({ noiseMultiplier: z.number().positive() }),
  reward: z.looseObject({ noiseMultiplier: z.number().positive() }),
});

/** `$.run`, written by Prepare run. `config` is the resolved run config: `synthesis.queries` set, `privacy.delta` a number. */
export const RunStateSchema = z.object({
  runId: RunIdSchema,
  records: z.int().min(1),
  rounds: z.int().min(0).max(8),
  hasTest: z.boolean(),
  hasSeeds: z.boolean(),
  plan: PlanNoiseSchema,
  config: RunConfigSchema,
});
export type RunState = z.infer<typeof RunStateSchema>;
export type RunStateInput = z.input<typeof RunStateSchema>;

/** `$.models`: the S3ModelArtifacts URI of each finished training job (private URIs for G and R). */
export const ModelsSchema = z.object({
  generator: S3UriSchema.optional(),
  reward: S3UriSchema.optional(),
  /** Index r holds round r's target adapter. */
  target: z.array(S3UriSchema).optional(),
});
export type Models = z.infer<typeof ModelsSchema>;

/** `$.job`: the job now running. `runId` and `round` let describe-job and record-failure work from it alone. */
export const JobRefSchema = z.object({
  jobName: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/),
  kind: JobKindSchema,
  stage: StageSchema,
  zone: ZoneSchema,
  runId: RunIdSchema,
  round: RoundSchema.nullable(),
});
export type JobRef = z.infer<typeof JobRefSchema>;

/** The error a Catch puts at `$.error`. */
export const CaughtErrorSchema = z.object({
  Error: z.string(),
  Cause: z.string().optional(),
});
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

// ---------------------------------------------------------------------------------------
// One input/output pair per Lambda

export const PrepareRunInputSchema = ExecutionInputSchema;
export type PrepareRunInput = ExecutionInput;
export const PrepareRunOutputSchema = RunStateSchema;
export type PrepareRunOutput = z.input<typeof PrepareRunOutputSchema>;

/** What every Lambda that works on a run is given: its id and `$.run`. */
const RunInputSchema = z.object({
  runId: RunIdSchema,
  run: RunStateSchema,
});

export const StartJobInputSchema = RunInputSchema.extend({
  stage: StageSchema,
  round: RoundSchema.optional(),
  models: ModelsSchema.default({}),
});
export type StartJobInput = z.input<typeof StartJobInputSchema>;
export const StartJobOutputSchema = JobRefSchema;
export type StartJobOutput = JobRef;

/** SageMaker's non-final statuses and Completed; Failed and Stopped are thrown as JobFailed. */
export const JobStatusSchema = z.enum(['InProgress', 'Stopping', 'Completed']);

export const DescribeJobInputSchema = z.object({
  job: JobRefSchema,
  /** The console name of the state that started the job; it prefixes a JobFailed message. */
  state: z.string().min(1),
  /** The models so far; a finished training job's artifact is added to them. */
  models: ModelsSchema.default({}),
});
export type DescribeJobInput = z.input<typeof DescribeJobInputSchema>;
export const DescribeJobOutputSchema = z.object({
  status: JobStatusSchema,
  failureReason: z.string().nullable(),
  /** Completed training jobs: ModelArtifacts.S3ModelArtifacts. */
  modelUri: S3UriSchema.nullable(),
  /** The input models with this job's model added (training jobs), for the state machine to keep at `$.models`. */
  models: ModelsSchema,
  /** Seconds the step's Wait state pauses before the next check (its SecondsPath); null once Completed. */
  waitSeconds: z.int().min(1).nullable(),
});
export type DescribeJobOutput = z.infer<typeof DescribeJobOutputSchema>;

export const ReleaseInputSchema = RunInputSchema.extend({
  what: z.enum(['models', 'evaluation', 'audit']),
  models: ModelsSchema.optional(),
});
export type ReleaseInput = z.input<typeof ReleaseInputSchema>;
/** `$.release` (what = models). */
export const ReleaseModelsOutputSchema = z.object({
  epsilon: z.number(),
  delta: z.number(),
  privacyUri: S3UriSchema,
});
export type ReleaseModelsOutput = z.infer<typeof ReleaseModelsOutputSchema>;
/** A release of metrics the synthesis zone may read: where they were written. */
const ReleasedMetricsSchema = z.object({
  metricsUri: S3UriSchema,
});
/** `$.evaluation` (what = evaluation). */
export const ReleaseEvaluationOutputSchema = ReleasedMetricsSchema;
export type ReleaseEvaluationOutput = z.infer<typeof ReleaseEvaluationOutputSchema>;
/** `$.audit` (what = audit): the canary audit's released aggregates. */
export const ReleaseAuditOutputSchema = ReleasedMetricsSchema;
export type ReleaseAuditOutput = z.infer<typeof ReleaseAuditOutputSchema>;

export const FilterInputSchema = RunInputSchema;
export type FilterInput = z.input<typeof FilterInputSchema>;

export const GateInputSchema = RunInputSchema.extend({
  round: RoundSchema.min(1),
});
export type GateInput = z.input<typeof GateInputSchema>;

/** `$.selection`: the state machine keeps these three keys; further keys may be returned and are dropped. */
export const SelectionOutputSchema = z.looseObject({
  poolSize: z.int().min(0),
  workingSize: z.int().min(0),
  /** The lowest reward in the pool (the next round's τ); null for an empty pool. */
  threshold: z.number().nullable(),
});
export type SelectionOutput = z.infer<typeof SelectionOutputSchema>;

export const ReportInputSchema = RunInputSchema.extend({
  release: ReleaseModelsOutputSchema,
});
export type ReportInput = z.input<typeof ReportInputSchema>;
export const ReportOutputSchema = z.object({
  reportUri: S3UriSchema,
  htmlUri: S3UriSchema,
});
export type ReportOutput = z.infer<typeof ReportOutputSchema>;

/**
 * The catch-all passes the whole state (`$`): only these keys are read, the rest is
 * ignored. `job` is absent when the failure came before the first job.
 */
export const RecordFailureInputSchema = z.object({
  runId: RunIdSchema,
  failedState: z.string().min(1),
  error: CaughtErrorSchema,
  job: JobRefSchema.optional(),
});
export type RecordFailureInput = z.input<typeof RecordFailureInputSchema>;
/** `$.failure`: the Fail state's ErrorPath and CausePath. */
export const RecordFailureOutputSchema = z.object({
  error: z.string(),
  cause: z.string(),
});
export type RecordFailureOutput = z.infer<typeof RecordFailureOutputSchema>;

/**
 * The timing record describe-job writes: a synthesis-zone job's to synthesisKeys.jobRecord
 * (for the report), a private-zone job's to privateKeys.jobRecord (never crosses).
 */
export const JobRecordSchema = z.object({
  jobName: z.string(),
  stage: StageSchema,
  round: RoundSchema.nullable(),
  state: z.string(),
  zone: ZoneSchema,
  kind: JobKindSchema,
  start: z.string().nullable(),
  end: z.string().nullable(),
  billableSeconds: z.number().nullable(),
  instanceType: z.string().nullable(),
  instanceCount: z.int().nullable(),
  spot: z.boolean(),
  /** A failed or stopped job's raw reason; written for private-zone jobs, in the private bucket only. */
  status: z.string().optional(),
  failureReason: z.string().nullable().optional(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** Names a zod failure by field path, never by value (a value may come from a private record). */
export function parseEvent<T extends z.ZodType>(schema: T, event: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  const error = new Error(`${what}: invalid input: ${fields}`);
  error.name = 'InvalidEvent';
  throw error;
}
