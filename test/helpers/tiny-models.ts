/**
 * The tiny base models of local mode, built once per test run and shared by every file that runs
 * the pipeline: each build is two Python processes importing torch (≈ 11 s of CPU), which every
 * such file used to pay in its own workdir.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildTinyModels } from '../../local/bootstrap.js';
import type { BaseModelFolders } from '../../local/runner.js';
import { DEFAULT_JOBS_DIR, defaultPython } from '../../local/sagemaker/index.js';

/** Names the shared folder; set by test/helpers/global-setup.ts. */
export const TINY_MODELS_ENV = 'REWARDDS_TEST_TINY_MODELS';

/**
 * The shared tiny models (built now if no file built them yet), for runLocal's `baseModels`.
 * Without the global setup (a file run outside vitest's config) undefined: the run builds its own.
 */
export async function sharedTinyModels(): Promise<BaseModelFolders | undefined> {
  const shared = process.env[TINY_MODELS_ENV];
  if (!shared) return undefined;
  const folders = await buildTinyModels(shared, { python: defaultPython(), jobsDir: DEFAULT_JOBS_DIR });
  return { proxy: folders.proxy!, target: folders.target! };
}

/** Makes `<workdir>/models` the shared tiny models, for a run started by the CLI (which builds there). */
export async function linkSharedTinyModels(workdir: string): Promise<void> {
  if (!(await sharedTinyModels())) return;
  mkdirSync(workdir, { recursive: true });
  symlinkSync(process.env[TINY_MODELS_ENV]!, join(workdir, 'models'));
}
