/**
 * Sets moto up the way the deployed stack leaves an account: KMS keys, buckets with
 * versioning and default SSE-KMS, the public base models in the models bucket, and then
 * the user's upload under `incoming/` exactly as a user would place it.
 */
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { INCOMING_PREFIX } from '../core/contract/index.js';
import { uploadFolder as uploadFiles } from './s3-folders.js';

const run = promisify(execFile);

/** Records the arguments a tiny model was built with; local only, never uploaded. */
const STAMP = '.rewardds-tiny-model.json';

export interface LocalBucket {
  /** The bucket's logical id in the synthesized template. */
  logicalId: string;
  /** Its local name in moto. */
  name: string;
  /** Default encryption key (ARN), when the stack sets SSE-KMS. */
  kmsKeyArn?: string;
  versioned: boolean;
}

/** Creates each bucket with the stack's versioning and default encryption. */
export async function createBuckets(s3: S3Client, buckets: LocalBucket[]): Promise<void> {
  for (const bucket of buckets) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
    if (bucket.versioned) {
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: bucket.name, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
    if (bucket.kmsKeyArn) {
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket.name,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: bucket.kmsKeyArn },
                BucketKeyEnabled: true,
              },
            ],
          },
        }),
      );
    }
  }
}

export interface TinyModelSpec {
  /** Folder name under the cache, and the key prefix in the models bucket. */
  name: string;
  /** Arguments after `make-tiny-model --out DIR`. */
  args: string[];
}

/** The two public bases local mode needs: the small proxy base (G and R) and the target base. */
export const TINY_MODELS: TinyModelSpec[] = [
  { name: 'proxy', args: ['--layers', '2', '--hidden', '64', '--seed', '0'] },
  { name: 'target', args: ['--layers', '2', '--hidden', '96', '--seed', '1'] },
];

/**
 * Builds each tiny model once (offline, random weights, byte-level tokenizer) under
 * `cacheDir/<name>/`; a folder whose recorded arguments match is reused. Built into a
 * temporary folder of its own and renamed, so an interrupted build is never mistaken for
 * a model, and processes building the same folder at once (test files side by side) keep
 * whichever finished first.
 */
export async function buildTinyModels(
  cacheDir: string,
  options: { python: string; jobsDir: string; models?: TinyModelSpec[] },
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const spec of options.models ?? TINY_MODELS) {
    const folder = join(cacheDir, spec.name);
    const wanted = JSON.stringify(spec.args);
    const built = () => existsSync(join(folder, STAMP)) && readFileSync(join(folder, STAMP), 'utf8') === wanted;
    if (!built()) {
      const building = `${folder}.building-${process.pid}-${randomUUID()}`;
      rmSync(building, { recursive: true, force: true });
      mkdirSync(dirname(folder), { recursive: true });
      await run(options.python, ['-m', 'rewardds_jobs', 'make-tiny-model', '--out', building, ...spec.args], {
        env: { ...process.env, PYTHONPATH: options.jobsDir, HF_HUB_OFFLINE: '1' },
        maxBuffer: 16 * 1024 * 1024,
      });
      writeFileSync(join(building, STAMP), wanted);
      if (built()) {
        rmSync(building, { recursive: true, force: true }); // another process finished first
      } else {
        rmSync(folder, { recursive: true, force: true });
        renameSync(building, folder);
      }
    }
    out[spec.name] = folder;
  }
  return out;
}

/** Uploads every file of a tiny-model folder below `prefix` (the stamp file stays local). */
export function uploadFolder(
  s3: S3Client,
  bucket: string,
  prefix: string,
  folder: string,
  kmsKeyArn?: string,
): Promise<number> {
  return uploadFiles(s3, folder, bucket, prefix, { kmsKeyId: kmsKeyArn, skip: (path) => basename(path) === STAMP });
}

export interface UserUpload {
  /** The dataset's name: the folder under incoming/ (and the readable part of the run id). */
  name: string;
  train: string;
  test?: string;
  seeds?: string;
  config?: string;
}

export interface PlacedUpload {
  bucket: string;
  key: string;
  /** As S3 returns it (quoted); EventBridge sends it bare. */
  etag: string;
  size: number;
}

/** A dataset name for `incoming/<name>/`: the folder of a `train.jsonl`, else the file's stem. */
export function uploadName(trainPath: string): string {
  const file = basename(trainPath);
  const stem = file.replace(/\.jsonl$/i, '');
  const name = stem === 'train' ? basename(dirname(trainPath)) : stem;
  return name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'upload';
}

/**
 * Places the upload as the folder layout `incoming/<name>/train.jsonl`, with config,
 * test and seeds uploaded first (the trigger starts the run on train.jsonl, and Prepare
 * run reads the others from beside it). The bytes are the user's files, unchanged.
 */
export async function placeUpload(s3: S3Client, bucket: string, upload: UserUpload): Promise<PlacedUpload> {
  const folder = `${INCOMING_PREFIX}${upload.name}/`;
  const side: [string, string | undefined][] = [
    ['config.json', upload.config],
    ['test.jsonl', upload.test],
    ['seeds.jsonl', upload.seeds],
  ];
  for (const [file, path] of side) {
    if (path) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: folder + file, Body: readFileSync(path) }));
  }
  const body = readFileSync(upload.train);
  const key = `${folder}train.jsonl`;
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { bucket, key, etag: put.ETag ?? '', size: body.byteLength };
}

/** The EventBridge event S3 sends for an object created in a bucket with notifications on. */
export function objectCreatedEvent(upload: PlacedUpload, now = new Date()) {
  return {
    version: '0',
    id: `local-${now.getTime().toString(36)}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: now.toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${upload.bucket}`],
    detail: {
      version: '0',
      bucket: { name: upload.bucket },
      object: { key: upload.key, size: upload.size, etag: upload.etag.replace(/^"|"$/g, ''), sequencer: '0' },
      'request-id': 'local',
      requester: '000000000000',
      reason: 'PutObject',
    },
  };
}
