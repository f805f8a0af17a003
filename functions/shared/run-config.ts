/**
 * The per-run configuration (DESIGN §9): one JSON document, every key optional.
 * Unknown keys and out-of-range values are refused with the dotted path of the key,
 * so a user can fix the file without reading this source.
 */
import { z } from 'zod';

/** The number of capturing groups of `pattern`, or -1 when it does not compile. */
function captureGroups(pattern: string): number {
  try {
    // Matching the empty alternative always succeeds and yields one slot per group.
    return (new RegExp(`${pattern}|`).exec('') as RegExpExecArray).length - 1;
  } catch {
    return -1;
  }
}

const s3Uri = z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}\/.+/, 'must be an s3://bucket/key URI');

const lora = z
  .strictObject({
    r: z.int().min(1).max(256).default(16),
    alpha: z.number().positive().max(1024).default(32),
    dropout: z.number().min(0).max(0.9).default(0.05),
  })
  .prefault({});

/** Shared by the two DP proxies: the generation proxy G and the reward proxy R. */
const proxyModel = z
  .strictObject({
    baseModel: s3Uri.optional(),
    epochs: z.int().min(1).max(100).default(3),
    batchSize: z.int().min(1).max(65_536).default(64),
    /** LoRA under DP-SGD wants a larger step than full fine-tuning (docs/architecture.md, "Choices"). */
    learningRate: z.number().positive().max(1).default(5e-4),
    lora,
    maxLength: z.int().min(16).max(32_768).default(1024),
  })
  .prefault({});

export const RunConfigSchema = z.strictObject({
  /** Seeds every sampler and every job, so a rerun on the same data repeats itself. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  privacy: z
    .strictObject({
      /** Total ε for everything that leaves the private zone: both DP models together. */
      epsilon: z.number().positive().max(100).default(8),
      /** A number, or "auto" = min(1e-5, 1/(10·N)). */
      delta: z.union([z.literal('auto'), z.number().gt(0).lt(1)]).default('auto'),
      clipNorm: z.number().positive().max(1000).default(1.0),
      /** The generation proxy's share: the two proxies' own ε stand in ratio split : (1 − split) (docs/privacy.md). */
      split: z.number().gt(0).lt(1).default(0.5),
    })
    .prefault({}),
  generator: proxyModel,
  reward: proxyModel,
  synthesis: z
    .strictObject({
      /** M, the number of synthetic queries; default N, the private record count. */
      queries: z.int().min(1).max(10_000_000).optional(),
      candidates: z.int().min(2).max(64).default(6),
      temperature: z.number().gt(0).max(5).default(1.0),
      topP: z.number().gt(0).max(1).default(0.7),
      maxNewTokens: z.int().min(1).max(8192).default(512),
      /** Public seed prompts shown to G per query when a seeds file is given. */
      fewShot: z.int().min(0).max(8).default(2),
      /** Sampling attempts allowed per requested query before giving up on uniqueness. */
      attemptsPerQuery: z.number().min(1).max(100).default(4),
    })
    .prefault({}),
  filter: z
    .strictObject({
      method: z.enum(['reward', 'ppl', 'none', 'rouge-l']).default('reward'),
      alpha: z.number().min(0).max(1).default(0.5),
      keepFraction: z
        .number()
        .gt(0)
        .max(1)
        .default(1 / 8),
    })
    .prefault({}),
  refinement: z
    .strictObject({
      rounds: z.int().min(0).max(8).default(2),
      critiqueMaxNewTokens: z.int().min(1).max(4096).default(256),
    })
    .prefault({}),
  target: z
    .strictObject({
      baseModel: s3Uri.optional(),
      epochs: z.int().min(1).max(100).default(3),
      batchSize: z.int().min(1).max(4096).default(16),
      learningRate: z.number().positive().max(1).default(2e-4),
      lora,
      maxLength: z.int().min(16).max(32_768).default(2048),
    })
    .prefault({}),
  evaluation: z
    .strictObject({
      metrics: z
        .array(z.enum(['rougeL', 'bleu', 'exactMatch']))
        .min(1)
        .default(['rougeL', 'bleu', 'exactMatch']),
      maxNewTokens: z.int().min(1).max(8192).default(512),
      /**
       * A regular expression with one capturing group that extracts the checkable part of an
       * answer (a code, a dose, a date); when given, evaluation adds answerAccuracy. The job
       * compiles it with Python's `re`, which checks it again.
       */
      answerPattern: z
        .string()
        .min(1)
        .max(500)
        .refine(
          (pattern) => captureGroups(pattern) === 1,
          'must be a regular expression with exactly one capturing group',
        )
        .optional(),
    })
    .prefault({}),
  compute: z
    .strictObject({
      instanceTypes: z
        .strictObject({
          proxyTraining: z.string().default('ml.g5.2xlarge'),
          targetTraining: z.string().default('ml.g5.12xlarge'),
          generation: z.string().default('ml.g5.2xlarge'),
          evaluation: z.string().default('ml.g5.12xlarge'),
        })
        .prefault({}),
      spot: z.boolean().default(false),
      warmPoolSeconds: z.int().min(0).max(3600).default(0),
      /** Per job, in seconds; SageMaker stops a job that runs longer. */
      maxRuntime: z
        .int()
        .min(60)
        .max(28 * 24 * 3600)
        .default(24 * 3600),
    })
    .prefault({}),
});

export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type RunConfig = z.output<typeof RunConfigSchema>;

export class RunConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`${source}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'RunConfigError';
  }
}

/** Parses and defaults a run config; `source` names the file in error messages. */
export function parseRunConfig(value: unknown, source = 'run config'): RunConfig {
  const result = RunConfigSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new RunConfigError(
    source,
    result.error.issues.map((issue) => {
      // zod reports unknown keys on the parent object; name each one in full.
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return {
          path: issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', '),
          message: 'unknown key',
        };
      }
      return { path, message: issue.message };
    }),
  );
}

/** DESIGN §9: δ auto = min(1e-5, 1/(10·N)). */
export function resolveDelta(delta: RunConfig['privacy']['delta'], records: number): number {
  return delta === 'auto' ? Math.min(1e-5, 1 / (10 * records)) : delta;
}
