/** Selection sources and sinks over S3: streamed reads, multipart SSE-KMS writes. */
import type { S3Client } from '@aws-sdk/client-s3';
import { getObjectStream, uploadStream } from '../s3-objects.js';
import { s3Uri } from '../../../core/contract/index.js';
import { type Source, batched, type TextSink } from '../../../core/selection/index.js';

/** Errors name the object by its s3:// URI. */
export function s3Source(client: S3Client, bucket: string, key: string): Source {
  return { file: s3Uri(bucket, key), open: () => getObjectStream(client, bucket, key) };
}

export function s3Sink(client: S3Client, bucket: string, key: string, kmsKeyId?: string): TextSink {
  const upload = uploadStream(client, bucket, key, kmsKeyId);
  return batched({
    write: (chunk) => upload.write(chunk),
    done: () => upload.done(),
    abort: async () => {
      upload.stream.destroy();
      await upload.abort().catch(() => undefined);
    },
  });
}
