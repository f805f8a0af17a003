/**
 * An in-memory S3 behind aws-sdk-client-mock, for the data Lambdas' tests. Reads return
 * real streams (chunked, so the streaming paths see lines split across chunks); writes
 * by PutObject or by lib-storage's multipart upload land as bytes. Every request stays
 * recorded on `mock` for exact assertions.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';

type Body = string | Uint8Array | Readable | undefined;

async function bytesOf(body: Body): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Splits into small chunks (at most ~64 of them) so a line never arrives in one piece. */
function chunked(bytes: Buffer, size = Math.max(7, Math.ceil(bytes.length / 64))): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

export function memoryS3() {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(client);
  const objects = new Map<string, Buffer>();
  const uploads = new Map<string, Map<number, Buffer>>();
  const id = (bucket: string, key: string) => `${bucket}/${key}`;

  const put = (bucket: string, key: string, body: string | Buffer) =>
    objects.set(id(bucket, key), typeof body === 'string' ? Buffer.from(body, 'utf8') : body);

  mock.on(GetObjectCommand).callsFake(async (input) => {
    const bytes = objects.get(id(input.Bucket!, input.Key!));
    if (!bytes)
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    return { Body: sdkStreamMixin(chunked(bytes)), ContentLength: bytes.length };
  });
  mock.on(HeadObjectCommand).callsFake(async (input) => {
    const bytes = objects.get(id(input.Bucket!, input.Key!));
    if (!bytes) throw new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });
    return { ContentLength: bytes.length };
  });
  mock.on(PutObjectCommand).callsFake(async (input) => {
    put(input.Bucket!, input.Key!, await bytesOf(input.Body as Body));
    return { ETag: '"put"' };
  });
  mock.on(DeleteObjectCommand).callsFake(async (input) => {
    objects.delete(id(input.Bucket!, input.Key!));
    return {};
  });
  mock.on(CopyObjectCommand).callsFake(async (input) => {
    const source = decodeURIComponent(input.CopySource!);
    const bytes = objects.get(source);
    if (!bytes)
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    put(input.Bucket!, input.Key!, Buffer.from(bytes));
    return {};
  });
  mock.on(ListObjectsV2Command).callsFake(async (input) => {
    const prefix = id(input.Bucket!, input.Prefix ?? '');
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    // Pages of two, so callers must follow continuation tokens.
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = keys.slice(start, start + 2);
    const more = start + 2 < keys.length;
    return {
      Contents: page.map((k) => ({ Key: k.slice(input.Bucket!.length + 1), Size: objects.get(k)!.length })),
      IsTruncated: more,
      NextContinuationToken: more ? String(start + 2) : undefined,
    };
  });
  mock.on(CreateMultipartUploadCommand).callsFake(async (input) => {
    const uploadId = `upload-${uploads.size + 1}`;
    uploads.set(uploadId, new Map());
    return { Bucket: input.Bucket, Key: input.Key, UploadId: uploadId };
  });
  mock.on(UploadPartCommand).callsFake(async (input) => {
    uploads.get(input.UploadId!)!.set(input.PartNumber!, await bytesOf(input.Body as Body));
    return { ETag: `"part-${input.PartNumber}"` };
  });
  mock.on(CompleteMultipartUploadCommand).callsFake(async (input) => {
    const parts = uploads.get(input.UploadId!)!;
    const ordered = [...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n)!);
    put(input.Bucket!, input.Key!, Buffer.concat(ordered));
    uploads.delete(input.UploadId!);
    return {};
  });
  mock.on(AbortMultipartUploadCommand).callsFake(async (input) => {
    uploads.delete(input.UploadId!);
    return {};
  });

  return {
    client,
    mock,
    objects,
    put,
    text: (bucket: string, key: string) => objects.get(id(bucket, key))?.toString('utf8'),
    json: (bucket: string, key: string) => JSON.parse(objects.get(id(bucket, key))!.toString('utf8')),
    jsonl: (bucket: string, key: string) =>
      objects
        .get(id(bucket, key))!
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l)),
    keys: (bucket: string) =>
      [...objects.keys()]
        .filter((k) => k.startsWith(`${bucket}/`))
        .map((k) => k.slice(bucket.length + 1))
        .sort(),
  };
}

/** A logger that records what was logged, so tests can prove no record text reaches it. */
export function recordingLogger() {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, ...extra: unknown[]) => {
      lines.push(`${level} ${message} ${JSON.stringify(extra)}`);
    };
  return { lines, info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') };
}

/** Metrics that record what was added. */
export function recordingMetrics() {
  const added: { name: string; unit: string; value: number }[] = [];
  return {
    added,
    addMetric(name: string, unit: string, value: number) {
      added.push({ name, unit, value });
    },
    publishStoredMetrics() {},
  };
}
