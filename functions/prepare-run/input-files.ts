/**
 * Streams one uploaded JSONL file through validation and normalization into one output
 * object. The file is never held whole: one line in memory, ids in a set, and the output
 * is a multipart upload that appears complete or not at all.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { InputError, readJsonl, toJsonlLine } from '../../core/jsonl/index.js';
import { DuplicateIdGuard, type NormalizedRecord, normalizePrompt, normalizeRecord } from './normalize.js';
import { getObjectStream, uploadStream } from '../shared/s3-objects.js';

/** docs/design.md#inputs limit: a longer line is refused rather than buffered. */
export const MAX_RECORD_BYTES = 1024 * 1024;

export interface Location {
  bucket: string;
  key: string;
}

export type FileKind = 'records' | 'prompts';

/**
 * Reads `from`, writes normalized lines to `to`; returns the record count. Throws
 * InputError (naming `from.key`) on the first bad line and on an empty file, after
 * aborting the output so no partial object is left.
 */
export async function normalizeFile(
  s3: S3Client,
  from: Location,
  to: Location & { kmsKeyId?: string },
  kind: FileKind,
  /** Records appended after the file's own (the audit's canaries), checked against its ids. */
  extra: readonly NormalizedRecord[] = [],
): Promise<number> {
  const source = await getObjectStream(s3, from.bucket, from.key);
  const out = uploadStream(s3, to.bucket, to.key, to.kmsKeyId);
  const ids = new DuplicateIdGuard(from.key);
  let count = 0;
  try {
    for await (const { line, value } of readJsonl(source, from.key, { maxLineBytes: MAX_RECORD_BYTES })) {
      const origin = { file: from.key, line };
      const record = kind === 'records' ? normalizeRecord(value, origin) : normalizePrompt(value, origin);
      ids.check(record.id, line);
      await out.write(toJsonlLine(record));
      count += 1;
    }
    if (count === 0) throw new InputError(from.key, undefined, undefined, 'empty file: no records');
    for (const record of extra) {
      if (!ids.add(record.id))
        throw new InputError(
          from.key,
          undefined,
          'id',
          'ids starting with rewardds-canary- are reserved for the audit',
        );
      await out.write(toJsonlLine(record));
      count += 1;
    }
    await out.done();
    return count;
  } catch (error) {
    await out.abort().catch(() => undefined);
    out.stream.destroy();
    throw error;
  } finally {
    source.destroy();
  }
}
