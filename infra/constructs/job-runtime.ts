/**
 * What SageMaker jobs run as: one container image built from jobs/, and one execution role
 * per zone. The synthesis role has no statement on the private bucket or key; the private
 * role may read the synthesis zone's target adapters (evaluation) and synthetic text (the canary
 * audit's scan), never the reverse.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZoneStorage } from './zone-storage.js';
import { bucketByName, decryptWith, encryptWith, grantForJobVolumes, readObjects, writeObjects } from './grants.js';
import { splitS3Prefix } from '../settings.js';
import { stableId } from './stable-id.js';

export const JOBS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../jobs');

export interface JobRuntimeProps {
  readonly privateZone: ZoneStorage;
  readonly synthesisZone: ZoneStorage;
  /** S3 URI prefix of the public base models, readable by both job roles. */
  readonly modelsPrefix: string;
  /** Account that must own the models bucket. Default: this stack's account. */
  readonly modelsBucketAccount?: string;
  /** Folder with the job image's Dockerfile. Default: jobs/ of this repository. */
  readonly imageDirectory?: string;
}

export class JobRuntime extends Construct {
  public readonly image: ecrAssets.DockerImageAsset;
  public readonly privateRole: iam.Role;
  public readonly synthesisRole: iam.Role;

  constructor(scope: Construct, id: string, props: JobRuntimeProps) {
    super(scope, id);
    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: props.imageDirectory ?? JOBS_DIR,
      // SageMaker GPU instances are x86_64.
      platform: ecrAssets.Platform.LINUX_AMD64,
      exclude: ['tests', '**/__pycache__', '.pytest_cache'],
    });
    const { private: priv, synthesis } = { private: props.privateZone, synthesis: props.synthesisZone };

    this.privateRole = stableId(
      new iam.Role(this, 'PrivateRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: 'RewardDS private-zone SageMaker jobs (DP training, reward pairs, evaluation)',
      }),
      'PrivateJobRole',
    );
    readObjects(this.privateRole, priv.bucket, ['runs/*']);
    writeObjects(this.privateRole, priv.bucket, ['runs/*']);
    encryptWith(this.privateRole, priv.key);
    grantForJobVolumes(this.privateRole, priv.key);
    // Evaluation reads every round's target adapter from the synthesis zone: data flowing inwards only.
    // The canary audit scans the synthetic queries and candidates for the secrets, inwards too.
    readObjects(this.privateRole, synthesis.bucket, ['runs/*/target/*', 'runs/*/queries/*', 'runs/*/candidates/*']);
    decryptWith(this.privateRole, synthesis.key);

    this.synthesisRole = stableId(
      new iam.Role(this, 'SynthesisRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description:
          'RewardDS synthesis-zone SageMaker jobs (query and candidate generation, scoring, refinement, target fine-tuning)',
      }),
      'SynthesisJobRole',
    );
    readObjects(this.synthesisRole, synthesis.bucket, ['runs/*']);
    writeObjects(this.synthesisRole, synthesis.bucket, ['runs/*']);
    encryptWith(this.synthesisRole, synthesis.key);
    grantForJobVolumes(this.synthesisRole, synthesis.key);

    const models = splitS3Prefix(props.modelsPrefix);
    const stack = Stack.of(this);
    for (const role of [this.privateRole, this.synthesisRole]) {
      // Bucket names are global: if ours were deleted, anyone could recreate it with other weights.
      readObjects(role, bucketByName(stack, models.bucket), [`${models.prefix}*`], {
        resourceAccount: props.modelsBucketAccount ?? stack.account,
      });
      this.image.repository.grantPull(role);
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [
            stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '/aws/sagemaker/*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
        }),
      );
    }
  }
}
