import { hostname } from 'node:os';
import { VideoLlavaError } from '@video-llava/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { VideoLlava, type VideoLlavaLoadOptions, type VideoLlavaPipeline, type VideoLlavaRequest } from 'video-llava';
import { type BatchAnswer, type BatchJob, type BatchJobError, parseBatchJob, requestOfJob } from './batch-job.js';
import { failureReason } from './job-failure.js';
import { mediaInput } from './media-input.js';
import { type QueueConnectionOptions, connectionOptions, queueName, whenConnected } from './queue-connection.js';

/** What a running job reports through the queue (`job.progress`), by stage. */
export interface BatchJobProgress {
  /** `decode` (media files, items), `encode` (through the vision encoders, items), `prefill` (prompt tokens), `tokens` (new tokens). */
  stage: 'decode' | 'encode' | 'prefill' | 'tokens';
  done: number;
  total?: number;
}

/** What a worker tells its owner (the CLI prints these). */
export type BatchWorkerEvent =
  | { type: 'active'; id: string; attempt: number }
  | { type: 'progress'; id: string; progress: BatchJobProgress }
  | { type: 'completed'; id: string; answer: BatchAnswer }
  | { type: 'failed'; id: string; error: BatchJobError; retry: boolean }
  | { type: 'error'; error: Error };

/** Options of {@link startWorker}. */
export interface StartWorkerOptions extends QueueConnectionOptions {
  /** A loaded model, or what `VideoLlava.load` takes (then it is loaded here with `loadOptions`, and released by `close`). */
  model: VideoLlavaPipeline | string;
  /** How to load `model` when it is given as a source. */
  loadOptions?: VideoLlavaLoadOptions;
  /**
   * Jobs run at once by this worker (all on the one model). On a CPU, 1 with all threads for ONNX Runtime is
   * usually fastest; more overlaps one job's media decoding with another's generation.
   * @default 1
   */
  concurrency?: number;
  /**
   * The worker's name, recorded with every job it answers (`processedBy`, and `worker` in the result).
   * @default `${hostname}-${pid}`
   */
  name?: string;
  /**
   * The folder relative media paths of jobs are resolved against.
   * @default process.cwd()
   */
  mediaRoot?: string;
  /**
   * How long a job stays locked to this worker without a renewal, in milliseconds. The worker renews it every half of
   * this while the job runs, so a job may run for hours; what this bounds is how long the event loop may be blocked
   * (a renewal missed because of it hands the job to another worker). After a crash, the job waits up to this plus
   * `stalledIntervalMs` before another worker takes it.
   * @default 60000
   */
  lockDurationMs?: number;
  /**
   * How often the worker looks for jobs whose worker died (lock expired), in milliseconds, and puts them back.
   * @default 30000
   */
  stalledIntervalMs?: number;
  /**
   * How many times a job may be put back after its worker died; once more and it fails (`WORKER_LOST`): a job that
   * crashes every worker that takes it (out of memory, a native crash) stops after this many crashes.
   * @default 2
   */
  maxStalledCount?: number;
  /**
   * The least time between two progress reports of one job within a stage, in milliseconds (a new stage is always
   * reported).
   * @default 250
   */
  progressIntervalMs?: number;
  /** Receives what the worker does, job by job. */
  onEvent?: (event: BatchWorkerEvent) => void;
}

/** A running worker. */
export interface BatchWorker {
  /** Its name (see {@link StartWorkerOptions.name}). */
  readonly name: string;
  /** The model it answers with: `model.model.statistics` counts encoder runs and reused prefix tokens. */
  readonly model: VideoLlavaPipeline;
  /** Jobs answered and failed (each attempt that threw counts once) since it started. */
  readonly counts: { completed: number; failed: number };
  /**
   * Stops taking jobs, lets the running ones finish, disconnects; releases the model if it loaded it.
   * `force` abandons the running jobs instead (another worker takes them after the lock expires).
   */
  close(force?: boolean): Promise<void>;
  /**
   * Closes the worker on the first of these signals (running jobs finish), forces it on the second; resolves once
   * it is closed. What `video-llava worker` does with SIGTERM and SIGINT.
   */
  closeOnSignals(signals?: readonly NodeJS.Signals[]): Promise<void>;
}

