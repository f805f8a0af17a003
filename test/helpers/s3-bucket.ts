/** moto-backed S3 with a KMS-encrypted synthesis bucket, shared by the filter and gate tests. */
import { CreateBucketCommand, GetObjectCommand, PutBucketEncryptionCommand, type S3Client } from '@aws-sdk/client-s3';
import { createKmsKey, s3ClientFor, startS3Server, type S3Server } from '../../local/s3-server.js';
import type { RunStateInput } from '../../core/contract/index.js';
import { parseRunConfig, type RunConfigInput } from '../../core/config/index.js';

export interface SynthesisBucket {
  server: S3Server;
  s3: S3Client;
  bucket: string;
  keyArn: string;
}

export async function startSynthesisBucket(bucket = 'rewardds-synthesis-test'): Promise<SynthesisBucket> {
  const server = await startS3Server();
  const s3 = s3ClientFor(server);
  const keyArn = await createKmsKey(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            BucketKeyEnabled: true,
          },
        ],
      },
    }),
  );
  return { server, s3, bucket, keyArn };
}

export async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString('utf-8');
}

export function runState(runId: string, queries: number, config: RunConfigInput = {}, hasSeeds = false): RunStateInput {
  return {
    runId,
    records: queries,
    rounds: 2,
    hasTest: false,
    hasSeeds,
    plan: { generator: { noiseMultiplier: 1 }, reward: { noiseMultiplier: 1 } },
    config: parseRunConfig({ ...config, synthesis: { queries, ...config.synthesis } }),
  };
}
