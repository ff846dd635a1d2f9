import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, Queue } from 'bullmq';
import type { BatchAnswer, BatchJob, BatchResult } from './batch-job.js';
import { failureOfJob } from './job-failure.js';
import { type QueueConnectionOptions, connectionOptions, queueName, whenConnected } from './queue-connection.js';

/** How many jobs of the queue are where. */
export interface QueueCounts {
  /** Answered. */
  done: number;
  /** Failed for good (bad input, attempts or crash retries used up). */
  failed: number;
  /** Not started yet, or waiting for a retry. */
  waiting: number;
  /** Running on a worker now. */
  active: number;
}

/** Options of {@link collectResults}. */
export interface CollectResultsOptions extends QueueConnectionOptions {
  /**
   * Keep going until no job is waiting or running (every submitted job is done or failed); otherwise give the
   * results there are now.
   * @default false
   */
  wait?: boolean;
  /**
   * How often the queue is read while waiting, in milliseconds.
   * @default 500
   */
  pollIntervalMs?: number;
  /** Called with the counts at every read (for a progress bar). */
  onCounts?: (counts: QueueCounts) => void;
  /** Stops collecting (the generator returns). */
  signal?: AbortSignal;
}

/** Jobs read per Redis round trip. */
const PAGE = 500;

/** The counts of a queue. */
export async function queueCounts(queue: Queue): Promise<QueueCounts> {
  const counts = await queue.getJobCounts(
    'completed',
    'failed',
    'waiting',
    'prioritized',
    'delayed',
    'waiting-children',
    'active',
  );
  return {
    done: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    waiting:
      (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0) + (counts['waiting-children'] ?? 0),
    active: counts.active ?? 0,
  };
}

/** The result a finished job holds. */
export function resultOfJob(job: Job<BatchJob, BatchAnswer>, state: 'completed' | 'failed'): BatchResult {
  if (state === 'completed') return job.returnvalue;
  return { id: job.data.id, error: failureOfJob(job) };
}

/**
 * Every finished job's result (its answer, or its error), each job once, in the order they finished (roughly: a
 * final sweep adds any a reordering hid). Results stay in the queue: collecting again gives them again.
 *
 * @example
 * ```ts
 * for await (const result of collectResults({ redis: 'redis://127.0.0.1:6379', wait: true })) {
 *   if ('error' in result) console.error(result.id, result.error.code);
 *   else console.log(result.id, result.text);
 * }
 * ```
 * @throws VideoLlavaError `CONNECTION_FAILED` when Redis does not answer within `connectTimeoutMs`
 */
export async function* collectResults(options: CollectResultsOptions): AsyncGenerator<BatchResult, void, void> {
  const queue = new Queue<BatchJob, BatchAnswer>(queueName(options), {
    connection: connectionOptions(options),
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  await whenConnected(queue, options);
  const seen = new Set<string>();
  const offsets = { completed: 0, failed: 0 };
  const interval = options.pollIntervalMs ?? 500;
  async function* sweep(
    state: 'completed' | 'failed',
    from: number,
    total: number,
  ): AsyncGenerator<BatchResult, void, void> {
    for (let start = from; start < total; start += PAGE) {
      const jobs = await queue.getJobs([state], start, Math.min(start + PAGE, total) - 1, true);
      for (const job of jobs) {
        if (!job?.id || seen.has(job.id)) continue;
        seen.add(job.id);
        yield resultOfJob(job, state);
      }
    }
  }
  try {
    for (;;) {
      const counts = await queueCounts(queue);
      options.onCounts?.(counts);
      const settled = counts.waiting === 0 && counts.active === 0;
      const last = !options.wait || settled || options.signal?.aborted;
      for (const [state, total] of [
        ['completed', counts.done],
        ['failed', counts.failed],
      ] as const) {
        // Finished sets are ordered by finish time, so new results come at the end; on the last pass (or if the set
        // shrank) everything is swept again, as workers' clocks can finish a job "before" one already read.
        const from = last || total < offsets[state] ? 0 : offsets[state];
        yield* sweep(state, from, total);
        offsets[state] = total;
      }
      if (last) return;
      try {
        await sleep(interval, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        // aborted: one last pass above
      }
    }
  } finally {
    await queue.close();
  }
}
