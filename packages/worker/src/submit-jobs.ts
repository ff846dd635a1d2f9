import { VideoLlavaError } from '@video-llava/core';
import { Queue } from 'bullmq';
import { type BatchJob, mediaKeyOfJob, parseBatchJob } from './batch-job.js';
import {
  type QueueConnectionOptions,
  connectionOptions,
  queueJobId,
  queueName,
  whenConnected,
} from './queue-connection.js';

/** Options of {@link submitJobs}. */
export interface SubmitJobsOptions extends QueueConnectionOptions {
  /**
   * How many times a job that throws (not for bad input: that fails at once) is tried in all before it fails.
   * Crashes of the worker process are bounded separately, by the workers' `maxStalledCount`.
   * @default 3
   */
  attempts?: number;
  /**
   * The wait before the first retry of a job that threw, doubled at each further retry.
   * @default 10000
   */
  backoffMs?: number;
  /**
   * Queue the jobs about the same videos and images next to each other (groups in the order of their first job),
   * so that a worker that takes them one after the other reuses the encoded prefix. `false` keeps the given order.
   * @default true
   */
  groupByMedia?: boolean;
}

/** What {@link submitJobs} did. */
export interface SubmitJobsResult {
  /** Ids of the jobs added now. */
  added: string[];
  /** Ids that were already in the queue (waiting, running, done or failed): not added again. */
  existing: string[];
}

/** Jobs added per Redis round trip. */
const CHUNK = 500;

/**
 * Adds jobs to the queue, each under its own id: a job whose id is already in the queue (from an earlier submission,
 * whatever its state) is left as it is, so submitting a file again after a crash adds only what is missing.
 *
 * @example
 * ```ts
 * const { added } = await submitJobs([{ id: 'clip-1', question: 'What happens?', videos: ['/data/clip-1.mp4'] }], { redis: 'redis://127.0.0.1:6379' });
 * ```
 * @throws VideoLlavaError `INVALID_ARGUMENT` for a job that is not a valid {@link BatchJob} (nothing is added then)
 *   or two jobs with one id; `CONNECTION_FAILED` when Redis does not answer
 */
export async function submitJobs(jobs: readonly BatchJob[], options: SubmitJobsOptions): Promise<SubmitJobsResult> {
  const checked = jobs.map((job, index) => parseBatchJob(job, `jobs[${index}]`));
  const seen = new Set<string>();
  for (const job of checked) {
    if (seen.has(job.id)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Two jobs have the id ${JSON.stringify(job.id)}; every job needs its own id.`,
        { field: 'id', expected: 'unique ids', actual: job.id },
      );
    }
    seen.add(job.id);
  }
  const ordered = options.groupByMedia === false ? checked : groupByMedia(checked);
  const queue = new Queue<BatchJob>(queueName(options), {
    connection: connectionOptions(options),
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  await whenConnected(queue, options);
  try {
    const added: string[] = [];
    const existing: string[] = [];
    for (let start = 0; start < ordered.length; start += CHUNK) {
      const chunk = ordered.slice(start, start + CHUNK);
      // Sent at once on the one connection: one round trip's wait for the chunk, not one per job.
      const states = await Promise.all(chunk.map((job) => queue.getJobState(queueJobId(job.id))));
      chunk.forEach((job, index) => (states[index] === 'unknown' ? added : existing).push(job.id));
      // BullMQ ignores an add whose job id exists, atomically: a job submitted twice at once is still one job.
      await queue.addBulk(
        chunk.map((job) => ({
          name: 'generate',
          data: job,
          opts: {
            jobId: queueJobId(job.id),
            attempts: options.attempts ?? 3,
            backoff: { type: 'exponential', delay: options.backoffMs ?? 10_000 },
            // Results stay until collected by a user who wants them gone (`obliterate`): they are what the ids dedupe against.
            removeOnComplete: false,
            removeOnFail: false,
          },
        })),
      );
    }
    return { added, existing };
  } finally {
    await queue.close();
  }
}

/** The jobs, those with the same media next to each other, groups in the order of their first job. */
function groupByMedia(jobs: readonly BatchJob[]): BatchJob[] {
  const groups = new Map<string, BatchJob[]>();
  for (const job of jobs) {
    const key = mediaKeyOfJob(job);
    const group = groups.get(key);
    if (group) group.push(job);
    else groups.set(key, [job]);
  }
  return [...groups.values()].flat();
}
