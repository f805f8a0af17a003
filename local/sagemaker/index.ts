/** The local SageMaker stand-in: the fake API, and the pieces tests and the runner reach for. */
export {
  LocalSageMaker,
  type BodyTiming,
  type JobKind,
  type JobStatus,
  type LocalJobEvent,
  type LocalSageMakerOptions,
} from './api.js';
export { channelRelativePath, jobLayout, mapContainerPath, type JobLayout } from './layout.js';
export { modelArtifactsUri, SageMakerLocalError, stageOf } from './requests.js';
export { baseEnv, DEFAULT_JOBS_DIR, defaultPython, FAIL_STAGE_ENV } from './supervisor.js';
export { coldLauncher, DEFAULT_PRELOAD, warmLauncher, type JobLauncher, type LaunchMode } from './warm.js';
