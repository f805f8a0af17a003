/**
 * What may leave the private zone from the evaluation: aggregate numbers per model, and
 * nothing else. The schema is strict so a stray field (a sample answer, a reference) is
 * refused rather than copied.
 */
import { z } from 'zod';

const score = (max: number) => z.number().min(0).max(max).optional();

export const EvalMetricsSchema = z.strictObject({
  rows: z
    .array(
      z.strictObject({
        model: z.string().regex(/^(base|round-\d{1,2})$/, 'must be "base" or "round-<r>"'),
        n: z.int().min(0),
        rougeL: score(1),
        /** sacrebleu's corpus BLEU, 0–100. */
        bleu: score(100),
        exactMatch: score(1),
      }),
    )
    .max(100),
  /** The job's own bookkeeping (its name and wall time): accepted here, never released (release.ts). */
  stage: z.literal('evaluate').optional(),
  seconds: z.number().min(0).optional(),
});
export type EvalMetrics = z.infer<typeof EvalMetricsSchema>;

export class EvaluationNotAggregate extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationNotAggregate';
  }
}

/** Names the offending field by path only; the values stay unquoted. */
export function checkEvaluation(value: unknown, file: string): EvalMetrics {
  const result = EvalMetricsSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const path = i.path.join('.') || '(root)';
    return i.code === 'unrecognized_keys'
      ? `${path}: unexpected field(s) ${i.keys.join(', ')}`
      : `${path}: ${i.message}`;
  });
  throw new EvaluationNotAggregate(`${file}: not aggregate metrics only: ${issues.join('; ')}`);
}
