/**
 * Local folders ↔ S3 prefixes, the one place local mode copies whole trees: base models
 * into the models bucket, a job's channels onto disk and its outputs back, a finished run
 * into `<workdir>/runs/`. Files are put whole (they are small in local mode).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { listKeys } from '../functions/shared/s3-objects.js';

/** Every file below `folder`, depth first in name order; nothing when the folder is absent. */
export function* walkFiles(folder: string): Generator<string> {
  if (!existsSync(folder)) return;
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) yield* walkFiles(path);
    else yield path;
  }
}

export interface UploadFolderOptions {
  /** SSE-KMS key for every object (the bucket default applies when absent). */
  kmsKeyId?: string;
  /** Files to leave local, by their `/`-separated path relative to the folder. */
  skip?: (relativePath: string) => boolean;
}

/** Puts every file of `folder` at `prefix` + its relative path; returns how many were put. */
export async function uploadFolder(
  s3: S3Client,
  folder: string,
  bucket: string,
  prefix: string,
  options: UploadFolderOptions = {},
): Promise<number> {
  let count = 0;
  for (const file of walkFiles(folder)) {
    const path = relative(folder, file).split(sep).join('/');
    if (options.skip?.(path)) continue;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: prefix + path,
        Body: readFileSync(file),
        ...(options.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: options.kmsKeyId } : {}),
      }),
    );
    count += 1;
  }
  return count;
}

/**
 * Writes every object under `prefix` to `target`/`placeOf(key)` (folder markers skipped);
 * returns how many were written. A key that would land outside `target` is refused, so an
 * object name can never write elsewhere on this machine.
 */
export async function downloadPrefix(
  s3: S3Client,
  bucket: string,
  prefix: string,
  target: string,
  placeOf: (key: string) => string,
): Promise<number> {
  let count = 0;
  for await (const object of listKeys(s3, bucket, prefix)) {
    if (object.key.endsWith('/')) continue;
    const file = join(target, placeOf(object.key));
    if (!resolve(file).startsWith(resolve(target) + sep))
      throw new Error(`object key escapes the target folder: ${object.key}`);
    mkdirSync(dirname(file), { recursive: true });
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
    await pipeline(out.Body as Readable, createWriteStream(file));
    count += 1;
  }
  return count;
}
