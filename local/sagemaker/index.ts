/** The local SageMaker stand-in: the fake API, and the pieces tests and the runner reach for. */
export { LocalSageMaker, type JobKind, type JobStatus, type LocalJobEvent, type LocalSageMakerOptions } from './api.js';
export { channelRelativePath, jobLayout, mapContainerPath, type JobLayout } from './layout.js';
export { modelArtifactsUri, SageMakerLocalError, stageOf } from './requests.js';
export { defaultPython, FAIL_STAGE_ENV } from './supervisor.js';
