import type { Job } from 'bullmq';
import type { BatchJobError } from './batch-job.js';

/**
 * A failure as the worker records it in BullMQ's `failedReason` (a plain string): `[CODE] message`. The code is our
 * own tag at the start, so reading it back never depends on the wording of a message.
 */
export function failureReason(error: BatchJobError): string {
  return `[${error.code}] ${error.message}`;
}

const TAGGED = /^\[([A-Z][A-Z0-9_]*)\] ([\s\S]*)$/;

/** The error of a failed job: the code the worker tagged, `WORKER_LOST` after crashes, `JOB_FAILED` otherwise. */
export function failureOfJob(job: Job): BatchJobError {
  const reason = job.failedReason ?? '';
  const tagged = TAGGED.exec(reason);
  if (tagged) return { code: tagged[1]!, message: tagged[2]! };
  // Only BullMQ itself fails a job without our tag: a job whose workers kept dying while running it.
  if ((job.stalledCounter ?? 0) > 0)
    return {
      code: 'WORKER_LOST',
      message: `Workers stopped while running this job ${job.stalledCounter} time(s) (crashed, killed or out of memory): ${reason}`,
    };
  return { code: 'JOB_FAILED', message: reason };
}
