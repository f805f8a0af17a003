import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Gives a construct's CloudFormation resource a readable logical id. Local mode routes
 * tasks and resolves references by these ids, and operators find them in the console.
 */
export function stableId<T extends IConstruct>(construct: T, logicalId: string): T {
  const resource = construct.node.defaultChild ?? construct;
  if (!(resource instanceof CfnResource))
    throw new Error(`${construct.node.path}: no CloudFormation resource to name ${logicalId}`);
  resource.overrideLogicalId(logicalId);
  return construct;
}
