import { resolve } from 'node:path';
import { type BatchWorkerEvent, DEFAULT_QUEUE_NAME, startWorker } from '@video-llava/worker';
import { type CliCommand, type CliIo, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';
import { modelLoadFlags, modelLoadOptions, parseModelLoadFlags } from '../model-load-arguments.js';
import { sourceFlags, sourceOptionsFromFlags } from '../model-source-arguments.js';

const usage = [
  'video-llava worker <model-dir | org/name[@revision] | https://...> --redis redis://host:port',
  '                   [--queue NAME] [--concurrency N] [--dtype fp32|fp16|q8|q4|...] [--threads N]',
  '                   [--kv-cache float32|int8] [--prepack-cache on|DIR|off]',
  '                   [--name NAME] [--media-root <dir>] [--quiet] [--cache-dir <dir>] [--offline]',
].join('\n');

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 1)
    throw new UsageError(`--${flag} must be an integer >= 1, found ${JSON.stringify(value)}`, usage);
  return parsed;
}

/**
 * `--dtype` and `--threads` as `VideoLlava.load` options (the file variant, ONNX Runtime's intra-op threads).
 * Kept to this one function so that a helper shared by every command can replace it.
 */

/** One stderr line per job event (progress within a job is for `batch results` and the queue, not the log). */
function eventPrinter(io: CliIo): (event: BatchWorkerEvent) => void {
  return (event) => {
    if (event.type === 'active')
      io.stderr.write(`[active] ${event.id}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}\n`);
    else if (event.type === 'completed')
      io.stderr.write(`[done] ${event.id}: ${event.answer.ids.length} tokens in ${event.answer.timings.totalMs} ms\n`);
    else if (event.type === 'failed')
      io.stderr.write(
        `[failed] ${event.id}: ${event.error.code}: ${event.error.message}${event.retry ? ' (will be retried)' : ''}\n`,
      );
    else if (event.type === 'error') io.stderr.write(`[error] ${event.error.message}\n`);
  };
}

/**
 * `video-llava worker`: loads the model once and answers the jobs of a BullMQ queue on Redis until SIGTERM or SIGINT
 * (the running jobs finish first; a second signal stops at once, and another worker takes the jobs over).
 */
export const command: CliCommand = defineCommand({
  name: 'worker',
  summary: 'Answer batch jobs from a Redis queue (BullMQ) until SIGTERM',
  usage,
  options: {
    redis: { type: 'string', value: 'URL', description: 'the Redis server, e.g. redis://127.0.0.1:6379 (required)' },
    queue: { type: 'string', value: 'NAME', description: `the queue to answer (default: ${DEFAULT_QUEUE_NAME})` },
    concurrency: { type: 'string', value: 'N', description: 'jobs run at once on the one model (default: 1)' },
    ...modelLoadFlags,
    name: { type: 'string', value: 'NAME', description: 'the name results record as `worker` (default: host-pid)' },
    'media-root': {
      type: 'string',
      value: '<dir>',
      description: 'the folder relative media paths of jobs resolve against (default: the working directory)',
    },
    quiet: { type: 'boolean', default: false, description: 'no line per job on stderr' },
    ...sourceFlags,
  },
  positionals: [
    { name: '<model-dir>', description: 'a converted model folder (video-llava convert), a hub id or a URL' },
  ],
  async run({ values, positionals: [model] }, io) {
    if (values.redis === undefined) throw new UsageError('give --redis URL (e.g. redis://127.0.0.1:6379)', usage);
    const concurrency = positiveInteger(values.concurrency, 'concurrency') ?? 1;
    const loadOptions = modelLoadOptions(model, parseModelLoadFlags(values, usage), io);
    const worker = await startWorker({
      model,
      loadOptions: { ...loadOptions, sourceOptions: sourceOptionsFromFlags(values, io) },
      redis: values.redis,
      ...(values.queue === undefined ? {} : { queue: values.queue }),
      ...(values.name === undefined ? {} : { name: values.name }),
      mediaRoot: resolve(io.cwd, values['media-root'] ?? '.'),
      concurrency,
      ...(values.quiet ? {} : { onEvent: eventPrinter(io) }),
    });
    io.stderr.write(
      `[worker] ${worker.name} answers queue ${values.queue ?? DEFAULT_QUEUE_NAME} on ${values.redis} (${concurrency} at a time); SIGTERM or Ctrl-C stops it after the running jobs\n`,
    );
    await worker.closeOnSignals();
    io.stderr.write(`[worker] stopped: ${worker.counts.completed} done, ${worker.counts.failed} failed\n`);
    return 0;
  },
});
