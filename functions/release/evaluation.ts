/**
 * What may leave the private zone from the evaluation: aggregate numbers per model, and
 * nothing else. The schema is strict so a stray field (a sample answer, a reference) is
 * refused rather than copied.
 */
import { z } from 'zod';
import {
  evaluationNoiseScale,
  gaussianVariate,
  laplaceVariate,
  NOISABLE_METRICS,
  type EvaluationNoiseMechanism,
  type EvaluationReservation,
} from '../../core/privacy/index.js';
import { fieldIssues } from './field-issues.js';
import { namedError } from '../../core/contract/index.js';

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
        /** Share of test answers whose `answerPattern` match equals the reference's. */
        answerAccuracy: score(1),
        /** How many test references had a checkable answer (the others are left out). */
        answerN: z.int().min(0).optional(),
      }),
    )
    .max(100),
  /** The job's own bookkeeping (its name and wall time): accepted here, never released (release.ts). */
  stage: z.literal('evaluate').optional(),
  seconds: z.number().min(0).optional(),
});
export type EvalMetrics = z.infer<typeof EvalMetricsSchema>;

export class EvaluationNotAggregate extends namedError('EvaluationNotAggregate') {}

/** Names the offending field by path only; the values stay unquoted. */
export function checkEvaluation(value: unknown, file: string): EvalMetrics {
  const result = EvalMetricsSchema.safeParse(value);
  if (result.success) return result.data;
  throw new EvaluationNotAggregate(`${file}: not aggregate metrics only: ${fieldIssues(result.error)}`);
}

/** What crosses: the rows, or why there are none, and the noise when the means carry some. */
export interface ReleasedEvaluation {
  rows: EvalMetrics['rows'];
  /** Why no aggregate was released (too few test records). */
  withheld?: string;
  /** The noise the means carry (docs/privacy.md, "The evaluation"). */
  noise?: {
    mechanism: EvaluationNoiseMechanism;
    epsilon: number;
    delta: number;
    /** Laplace scale b or Gaussian σ of each mean's noise. */
    scale: number;
    /** Metrics dropped because no per-record sensitivity bounds them. */
    withheldMetrics: string[];
  };
}

/**
 * Applies the release rules to checked metrics: nothing below `minTestRecords`; with a
 * reserved evaluation, each mean of per-record scores gets its noise (drawn from `uniform`,
 * values in (0, 1)) and is clamped to [0, 1]; BLEU is dropped, having no such sensitivity.
 */
export function evaluationToRelease(
  metrics: EvalMetrics,
  rules: { minTestRecords: number; reservation?: EvaluationReservation },
  uniform: () => number,
): ReleasedEvaluation {
  const { rows } = metrics;
  if (rows.length === 0) return { rows };
  const n = Math.min(...rows.map((r) => r.n));
  if (n < rules.minTestRecords) {
    return {
      rows: [],
      withheld:
        `the test set has ${n} records, fewer than evaluation.minTestRecords = ${rules.minTestRecords}: ` +
        'aggregates over so few records say too much about each one, so none is released',
    };
  }
  const { reservation } = rules;
  if (!reservation) return { rows };
  const count = rows.reduce((sum, r) => sum + NOISABLE_METRICS.filter((m) => r[m] !== undefined).length, 0);
  const scale = count > 0 ? evaluationNoiseScale(reservation, count, n) : 0;
  const noisy = (value: number) => {
    const noise =
      reservation.mechanism === 'laplace'
        ? laplaceVariate(scale, uniform())
        : gaussianVariate(scale, uniform(), uniform());
    return Math.min(1, Math.max(0, value + noise));
  };
  const released = rows.map((r) => {
    const row: EvalMetrics['rows'][number] = { model: r.model, n: r.n };
    for (const m of NOISABLE_METRICS) if (r[m] !== undefined) row[m] = noisy(r[m]);
    return row;
  });
  return {
    rows: released,
    noise: {
      mechanism: reservation.mechanism,
      epsilon: reservation.epsilon,
      delta: reservation.delta,
      scale,
      withheldMetrics: rows.some((r) => r.bleu !== undefined) ? ['bleu'] : [],
    },
  };
}
