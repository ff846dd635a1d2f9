import { VideoLlavaError } from '@video-llava/core';
import type { ConnectionOptions } from 'bullmq';

/** Where the queue lives: what `startWorker`, `submitJobs` and `collectResults` share. */
export interface QueueConnectionOptions {
  /** The Redis server, as a URL: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  redis: string;
  /**
   * The queue's name: workers answer the jobs submitted under the same name.
   * @default 'video-llava'
   */
  queue?: string;
  /**
   * The prefix of every Redis key of the queue.
   * @default 'bull' (BullMQ's)
   */
  prefix?: string;
}

/** The default queue name. */
export const DEFAULT_QUEUE_NAME = 'video-llava';

/** BullMQ's connection options for a Redis URL, checked. */
export function connectionOptions(options: QueueConnectionOptions): ConnectionOptions {
  let url: URL;
  try {
    url = new URL(options.redis);
  } catch (error) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `redis must be a URL like redis://127.0.0.1:6379, found ${JSON.stringify(options.redis)}.`, { field: 'redis', expected: 'redis://host:port', actual: options.redis, cause: error });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new VideoLlavaError('INVALID_ARGUMENT', `redis must be a redis:// or rediss:// URL, found ${JSON.stringify(options.redis)}.`, { field: 'redis', expected: 'redis://host:port', actual: options.redis });
  }
  return { url: options.redis };
}

/** The queue name, checked (BullMQ keys are `prefix:name:...`, so a name has no colon). */
export function queueName(options: QueueConnectionOptions): string {
  const name = options.queue ?? DEFAULT_QUEUE_NAME;
  if (name === '' || name.includes(':')) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `queue must be a non-empty name without ":", found ${JSON.stringify(name)}.`, { field: 'queue', expected: 'a name without ":"', actual: name });
  }
  return name;
}

/**
 * The BullMQ job id of a batch job id. BullMQ refuses ids that are integers or hold a colon, and users number their
 * jobs: the id is prefixed and percent-encoded, so that every string is a valid, distinct BullMQ id.
 */
export function queueJobId(id: string): string {
  return `job-${encodeURIComponent(id)}`;
}
