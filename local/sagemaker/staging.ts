/**
 * S3 ↔ disk for one job, as SageMaker stages it: before the job, every input channel (or
 * processing input) downloaded into the layout, plus hyperparameters.json; after a job that
 * succeeded, the model and output data (or each processing output) uploaded with the
 * request's KMS key.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseS3Uri } from '../../core/contract/index.js';
import { downloadPrefix, uploadFolder } from '../s3-folders.js';
import { channelRelativePath, mapContainerPath, writeJsonFile, type JobLayout } from './layout.js';
import { modelArtifactsUri, type JobRequest } from './requests.js';

/** A processing output: the local folder the job writes, and where it goes once the job succeeds. */
export interface StagedOutput {
  local: string;
  uri: string;
}

export type StagedInputs =
  | {
      ok: true;
      outputs: StagedOutput[];
      channelEnv: Record<string, string>;
      /** Each input (channel or processing input) by name → the folder it was downloaded to. */
      inputs: Record<string, string>;
    }
  /** An input prefix with no object: SageMaker fails such a job before it starts. */
  | { ok: false; reason: string };

export async function stageInputs(s3: S3Client, job: JobRequest, layout: JobLayout): Promise<StagedInputs> {
  if (job.kind === 'training') {
    const channelEnv: Record<string, string> = {};
    const inputs: Record<string, string> = {};
    // SageMaker writes the hyperparameters map as this file; the job reads `stage` from it.
    writeJsonFile(join(layout.input, 'config', 'hyperparameters.json'), job.request.HyperParameters ?? {});
    for (const channel of job.request.InputDataConfig ?? []) {
      const uri = channel.DataSource?.S3DataSource?.S3Uri;
      if (!channel.ChannelName || !uri) throw new Error(`channel ${channel.ChannelName ?? '?'} has no S3 source`);
      const target = join(layout.input, 'data', channel.ChannelName);
      if (!(await downloadChannel(s3, uri, target))) return noObjects(uri);
      channelEnv[`SM_CHANNEL_${channel.ChannelName.toUpperCase().replace(/-/g, '_')}`] = target;
      inputs[channel.ChannelName] = target;
    }
    return { ok: true, outputs: [], channelEnv, inputs };
  }
  const inputs: Record<string, string> = {};
  for (const input of job.request.ProcessingInputs ?? []) {
    const uri = input.S3Input?.S3Uri;
    const localPath = input.S3Input?.LocalPath;
    if (!uri || !localPath) throw new Error(`processing input ${input.InputName ?? '?'} has no S3Input`);
    const target = mapContainerPath(localPath, layout);
    if (!(await downloadChannel(s3, uri, target))) return noObjects(uri);
    inputs[input.InputName ?? localPath] = target;
  }
  const outputs = (job.request.ProcessingOutputConfig?.Outputs ?? []).map((output) => {
    const local = mapContainerPath(output.S3Output!.LocalPath!, layout);
    mkdirSync(local, { recursive: true });
    return { local, uri: output.S3Output!.S3Uri! };
  });
  return { ok: true, outputs, channelEnv: {}, inputs };
}

/**
 * Every folder a finished job's outputs are uploaded from, by name, with where it goes:
 * a training job's model and output data, or each processing output.
 */
export function outputLocations(
  job: JobRequest,
  layout: JobLayout,
  outputs: StagedOutput[],
): (StagedOutput & { name: string })[] {
  if (job.kind === 'training') {
    const modelUri = modelArtifactsUri(job.request);
    return [
      { name: 'model', local: layout.model, uri: modelUri },
      { name: 'data', local: layout.outputData, uri: modelUri.replace(/model\/$/, 'data/') },
    ];
  }
  const names = (job.request.ProcessingOutputConfig?.Outputs ?? []).map((o) => o.OutputName ?? '');
  return outputs.map((output, i) => ({ ...output, name: names[i] || `output-${i}` }));
}

export async function uploadOutputs(s3: S3Client, job: JobRequest, layout: JobLayout, outputs: StagedOutput[]) {
  const kmsKeyId =
    job.kind === 'training' ? job.request.OutputDataConfig?.KmsKeyId : job.request.ProcessingOutputConfig?.KmsKeyId;
  for (const output of outputLocations(job, layout, outputs))
    if (existsSync(output.local)) await uploadToUri(s3, output.local, output.uri, kmsKeyId);
}

const noObjects = (uri: string): StagedInputs => ({
  ok: false,
  reason: `ClientError: No S3 objects found under S3 URL "${uri}" given in input data source`,
});

/** S3Prefix semantics: every object under the prefix, laid out relative to the prefix's folder. */
async function downloadChannel(s3: S3Client, uri: string, target: string): Promise<boolean> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  mkdirSync(target, { recursive: true });
  return (await downloadPrefix(s3, bucket, prefix, target, (key) => channelRelativePath(prefix, key))) > 0;
}

async function uploadToUri(s3: S3Client, folder: string, uri: string, kmsKeyId?: string) {
  const { bucket, key } = parseS3Uri(uri);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  await uploadFolder(s3, folder, bucket, prefix, { kmsKeyId });
}