/** Codes of errors caused by the job itself: retrying cannot help, so the job fails at once. */
const BAD_INPUT_CODES = new Set([
  'INVALID_ARGUMENT',
  'FILE_NOT_FOUND',
  'INVALID_JSON',
  'UNSUPPORTED',
  'INVALID_FILE',
  'DECODE_FAILED',
  'SHAPE_MISMATCH',
  'DTYPE_MISMATCH',
  'TOKEN_COUNT_MISMATCH',
  'SEQUENCE_TOO_LONG',
]);

const STAGES: Record<string, BatchJobProgress['stage']> = {
  'decode-video': 'decode',
  'decode-image': 'decode',
  encode: 'encode',
  prefill: 'prefill',
  decode: 'tokens',
};

/** The error a failed attempt throws to BullMQ: unrecoverable for bad input, retried otherwise. */
function queueError(error: unknown): Error {
  const failure: BatchJobError = VideoLlavaError.isInstance(error)
    ? { code: error.code, message: error.message }
    : { code: 'JOB_FAILED', message: error instanceof Error ? error.message : String(error) };
  const reason = failureReason(failure);
  return BAD_INPUT_CODES.has(failure.code) ? new UnrecoverableError(reason) : new Error(reason);
}

/**
 * Starts a worker: loads the model once (unless given one), then answers the queue's jobs, reporting each job's
 * progress (`decode`, `encode`, `prefill`, `tokens`) through `job.updateProgress`. A job that fails for bad input
 * fails at once; other errors are retried (the job's `attempts`); a job whose worker dies is put back by the other
 * workers' stalled check, up to `maxStalledCount` times. Jobs about the video of this worker's previous job reuse its
 * encoded prefix (`submitJobs` queues such jobs next to each other).
 *
 * @example
 * ```ts
 * const worker = await startWorker({ model: 'path/to/converted-model', redis: 'redis://127.0.0.1:6379' });
 * await worker.closeOnSignals(); // until SIGTERM or SIGINT
 * ```
 * @throws VideoLlavaError `CONNECTION_FAILED` (Redis does not answer within `connectTimeoutMs`), `INVALID_ARGUMENT`,
 *   and what `VideoLlava.load` throws for a model given as a source
 */
