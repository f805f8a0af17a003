/** The one builder of SageMaker CreateTrainingJob / CreateProcessingJob requests. */
export * from './sagemaker-request.js';
export * from './poll-interval.js';
