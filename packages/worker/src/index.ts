// @video-llava/worker: batch Video-LLaVA questions on BullMQ and Redis (Node.js only).
export { startWorker } from './start-worker.js';
export type { BatchJobProgress, BatchWorker, BatchWorkerEvent, StartWorkerOptions } from './start-worker.js';
export { submitJobs } from './submit-jobs.js';
export type { SubmitJobsOptions, SubmitJobsResult } from './submit-jobs.js';
export { collectResults, queueCounts } from './collect-results.js';
export type { CollectResultsOptions, QueueCounts } from './collect-results.js';
export { isBatchFailure, parseBatchJob, parseBatchJobLines, requestOfJob } from './batch-job.js';
export type {
  BatchAnswer,
  BatchFailure,
  BatchGenerationOptions,
  BatchJob,
  BatchJobError,
  BatchJobTimings,
  BatchResult,
} from './batch-job.js';
export { DEFAULT_QUEUE_NAME } from './queue-connection.js';
export type { QueueConnectionOptions } from './queue-connection.js';