export async function startWorker(options: StartWorkerOptions): Promise<BatchWorker> {
  const connection = connectionOptions(options);
  const name = queueName(options);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `concurrency must be an integer >= 1, found ${concurrency}.`, {
      field: 'concurrency',
      expected: 'an integer >= 1',
      actual: concurrency,
    });
  }
  const owned = typeof options.model === 'string';
  // Assigned once connected (Redis is checked first: a wrong URL fails in seconds, not after loading a model).
  let model!: VideoLlavaPipeline;
  const workerName = options.name ?? `${hostname()}-${process.pid}`;
  const mediaRoot = options.mediaRoot ?? process.cwd();
  const progressInterval = options.progressIntervalMs ?? 250;
  const emit = options.onEvent ?? (() => {});
  const counts = { completed: 0, failed: 0 };

  async function answer(job: Job<BatchJob, BatchAnswer>): Promise<BatchAnswer> {
    const started = Date.now();
    let firstToken: number | undefined;
    let parsed!: BatchJob;
    let request: VideoLlavaRequest;
    emit({ type: 'active', id: String(job.data?.id ?? job.id), attempt: job.attemptsStarted });
    let last = { stage: '', at: 0 };
    const onProgress = (event: { stage: string; done: number; total?: number }): void => {
      const stage = STAGES[event.stage];
      if (stage === undefined) return;
      if (stage === 'tokens') firstToken ??= Date.now();
      const now = Date.now();
      const finished = event.total !== undefined && event.done >= event.total;
      if (stage === last.stage && now - last.at < progressInterval && !finished) return;
      last = { stage, at: now };
      const progress: BatchJobProgress = {
        stage,
        done: event.done,
        ...(event.total === undefined ? {} : { total: event.total }),
      };
      emit({ type: 'progress', id: parsed.id, progress });
      // Progress is advisory: a failed write (Redis restarting) must not fail the job.
      job.updateProgress(progress as unknown as object).catch(() => {});
    };
    try {
      parsed = parseBatchJob(job.data, `job ${job.id}`);
      const videos = await Promise.all(
        (parsed.videos ?? []).map((video, index) => mediaInput(video, mediaRoot, `videos[${index}]`)),
      );
      const images = await Promise.all(
        (parsed.images ?? []).map((image, index) => mediaInput(image, mediaRoot, `images[${index}]`)),
      );
      request = { ...requestOfJob(parsed), videos, images, onProgress };
    } catch (error) {
      throw queueError(error);
    }
    const statistics = model.model.statistics;
    const reusedBefore = statistics.reusedPrefixTokens;
    let result;
    try {
      result = await model.generate(request);
    } catch (error) {
      throw queueError(error);
    }
    const finished = Date.now();
    return {
      id: parsed.id,
      text: result.text,
      ids: result.ids,
      finishReason: result.finishReason,
      promptTokens: result.promptTokens,
      timings: {
        queueMs: Math.max(0, (job.processedOn ?? started) - job.timestamp),
        firstTokenMs: (firstToken ?? finished) - started,
        totalMs: finished - started,
      },
      worker: workerName,
      ...(concurrency === 1 ? { reusedPrefixTokens: statistics.reusedPrefixTokens - reusedBefore } : {}),
    };
  }

  const worker = new Worker<BatchJob, BatchAnswer>(name, answer, {
    connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    name: workerName,
    concurrency,
    lockDuration: options.lockDurationMs ?? 60_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on('completed', (_job, answer) => {
    counts.completed++;
    emit({ type: 'completed', id: answer.id, answer });
  });
  worker.on('failed', (job, error) => {
    counts.failed++;
    if (!job) return;
    const tagged = /^\[([A-Z][A-Z0-9_]*)\] ([\s\S]*)$/.exec(error.message);
    const failure = tagged ? { code: tagged[1]!, message: tagged[2]! } : { code: 'JOB_FAILED', message: error.message };
    const retry = !(error instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
    emit({ type: 'failed', id: String(job.data?.id ?? job.id), error: failure, retry });
  });
  // Errors of the connection (Redis gone for a moment) are reported; ioredis reconnects by itself.
  await whenConnected(worker, options, (error) => emit({ type: 'error', error }));
  try {
    model =
      typeof options.model === 'string'
        ? await VideoLlava.load(options.model, options.loadOptions ?? {})
        : options.model;
  } catch (error) {
    await worker.close(true);
    throw error;
  }
  void worker
    .run()
    .catch((error: unknown) =>
      emit({ type: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );

  let closing: Promise<void> | undefined;
  const close = (force = false): Promise<void> => {
    if (force) {
      return worker.close(true).then(async () => {
        if (owned) await model.release();
      });
    }
    closing ??= worker.close().then(async () => {
      if (owned) await model.release();
    });
    return closing;
  };

  return {
    name: workerName,
    model,
    counts,
    close,
    closeOnSignals(signals = ['SIGTERM', 'SIGINT']) {
      return new Promise<void>((resolve, reject) => {
        let received = 0;
        const onSignal = (): void => {
          received++;
          (received === 1 ? close() : close(true)).then(() => {
            for (const signal of signals) process.off(signal, onSignal);
            resolve();
          }, reject);
        };
        for (const signal of signals) process.on(signal, onSignal);
      });
    },
  };
}
