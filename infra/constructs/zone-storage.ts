/**
 * A zone's storage: its own KMS key and its own bucket. One instance per zone, so the two
 * zones never share a key or a bucket and a grant on one can never reach the other.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INCOMING_PREFIX, QUARANTINE_PREFIX, type Zone } from '../../core/contract/index.js';
import { stableId } from './stable-id.js';

export interface AccessLogsBucketProps {
  /** Days access logs are kept. */
  readonly retentionDays: number;
}

/**
 * Receives both zone buckets' server access logs. S3 log delivery cannot write with
 * SSE-KMS, so this bucket uses SSE-S3; it holds request metadata, never objects.
 */
export class AccessLogsBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps) {
    super(scope, id);
    this.bucket = stableId(
      new s3.Bucket(this, 'Bucket', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [
          {
            id: 'expire-logs',
            expiration: Duration.days(props.retentionDays),
            noncurrentVersionExpiration: Duration.days(7),
          },
        ],
      }),
      'AccessLogsBucket',
    );
  }
}

export interface ZoneStorageProps {
  readonly zone: Zone;
  /** Where server access logs go. */
  readonly accessLogs: s3.IBucket;
  /** Days a noncurrent object version is kept. */
  readonly oldVersionDays: number;
  /** Days a rejected upload stays under quarantine/ (private zone only). */
  readonly quarantineDays: number;
  /** Send object events to EventBridge (the private zone's uploads start runs). Default false. */
  readonly eventBridge?: boolean;
}

export class ZoneStorage extends Construct {
  public readonly zone: Zone;
  public readonly key: kms.Key;
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ZoneStorageProps) {
    super(scope, id);
    this.zone = props.zone;
    const title = props.zone === 'private' ? 'Private' : 'Synthesis';
    this.key = stableId(
      new kms.Key(this, 'Key', {
        description: `RewardDS ${props.zone} zone: data at rest, job volumes and job outputs`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
      `${title}Key`,
    );
    this.bucket = stableId(
      new s3.Bucket(this, 'Bucket', {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: props.accessLogs,
        serverAccessLogsPrefix: `${props.zone}/`,
        eventBridgeEnabled: props.eventBridge ?? false,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [
          { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(props.oldVersionDays) },
          { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
          ...(props.zone === 'private'
            ? [{ id: 'expire-quarantine', prefix: QUARANTINE_PREFIX, expiration: Duration.days(props.quarantineDays) }]
            : []),
        ],
      }),
      `${title}Bucket`,
    );
  }

  /**
   * Zone separation that does not rest on missing grants alone: explicit denies, in the
   * bucket policy and the key policy, for every principal but `roles` and the break-glass
   * role (by aws:PrincipalArn, so the break-glass role need not exist until it is needed).
   *
   * What stays open, on purpose: uploading under incoming/ (the data owner uploads with
   * their own credentials, and may not read back); bucket and key configuration
   * (CloudFormation, the notification handler, key administration by the account); and key
   * use that S3 or SageMaker make on a caller's behalf, which S3 has already checked
   * against the bucket policy.
   */
  denyAllExcept(roles: iam.IRole[], breakGlassRoleArn: string, writeOnly: iam.IRole[] = []): void {
    const exempt = { ArnNotLike: { 'aws:PrincipalArn': [...roles.map((r) => r.roleArn), breakGlassRoleArn] } };
    // `writeOnly` roles may deposit objects (their own grants name the prefix), nothing else.
    const exemptWriters = {
      ArnNotLike: { 'aws:PrincipalArn': [...[...roles, ...writeOnly].map((r) => r.roleArn), breakGlassRoleArn] },
    };
    const anyone = [new iam.AnyPrincipal()];
    const bucketArn = this.bucket.bucketArn;
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyObjectAccessOutsideZone',
        effect: iam.Effect.DENY,
        principals: anyone,
        notActions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [`${bucketArn}/*`],
        conditions: exempt,
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWritesOutsideIncoming',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        notResources: [`${bucketArn}/${INCOMING_PREFIX}*`],
        conditions: exemptWriters,
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyListingOutsideZone',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
        resources: [bucketArn],
        conditions: exempt,
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyDirectKeyUseOutsideZone',
        effect: iam.Effect.DENY,
        principals: anyone,
        actions: [
          'kms:Decrypt',
          'kms:Encrypt',
          'kms:GenerateDataKey*',
          'kms:ReEncrypt*',
          'kms:CreateGrant',
          'kms:DeriveSharedSecret',
        ],
        resources: ['*'],
        conditions: {
          ...exempt,
          Null: { 'kms:ViaService': 'true' },
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
  }
}
