/**
 * The S3 adapter: the only module that turns bucket/key into SDK calls for data.
 * Reads are streams, writes are multipart streams, so a Lambda never holds a whole file.
 * Every write is SSE-KMS with the zone's key when one is given.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, type Readable } from 'node:stream';

export interface ObjectStore {
  client: S3Client;
}

/** One client per process; endpoint and credentials come from the environment (AWS_ENDPOINT_URL_S3 in local mode). */
export function createS3Client(): S3Client {
  return new S3Client({
    forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

const sse = (kmsKeyId?: string) =>
  kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId, BucketKeyEnabled: true } : {};

export async function getObjectStream(client: S3Client, bucket: string, key: string): Promise<Readable> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body as Readable;
}

export async function getJson<T = unknown>(client: S3Client, bucket: string, key: string): Promise<T> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await out.Body!.transformToString('utf-8')) as T;
}

/** Returns undefined when the object does not exist. */
export async function getJsonIfExists<T = unknown>(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<T | undefined> {
  try {
    return await getJson<T>(client, bucket, key);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function putJson(
  client: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  kmsKeyId?: string,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(value, null, 2),
      ContentType: 'application/json',
      ...sse(kmsKeyId),
    }),
  );
}

export async function putText(
  client: S3Client,
  bucket: string,
  key: string,
  body: string,
  contentType: string,
  kmsKeyId?: string,
) {
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ...sse(kmsKeyId) }),
  );
}

/**
 * A writable stream that lands as one object when `done()` resolves. Multipart upload:
 * the object appears whole or not at all, so a retried stage never reads half a file.
 */
export function uploadStream(
  client: S3Client,
  bucket: string,
  key: string,
  kmsKeyId?: string,
  contentType = 'application/x-ndjson',
) {
  const body = new PassThrough();
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, ...sse(kmsKeyId) },
    queueSize: 2,
    partSize: 8 * 1024 * 1024,
  });
  const finished = upload.done();
  // Keep an early failure from becoming an unhandled rejection before done() is awaited.
  finished.catch(() => undefined);
  return {
    stream: body,
    /** Ends the stream and waits for the object to be complete. */
    async done(): Promise<void> {
      if (!body.writableEnded) body.end();
      await finished;
    },
    /** Writes with backpressure. */
    async write(chunk: string): Promise<void> {
      if (!body.write(chunk)) await new Promise<void>((resolve) => body.once('drain', resolve));
    },
    abort: () => upload.abort(),
  };
}

export async function copyObject(
  client: S3Client,
  from: { bucket: string; key: string },
  to: { bucket: string; key: string },
  kmsKeyId?: string,
) {
  await client.send(
    new CopyObjectCommand({
      Bucket: to.bucket,
      Key: to.key,
      CopySource: `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, '/')}`,
      ...sse(kmsKeyId),
    }),
  );
}

export async function deleteObject(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Every key under a prefix, following continuation tokens. */
export async function* listKeys(
  client: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const obj of page.Contents ?? []) yield { key: obj.Key!, size: obj.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

export async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return error instanceof NoSuchKey || error instanceof NotFound || name === 'NoSuchKey' || name === 'NotFound';
}
