/**
 * The per-run configuration (docs/design.md#run-config): one JSON document, every key optional.
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
    r: z.int().min(1).max(256).default(16).describe('LoRA rank'),
    alpha: z.number().positive().max(1024).default(32).describe('LoRA scaling α'),
    dropout: z.number().min(0).max(0.9).default(0.05).describe('LoRA dropout'),
  })
  .prefault({});

/** Shared by the two DP proxies: the generation proxy G and the reward proxy R. */
const proxyFields = {
  baseModel: s3Uri.optional().describe('the base model, an s3:// URI'),
  epochs: z.int().min(1).max(100).default(3).describe('passes over the private records'),
  batchSize: z.int().min(1).max(65_536).default(64).describe('expected batch size (Poisson sampling)'),
  /** LoRA under DP-SGD wants a larger step than full fine-tuning (docs/architecture.md, "Choices"). */
  learningRate: z.number().positive().max(1).default(5e-4).describe('learning rate'),
  lora,
  maxLength: z.int().min(16).max(32_768).default(1024).describe('tokens per training sequence'),
};
const proxyModel = z.strictObject(proxyFields).prefault({});

/** G also learns the questions when asked to: pre-query synthesis samples them from what G learnt (docs/design.md). */
const generatorModel = z
  .strictObject({
    ...proxyFields,
    lossOn: z
      .enum(['response', 'prompt-and-response'])
      .default('response')
      .describe(
        "tokens G's DP training learns: `response` (answers only) or `prompt-and-response` (the questions too, which `pre-query` synthesis needs)",
      ),
  })
  .prefault({});

