/**
 * The release gate (docs/design.md#release): recompute each DP training's ε from what the
 * job really did (q, steps, σ), check it against the job's own accountant, compose the two
 * and refuse anything above the run's budget. Pure: metrics in, verdict or error out.
 */
import { z } from 'zod';
import {
  accountedEpsilon,
  DEFAULT_DISCRETIZATION,
  mechanismEpsilon,
  NEIGHBOURING,
  type AccountantName,
  type Mechanism,
  type PrivacyPlan,
} from '../../core/privacy/index.js';
import { namedError } from '../../core/contract/index.js';

/** The keys of a DP training's metrics.json that the gate reads (docs/job-contract.md). */
export const DpMetricsSchema = z.looseObject({
  stage: z.string(),
  records: z.int().min(1),
  epochs: z.int().min(0),
  steps: z.int().min(0),
  sampleRate: z.number().gt(0).max(1),
  noiseMultiplier: z.number().positive(),
  clipNorm: z.number().positive(),
  delta: z.number().gt(0).lt(1),
  /** null when the job ran without noise: such a model has no guarantee and never leaves. */
  epsilon: z.number().min(0).nullable(),
  accountant: z.literal('rdp'),
});
export type DpMetrics = z.infer<typeof DpMetricsSchema>;

export type ModelName = 'generator' | 'reward';

/** A figure of privacy.json for one mechanism. */
export interface MechanismRecord {
  stage: string;
  sampleRate: number;
  steps: number;
  epochs: number;
  noiseMultiplier: number;
  clipNorm: number;
  /** Recomputed here from sampleRate, steps and noiseMultiplier, with the plan's accountant. */
  epsilon: number;
  /** What the job's own accountant (Opacus RDP) reported. */
  selfReportedEpsilon: number;
}

/** The noised evaluation, the run's third mechanism, when reserved (docs/privacy.md, "The evaluation"). */
export interface EvaluationMechanismRecord {
  mechanism: 'laplace' | 'gaussian';
  epsilon: number;
  delta: number;
  sensitivity: string;
}

export interface PrivacyVerdict {
  /** The run's total: the trainings composed, plus the evaluation's reservation when there is one. */
  epsilon: number;
  delta: number;
  accountant: AccountantName;
  /** The neighbouring relation of ε (docs/privacy.md): add/remove one record, N public. */
  neighbouring: typeof NEIGHBOURING;
  targetEpsilon: number;
  plannedEpsilon: number;
  records: number;
  mechanisms: Record<ModelName, MechanismRecord> & { evaluation?: EvaluationMechanismRecord };
  /** With a reserved evaluation only: the two trainings' composed ε and their δ. */
  trainingEpsilon?: number;
  trainingDelta?: number;
}

export const EVALUATION_SENSITIVITY =
  '1/n per released mean of per-record scores in [0, 1] (n, the test-set size, public); BLEU not released';

/** Each float a job reports (q, σ, C, δ) must equal the plan's this closely (relative); steps exactly. */
export const PLAN_MATCH_TOLERANCE = 1e-9;

/** The job's accountant and ours must agree this closely (relative). */
export const SELF_REPORT_TOLERANCE = 1e-6;

const close = (a: number, b: number, tolerance: number) =>
  Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));

export class PrivacyCheckFailed extends namedError('PrivacyCheckFailed') {}

export class PrivacyBudgetExceeded extends namedError('PrivacyBudgetExceeded') {}

/**
 * The plan's accountant (a plan from before the choice existed is RDP), on the plan's grid:
 * the budget is checked the way it was planned. The jobs' own ε is Opacus' RDP, a self-report
 * checked against our RDP only; it may exceed the PLD ε without any refusal.
 */
function planEpsilon(plan: PrivacyPlan, mechanisms: readonly Mechanism[]): number {
  const accountant = plan.accountant ?? 'rdp';
  return accountedEpsilon(accountant, mechanisms, plan.delta, plan.discretization ?? DEFAULT_DISCRETIZATION);
}

const mechanismOf = (m: DpMetrics): Mechanism => ({
  noiseMultiplier: m.noiseMultiplier,
  sampleRate: m.sampleRate,
  steps: m.steps,
});

/**
 * The job must have run the plan: the budget was checked on the plan, and a job that drew
 * its own q, steps, σ, C or δ (a bug, or a config changed between plan and start) ran a
 * mechanism nobody planned, even one whose recomputed ε happens to fit.
 */
