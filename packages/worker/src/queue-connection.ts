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
  /**
   * How long to wait for Redis when connecting, in milliseconds, before failing with `CONNECTION_FAILED`. Once
   * connected, a Redis that goes away (a restart) is waited for: commands resume when it is back.
   * @default 10000
   */
  connectTimeoutMs?: number;
}

/** The default queue name. */
export const DEFAULT_QUEUE_NAME = 'video-llava';

/** BullMQ's connection options for a Redis URL, checked. */
export function connectionOptions(options: QueueConnectionOptions): ConnectionOptions {
  let url: URL;
  try {
    url = new URL(options.redis);
  } catch (error) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `redis must be a URL like redis://127.0.0.1:6379, found ${JSON.stringify(options.redis)}.`,
      { field: 'redis', expected: 'redis://host:port', actual: options.redis, cause: error },
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `redis must be a redis:// or rediss:// URL, found ${JSON.stringify(options.redis)}.`,
      { field: 'redis', expected: 'redis://host:port', actual: options.redis },
    );
  }
  return { url: options.redis };
}

/** The queue name, checked (BullMQ keys are `prefix:name:...`, so a name has no colon). */
export function queueName(options: QueueConnectionOptions): string {
  const name = options.queue ?? DEFAULT_QUEUE_NAME;
  if (name === '' || name.includes(':')) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `queue must be a non-empty name without ":", found ${JSON.stringify(name)}.`,
      { field: 'queue', expected: 'a name without ":"', actual: name },
    );
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

/** The URL with its password hidden, for messages. */
function redacted(redis: string): string {
  try {
    const url = new URL(redis);
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return redis;
  }
}

/** What {@link whenConnected} waits on: a BullMQ `Queue` or `Worker`. */
interface Connecting {
  waitUntilReady(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): Promise<void>;
}

/**
 * Waits until a queue or worker has connected to Redis. Its connection errors are taken over here: ioredis reconnects
 * by itself, so after the first connection they are only reported to `onError` (a Redis restart is waited out).
 *
 * @throws VideoLlavaError `CONNECTION_FAILED` when Redis does not answer within `connectTimeoutMs` (the handle is closed)
 */
export async function whenConnected(
  handle: Connecting,
  options: QueueConnectionOptions,
  onError: (error: Error) => void = () => {},
): Promise<void> {
  let lastError: Error | undefined;
  handle.on('error', (error) => {
    lastError = error;
    onError(error);
  });
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const ready = await Promise.race([handle.waitUntilReady().then(() => true), timedOut]);
  clearTimeout(timer);
  if (ready) return;
  // Closing a connection that never opened can wait on its retries: give it a moment, not the caller's time.
  await Promise.race([handle.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  const because = lastError ? ` (${lastError.message})` : '';
  throw new VideoLlavaError(
    'CONNECTION_FAILED',
    `Cannot reach Redis at ${redacted(options.redis)} within ${timeoutMs} ms${because}: start it, or check the URL.`,
    {
      field: 'redis',
      expected: 'a Redis server that answers',
      actual: lastError?.message ?? 'no answer',
      cause: lastError,
    },
  );
}
