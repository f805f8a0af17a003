import {
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectCreatedEventSchema } from '../../functions/trigger/handler.js';
import {
  buildTinyModels,
  createBuckets,
  objectCreatedEvent,
  placeUpload,
  uploadFolder,
  uploadName,
} from '../../local/bootstrap.js';
import { defaultPython } from '../../local/sagemaker/index.js';
import { createKmsKey, s3ClientFor, startS3Server, type S3Server } from '../../local/s3-server.js';

let server: S3Server;
let s3: S3Client;
let work: string;

beforeAll(async () => {
  server = await startS3Server();
  s3 = s3ClientFor(server);
  work = mkdtempSync(join(tmpdir(), 'rewardds-boot-'));
});

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('bootstrap', () => {
  it('creates buckets with versioning and default SSE-KMS under the given key', async () => {
    const keyArn = await createKmsKey(server);
    await createBuckets(s3, [
      { logicalId: 'PrivateBucket', name: 'boot-private', kmsKeyArn: keyArn, versioned: true },
      { logicalId: 'LogsBucket', name: 'boot-logs', versioned: false },
    ]);
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: 'boot-private' }));
    expect(versioning.Status).toBe('Enabled');
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'boot-private' }));
    expect(encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: keyArn,
    });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'boot-logs' }))).Status).toBeUndefined();
  });

  it('places an upload as a user would: side files first, then train.jsonl, bytes unchanged', async () => {
    const files = { train: join(work, 'train.jsonl'), test: join(work, 'test.jsonl'), config: join(work, 'c.json') };
    writeFileSync(files.train, '{"prompt":"p","response":"r"}\n');
    writeFileSync(files.test, '{"prompt":"t","response":"u"}\n');
    writeFileSync(files.config, '{"seed":3}');
    const placed = await placeUpload(s3, 'boot-private', { name: 'clinic-qa', ...files });
    expect(placed.key).toBe('incoming/clinic-qa/train.jsonl');
    expect(placed.etag).toMatch(/^"[0-9a-f]{32}"$/);
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: 'boot-private', Key: placed.key }))
    ).Body!.transformToString();
    expect(body).toBe(readFileSync(files.train, 'utf8'));
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'boot-private', Prefix: 'incoming/clinic-qa/' }),
    );
    const order = [...(versions.Versions ?? [])]
      .sort((a, b) => a.LastModified!.getTime() - b.LastModified!.getTime())
      .map((v) => v.Key);
    expect(order.at(-1)).toBe('incoming/clinic-qa/train.jsonl');
    expect(new Set(order)).toEqual(
      new Set(['incoming/clinic-qa/config.json', 'incoming/clinic-qa/test.jsonl', 'incoming/clinic-qa/train.jsonl']),
    );

    const event = objectCreatedEvent(placed);
    expect(ObjectCreatedEventSchema.parse(event).detail.object).toEqual({
      key: placed.key,
      etag: placed.etag.replace(/"/g, ''),
      size: placed.size,
    });
  });

  it('names the upload after the folder of train.jsonl, else the file', () => {
    expect(uploadName('examples/clinic-qa/train.jsonl')).toBe('clinic-qa');
    expect(uploadName('/data/My Set.jsonl')).toBe('My-Set');
  });

  it('builds a tiny model once, reuses it, and uploads it without the local stamp', async () => {
    const cache = join(work, 'models');
    const models = [{ name: 'proxy', args: ['--layers', '1', '--hidden', '32'] }];
    const options = { python: defaultPython(), jobsDir: join(process.cwd(), 'jobs'), models };
    const first = await buildTinyModels(cache, options);
    const config = join(first.proxy!, 'config.json');
    const builtAt = statSync(config).mtimeMs;
    expect(JSON.parse(readFileSync(config, 'utf8')).hidden_size).toBe(32);
    const again = await buildTinyModels(cache, options);
    expect(again.proxy).toBe(first.proxy);
    expect(statSync(config).mtimeMs).toBe(builtAt);

    await createBuckets(s3, [{ logicalId: 'ModelsBucket', name: 'boot-models', versioned: true }]);
    const count = await uploadFolder(s3, 'boot-models', 'base/proxy/', first.proxy!);
    expect(count).toBeGreaterThanOrEqual(4);
    const uploaded = await (
      await s3.send(new GetObjectCommand({ Bucket: 'boot-models', Key: 'base/proxy/config.json' }))
    ).Body!.transformToString();
    expect(JSON.parse(uploaded).hidden_size).toBe(32);
  });

  it('builds one model when two builders race for the same folder, and leaves no half-built folder', async () => {
    const cache = join(work, 'raced');
    const models = [{ name: 'proxy', args: ['--layers', '1', '--hidden', '16'] }];
    const options = { python: defaultPython(), jobsDir: join(process.cwd(), 'jobs'), models };
    const [a, b] = await Promise.all([buildTinyModels(cache, options), buildTinyModels(cache, options)]);
    expect(a.proxy).toBe(join(cache, 'proxy'));
    expect(b.proxy).toBe(a.proxy);
    expect(JSON.parse(readFileSync(join(a.proxy!, 'config.json'), 'utf8')).hidden_size).toBe(16);
    expect(readdirSync(cache)).toEqual(['proxy']);
  });
});