function checkAgainstPlan(name: ModelName, metrics: DpMetrics, plan: PrivacyPlan): void {
  const planned = plan[name];
  if (!planned) throw new PrivacyCheckFailed(`${name}: the run's plan has no ${name}; nothing can be checked`);
  const mismatches: string[] = [];
  if (metrics.steps !== planned.steps)
    mismatches.push(`the job took ${metrics.steps} steps, the plan ${planned.steps}`);
  const floats: [string, number, number][] = [
    ['sampling rate q', metrics.sampleRate, planned.sampleRate],
    ['noise multiplier σ', metrics.noiseMultiplier, planned.noiseMultiplier],
    ['clip norm C', metrics.clipNorm, planned.clipNorm],
  ];
  for (const [what, ran, plannedValue] of floats) {
    if (!close(ran, plannedValue, PLAN_MATCH_TOLERANCE))
      mismatches.push(`the job ran with ${what} = ${ran}, the plan's is ${plannedValue}`);
  }
  if (!close(metrics.delta, plan.delta, PLAN_MATCH_TOLERANCE))
    mismatches.push(`the job accounted at δ = ${metrics.delta}, the run's δ is ${plan.delta}`);
  if (mismatches.length) throw new PrivacyCheckFailed(`${name}: ${mismatches.join('; ')}; nothing was released`);
}

function checkMechanism(name: ModelName, metrics: DpMetrics, plan: PrivacyPlan, records: number): MechanismRecord {
  if (metrics.epsilon === null)
    throw new PrivacyCheckFailed(`${name}: the job reports no ε (trained without noise); it cannot be released`);
  checkAgainstPlan(name, metrics, plan);
  if (metrics.records !== records) {
    throw new PrivacyCheckFailed(`${name}: the job trained on ${metrics.records} records, the run prepared ${records}`);
  }
  const rdpEpsilon = mechanismEpsilon(mechanismOf(metrics), plan.delta);
  if (!close(metrics.epsilon, rdpEpsilon, SELF_REPORT_TOLERANCE)) {
    throw new PrivacyCheckFailed(
      `${name}: the job's accountant reports ε = ${metrics.epsilon}, but q = ${metrics.sampleRate}, ` +
        `${metrics.steps} steps and σ = ${metrics.noiseMultiplier} give ε = ${rdpEpsilon} (relative tolerance ${SELF_REPORT_TOLERANCE})`,
    );
  }
  const epsilon = planEpsilon(plan, [mechanismOf(metrics)]);
  return {
    stage: metrics.stage,
    sampleRate: metrics.sampleRate,
    steps: metrics.steps,
    epochs: metrics.epochs,
    noiseMultiplier: metrics.noiseMultiplier,
    clipNorm: metrics.clipNorm,
    epsilon,
    selfReportedEpsilon: metrics.epsilon,
  };
}

/** Throws PrivacyCheckFailed on inconsistent metrics and PrivacyBudgetExceeded above the target. */
export function checkRelease(
  metrics: Record<ModelName, DpMetrics>,
  plan: PrivacyPlan,
  records: number,
): PrivacyVerdict {
  const mechanisms = {
    generator: checkMechanism('generator', metrics.generator, plan, records),
    reward: checkMechanism('reward', metrics.reward, plan, records),
  };
  const epsilon = planEpsilon(plan, [metrics.generator, metrics.reward].map(mechanismOf));
  if (epsilon > plan.targetEpsilon) {
    throw new PrivacyBudgetExceeded(
      `the two DP trainings compose to ε = ${epsilon} at δ = ${plan.delta}, over the run's budget ε = ${plan.targetEpsilon}; nothing was released`,
    );
  }
  const evaluation = plan.evaluation;
  if (!evaluation) {
    return {
      epsilon,
      delta: plan.delta,
      accountant: plan.accountant ?? 'rdp',
      neighbouring: NEIGHBOURING,
      targetEpsilon: plan.targetEpsilon,
      plannedEpsilon: plan.epsilon,
      records,
      mechanisms,
    };
  }
  // Basic composition with the evaluation's reserved share: the run's total is the sum.
  return {
    epsilon: epsilon + evaluation.epsilon,
    delta: plan.delta + evaluation.delta,
    accountant: plan.accountant ?? 'rdp',
    neighbouring: NEIGHBOURING,
    targetEpsilon: plan.targetEpsilon + evaluation.epsilon,
    plannedEpsilon: plan.epsilon + evaluation.epsilon,
    records,
    mechanisms: { ...mechanisms, evaluation: { ...evaluation, sensitivity: EVALUATION_SENSITIVITY } },
    trainingEpsilon: epsilon,
    trainingDelta: plan.delta,
  };
}
