/**
 * Least-privilege statements scoped to one bucket prefix or one key. Every role in the
 * stack is built from these, so each grant names exactly the objects it reaches.
 */
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** A bucket by ARN, so external buckets (the models bucket) work the same way. */
export interface BucketRef {
  readonly bucketArn: string;
}

/**
 * Read objects whose keys match `pattern` (e.g. `runs/*\/generator/*`), and list them.
 * `resourceAccount`: only if that account owns the bucket (for buckets named from outside).
 */
export function readObjects(
  principal: iam.IGrantable,
  bucket: BucketRef,
  patterns: string[],
  options: { resourceAccount?: string } = {},
): void {
  const owner = options.resourceAccount ? { StringEquals: { 's3:ResourceAccount': options.resourceAccount } } : {};
  principal.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: patterns.map((p) => `${bucket.bucketArn}/${p}`),
      ...(options.resourceAccount ? { conditions: owner } : {}),
    }),
  );
  principal.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': patterns.map(listPrefix) }, ...owner },
    }),
  );
}

/** Write (and overwrite) objects whose keys match `patterns`; multipart uploads included. */
export function writeObjects(principal: iam.IGrantable, bucket: BucketRef, patterns: string[]): void {
  principal.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: patterns.map((p) => `${bucket.bucketArn}/${p}`),
    }),
  );
}

/**
 * Delete objects whose keys match `patterns`. Buckets are versioned, so a delete only
 * hides the current version; lifecycle rules expire it.
 */
export function deleteObjects(principal: iam.IGrantable, bucket: BucketRef, patterns: string[]): void {
  principal.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:DeleteObject'],
      resources: patterns.map((p) => `${bucket.bucketArn}/${p}`),
    }),
  );
}

/** The list prefix that covers an object pattern: `runs/*\/generator/*` → `runs/*`. */
function listPrefix(pattern: string): string {
  const star = pattern.indexOf('*');
  return star === -1 ? pattern : `${pattern.slice(0, star)}*`;
}

/** Decrypt objects of the zone (S3 asks KMS on the caller's behalf). */
export function decryptWith(principal: iam.IGrantable, key: kms.IKey): void {
  key.grant(principal, 'kms:Decrypt');
}

/** Write SSE-KMS objects of the zone; Decrypt too, because multipart uploads read the data key back. */
export function encryptWith(principal: iam.IGrantable, key: kms.IKey): void {
  key.grant(principal, 'kms:GenerateDataKey', 'kms:Decrypt');
}

/**
 * Write single-part SSE-KMS objects of the zone and nothing more: no Decrypt, so a role that
 * may only deposit into a zone can never read what the key protects.
 */
export function encryptOnlyWith(principal: iam.IGrantable, key: kms.IKey): void {
  key.grant(principal, 'kms:GenerateDataKey');
}

/**
 * What SageMaker needs to encrypt a job's volumes and outputs with the key: a grant it
 * creates for the instance, allowed only for AWS resources.
 */
export function grantForJobVolumes(principal: iam.IGrantable, key: kms.IKey): void {
  principal.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:CreateGrant', 'kms:DescribeKey'],
      resources: [key.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  );
}

export const bucketOf = (bucket: s3.IBucket): BucketRef => bucket;

/** An external bucket by name, in this stack's partition. */
export function bucketByName(stack: Stack, name: string): BucketRef {
  return { bucketArn: stack.formatArn({ service: 's3', region: '', account: '', resource: name }) };
}
