/**
 * What may leave the private zone from the canary audit (docs/privacy.md, "Empirical audit with
 * canaries"): its aggregates, and nothing else. The schema is strict, so a stray field (a
 * secret, a loss, a rank) is refused rather than copied; the job's wall time stays behind.
 */
import { z } from 'zod';
import { fieldIssues } from './field-issues.js';
import { namedError } from '../../core/contract/index.js';

const bits = z.number().min(0).max(64);

export const AuditMetricsSchema = z.strictObject({
  canaries: z.int().min(1),
  heldOut: z.int().min(1),
  candidates: z.int().min(1),
  /** One per inserted canary, in bits. */
  exposures: z.array(bits).max(1000),
  chanceExposure: bits,
  maxExposure: bits,
  auc: z.number().min(0).max(1),
  secretsInSynthetic: z.int().min(0),
  scanned: z.boolean(),
  /** The job's own bookkeeping: accepted here, never released. */
  stage: z.literal('audit-canaries').optional(),
  seconds: z.number().min(0).optional(),
});
export type AuditMetrics = z.infer<typeof AuditMetricsSchema>;
export type ReleasedAudit = Omit<AuditMetrics, 'stage' | 'seconds'>;

export class AuditNotAggregate extends namedError('AuditNotAggregate') {}

/** Names the offending field by path only; the values stay unquoted. */
export function checkAudit(value: unknown, file: string): ReleasedAudit {
  const result = AuditMetricsSchema.safeParse(value);
  if (!result.success) throw new AuditNotAggregate(`${file}: not audit aggregates only: ${fieldIssues(result.error)}`);
  const { stage: _stage, seconds: _seconds, ...released } = result.data;
  if (released.exposures.length !== released.canaries)
    throw new AuditNotAggregate(`${file}: exposures: one per inserted canary expected`);
  if (released.secretsInSynthetic > released.canaries)
    throw new AuditNotAggregate(`${file}: secretsInSynthetic: more than the inserted canaries`);
  return released;
}
