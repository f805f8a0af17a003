/**
 * Bad input ends the run before any job: the upload is kept (copied to quarantine, never
 * deleted), a machine-readable report is written beside it, and the Lambda throws
 * InputRejected, which the execution shows. Nothing here quotes a record.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { InputError } from '../../core/jsonl/index.js';
import { privateKeys, type Upload } from '../../core/contract/index.js';
import { copyObject, putJson } from '../shared/s3-objects.js';

/** The error the state machine sees; its message names file, line and field. */
export class InputRejected extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(error: InputError) {
    super(error.message);
    this.name = 'InputRejected';
    this.file = error.file;
    this.line = error.line;
    this.field = error.field;
  }
}

/** What `quarantine/<upload>.error.json` holds. */
export interface QuarantineReport {
  upload: Upload;
  file: string;
  line: number | null;
  field: string | null;
  reason: string;
  at: string;
}

export function quarantineReport(upload: Upload, error: InputError, at: Date): QuarantineReport {
  return {
    upload,
    file: error.file,
    line: error.line ?? null,
    field: error.field ?? null,
    reason: error.reason,
    at: at.toISOString(),
  };
}

/** Copies the upload aside and writes the report; the original object stays where it is. */
export async function quarantine(
  s3: S3Client,
  upload: Upload,
  error: InputError,
  { kmsKeyId, now }: { kmsKeyId?: string; now: Date },
): Promise<QuarantineReport> {
  const report = quarantineReport(upload, error, now);
  await copyObject(s3, upload, { bucket: upload.bucket, key: privateKeys.quarantined(upload.key) }, kmsKeyId);
  await putJson(s3, upload.bucket, privateKeys.quarantineReport(upload.key), report, kmsKeyId);
  return report;
}
