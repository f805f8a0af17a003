/**
 * The run config's compute section against what SageMaker accepts for each kind of job,
 * checked in Prepare run so a bad instance type is refused before any job, naming the key.
 * The lists are the AWS SDK's own enums of the pinned client version (so this lives beside
 * its Lambda, not in core/); test/core/sagemaker/botocore-model.test.ts compares them with
 * botocore's service model.
 */
import { ProcessingInstanceType, TrainingInstanceType } from '@aws-sdk/client-sagemaker';
import type { JobKind, Stage } from '../../core/contract/index.js';
import type { RunConfig } from '../../core/config/index.js';
import { STAGE_TRAITS } from '../../core/sagemaker/index.js';

export const INSTANCE_TYPES: Record<JobKind, ReadonlySet<string>> = {
  training: new Set<string>(Object.values(TrainingInstanceType)),
  processing: new Set<string>(Object.values(ProcessingInstanceType)),
};

type InstanceRole = keyof RunConfig['compute']['instanceTypes'];

export interface ComputeIssue {
  path: string;
  message: string;
}

/** The stages each instance-type key is used for, with the one job kind they share. */
export function roleUses(role: InstanceRole): { kind: JobKind; stages: Stage[] } {
  const stages = (Object.keys(STAGE_TRAITS) as Stage[]).filter((s) => STAGE_TRAITS[s].instance === role);
  const kinds = new Set(stages.map((s) => STAGE_TRAITS[s].kind));
  if (kinds.size !== 1) throw new Error(`compute.instanceTypes.${role} serves ${[...kinds].join(' and ')} jobs`);
  return { kind: [...kinds][0]!, stages };
}

export function computeIssues(compute: RunConfig['compute']): ComputeIssue[] {
  const issues: ComputeIssue[] = [];
  for (const [role, type] of Object.entries(compute.instanceTypes) as [InstanceRole, string][]) {
    const { kind, stages } = roleUses(role);
    if (!INSTANCE_TYPES[kind].has(type))
      issues.push({
        path: `compute.instanceTypes.${role}`,
        message: `'${type}' is not a SageMaker ${kind} instance type (it runs ${stages.join(', ')})`,
      });
  }
  return issues;
}