export const RunConfigSchema = z.strictObject({
  /** Seeds every sampler and every job, so a rerun on the same data repeats itself. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0)
    .describe('seeds every sampler and job'),
  privacy: z
    .strictObject({
      /** Total ε for everything that leaves the private zone: both DP models together. */
      epsilon: z.number().positive().max(100).default(8).describe('total ε for both DP models together'),
      /** A number, or "auto" = min(1e-5, 1/(10·N)). */
      delta: z
        .union([z.literal('auto'), z.number().gt(0).lt(1)])
        .default('auto')
        .describe('δ for both DP models together; "auto" = min(1e-5, 1/(10·N))'),
      clipNorm: z.number().positive().max(1000).default(1.0).describe('per-record clipping norm C'),
      /** The generation proxy's share: the two proxies' own ε stand in ratio split : (1 − split) (docs/privacy.md). */
      split: z.number().gt(0).lt(1).default(0.5).describe('share of the budget for the generation proxy'),
      /** How ε is computed and σ planned (docs/privacy.md): privacy loss distribution or Rényi DP. */
      accountant: z
        .enum(['rdp', 'pld'])
        .default('pld')
        .describe('privacy accountant that plans σ and checks the budget: `pld` (tighter) or `rdp`'),
      /** The empirical audit with canaries (docs/privacy.md, "Empirical audit with canaries"). */
      audit: z
        .strictObject({
          canaries: z
            .int()
            .min(0)
            .max(1000)
            .default(0)
            .describe(
              'canary records with random secrets inserted into the training set and audited after training (0 = off); they count in N',
            ),
        })
        .prefault({}),
    })
    .prefault({}),
  generator: generatorModel,
  reward: proxyModel,
  synthesis: z
    .strictObject({
      /** M, the number of synthetic queries; default N, the private record count. */
      queries: z
        .int()
        .min(1)
        .max(10_000_000)
        .optional()
        .describe('synthetic queries M; default N, the private record count'),
      candidates: z.int().min(2).max(64).default(6).describe('candidates per query'),
      temperature: z.number().gt(0).max(5).default(1.0).describe('sampling temperature'),
      topP: z.number().gt(0).max(1).default(0.7).describe('nucleus sampling: top-p'),
      maxNewTokens: z.int().min(1).max(8192).default(512).describe('tokens per generated text'),
      /** Public seed prompts shown to G per query when a seeds file is given. */
      fewShot: z.int().min(0).max(8).default(2).describe('public seeds shown per query'),
      /** Sampling attempts allowed per requested query before giving up on uniqueness. */
      attemptsPerQuery: z.number().min(1).max(100).default(4).describe('sampling attempts allowed per unique query'),
      /** How G is asked for a query (docs/design.md#synthesize-queries). */
      queryPrompt: z
        .enum(['instruction', 'pre-query'])
        .default('instruction')
        .describe(
          '`instruction` (few-shot from the seeds) or `pre-query` (G continues the start of a user turn: for a model that cannot follow instructions)',
        ),
    })
    .prefault({}),
  filter: z
    .strictObject({
      method: z
        .enum(['reward', 'ppl', 'none', 'rouge-l'])
        .default('reward')
        .describe('`reward` (the method) or a baseline on the same data (docs/selection.md)'),
      alpha: z.number().min(0).max(1).default(0.5).describe('reward weight in the fused rank'),
      keepFraction: z
        .number()
        .gt(0)
        .max(1)
        .default(1 / 8)
        .describe('pool size ⌊M·f⌋'),
    })
    .prefault({}),
  refinement: z
    .strictObject({
      rounds: z.int().min(0).max(8).default(2).describe('self-optimizing refinement rounds'),
      critiqueMaxNewTokens: z.int().min(1).max(4096).default(256).describe("tokens of the proxy's critique"),
    })
    .prefault({}),
  target: z
    .strictObject({
      baseModel: s3Uri.optional().describe('the base model, an s3:// URI'),
      epochs: z.int().min(1).max(100).default(3).describe('passes over the selected synthetic set'),
      batchSize: z.int().min(1).max(4096).default(16).describe('examples per optimizer step (the effective batch)'),
      microBatchSize: z
        .int()
        .min(1)
        .max(4096)
        .default(4)
        .describe('examples per forward/backward pass; gradients accumulate up to batchSize'),
      gradientCheckpointing: z
        .boolean()
        .default(true)
        .describe('recompute activations in the backward pass to save GPU memory'),
      learningRate: z.number().positive().max(1).default(2e-4).describe('learning rate'),
      lora,
      maxLength: z.int().min(16).max(32_768).default(2048).describe('tokens per training sequence'),
    })
    .prefault({}),
  evaluation: z
    .strictObject({
      metrics: z
        .array(z.enum(['rougeL', 'bleu', 'exactMatch']))
        .min(1)
        .default(['rougeL', 'bleu', 'exactMatch'])
        .describe('on the optional test set'),
      maxNewTokens: z.int().min(1).max(8192).default(512).describe('tokens per answer of the target model'),
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
        .optional()
        .describe('regex with one group extracting the checkable answer; adds answerAccuracy'),
      /** Aggregates over fewer test records say too much about each one (docs/privacy.md). */
      minTestRecords: z
        .int()
        .min(1)
        .max(1_000_000)
        .default(50)
        .describe('below this many test records the evaluation aggregates are not released'),
      /** Optional DP for the evaluation aggregates; its ε is reserved from privacy.epsilon (docs/privacy.md). */
      noise: z
        .strictObject({
          mechanism: z
            .enum(['off', 'laplace', 'gaussian'])
            .default('off')
            .describe('noise on the released evaluation means: `off` (exact, not DP), `laplace` or `gaussian`'),
          epsilon: z
            .number()
            .positive()
            .max(10)
            .default(0.5)
            .describe('ε of the noised evaluation means, reserved from privacy.epsilon'),
        })
        .prefault({}),
    })
    .prefault({}),
  compute: z
    .strictObject({
      instanceTypes: z
        .strictObject({
          proxyTraining: z
            .string()
            .default('ml.g5.2xlarge')
            .describe('instance type of train-generator and train-reward (a SageMaker training type)'),
          targetTraining: z
            .string()
            .default('ml.g5.12xlarge')
            .describe('instance type of train-target (a SageMaker training type)'),
          generation: z
            .string()
            .default('ml.g5.2xlarge')
            .describe(
              'instance type of build-pairs, synthesize-queries, sample-candidates, score, refine, audit-canaries (a processing type)',
            ),
          evaluation: z.string().default('ml.g5.12xlarge').describe('instance type of evaluate (a processing type)'),
        })
        .prefault({}),
      spot: z.boolean().default(false).describe('managed spot training'),
      warmPoolSeconds: z.int().min(0).max(3600).default(0).describe('SageMaker warm pool keep-alive, in seconds'),
      /** Per job, in seconds; SageMaker stops a job that runs longer. */
      maxRuntime: z
        .int()
        .min(60)
        .max(28 * 24 * 3600)
        .default(24 * 3600)
        .describe('per job, in seconds; SageMaker stops a job that runs longer (processing jobs at most 777,600)'),
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

/** docs/privacy.md#the-planner-from-a-budget-to-noise: δ auto = min(1e-5, 1/(10·N)). */
export function resolveDelta(delta: RunConfig['privacy']['delta'], records: number): number {
  return delta === 'auto' ? Math.min(1e-5, 1 / (10 * records)) : delta;
}
