import { open, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import {
  type BatchJob,
  DEFAULT_QUEUE_NAME,
  type QueueCounts,
  collectResults,
  isBatchFailure,
  parseBatchJobLines,
  submitJobs,
} from '@video-llava/worker';
import { type CliCommand, type CliIo, UsageError } from '../command.js';
import { defineCommand } from '../define-command.js';

const usage = [
  'video-llava batch submit <jobs.jsonl> --redis redis://host:port [--queue NAME] [--attempts N]',
  'video-llava batch results --redis redis://host:port [--queue NAME] [--wait] [--out results.jsonl]',
].join('\n');

const queueFlags = {
  redis: { type: 'string', value: 'URL', description: 'the Redis server, e.g. redis://127.0.0.1:6379 (required)' },
  queue: { type: 'string', value: 'NAME', description: `the queue (default: ${DEFAULT_QUEUE_NAME})` },
} as const;

function redisOf(values: { redis?: string | undefined }): string {
  if (values.redis === undefined) throw new UsageError('give --redis URL (e.g. redis://127.0.0.1:6379)', usage);
  return values.redis;
}

/** A job's relative media paths, resolved against the folder of the jobs file (URLs and absolute paths stay). */
function withAbsoluteMedia(job: BatchJob, folder: string): BatchJob {
  const absolute = (file: string): string =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(file) || isAbsolute(file) ? file : resolve(folder, file);
  return {
    ...job,
    ...(job.videos ? { videos: job.videos.map(absolute) } : {}),
    ...(job.images ? { images: job.images.map(absolute) } : {}),
  };
}

const submit = defineCommand({
  name: 'batch submit',
  summary: 'Queue the jobs of a JSONL file (one job a line); ids already queued are not added again',
  usage,
  options: {
    ...queueFlags,
    attempts: {
      type: 'string',
      value: 'N',
      description: 'tries of a job that throws, in all (bad input fails at once; default: 3)',
    },
  },
  positionals: [
    {
      name: '<jobs.jsonl>',
      description: 'one job a line: {"id", "question" | "prompt" | "messages", "videos", "images", ...options}',
    },
  ],
  async run({ values, positionals: [file] }, io) {
    const redis = redisOf(values);
    const attempts = values.attempts === undefined ? undefined : Number(values.attempts);
    if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1))
      throw new UsageError(`--attempts must be an integer >= 1, found ${JSON.stringify(values.attempts)}`, usage);
    const path = resolve(io.cwd, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new VideoLlavaError('FILE_NOT_FOUND', `${path}: cannot read the jobs file (${(error as Error).message}).`, {
        file: path,
        cause: error,
      });
    }
    // Relative media paths name files next to the jobs file, wherever the workers run from.
    const jobs = parseBatchJobLines(text, path).map((job) => withAbsoluteMedia(job, dirname(path)));
    const result = await submitJobs(jobs, {
      redis,
      ...(values.queue === undefined ? {} : { queue: values.queue }),
      ...(attempts === undefined ? {} : { attempts }),
    });
    io.stdout.write(
      `${jobs.length} jobs: ${result.added.length} added, ${result.existing.length} already in the queue\n`,
    );
    return 0;
  },
});

/** The counts as a bar on a terminal (rewritten in place), or as a line whenever they change. */
function countsPrinter(io: CliIo): { update: (counts: QueueCounts) => void; end: () => void } {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let last = '';
  return {
    update(counts) {
      const total = counts.done + counts.failed + counts.waiting + counts.active;
      const text = `done ${counts.done}, failed ${counts.failed}, waiting ${counts.waiting}, active ${counts.active}`;
      if (text === last) return;
      last = text;
      if (!tty) {
        io.stderr.write(`[batch] ${text}\n`);
        return;
      }
      const width = 30;
      const filled = total === 0 ? width : Math.round(((counts.done + counts.failed) / total) * width);
      io.stderr.write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${counts.done + counts.failed}/${total} ${text}\u001b[K`,
      );
    },
    end() {
      if (tty && last !== '') io.stderr.write('\n');
    },
  };
}

const results = defineCommand({
  name: 'batch results',
  summary: "Every job's result or error, once, as JSON lines",
  usage,
  options: {
    ...queueFlags,
    wait: {
      type: 'boolean',
      default: false,
      description: 'wait until no job is waiting or running (every submitted job done or failed)',
    },
    out: { type: 'string', value: 'FILE', description: 'write the results to FILE (JSON lines) instead of stdout' },
  },
  positionals: [],
  async run({ values }, io) {
    const redis = redisOf(values);
    const output = values.out === undefined ? undefined : await open(resolve(io.cwd, values.out), 'w');
    const counts = countsPrinter(io);
    const tally = { answered: 0, failed: 0 };
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      for await (const result of collectResults({
        redis,
        ...(values.queue === undefined ? {} : { queue: values.queue }),
        wait: values.wait,
        onCounts: counts.update,
        signal: stop.signal,
      })) {
        const line = `${JSON.stringify(result)}\n`;
        if (output) await output.write(line);
        else io.stdout.write(line);
        tally[isBatchFailure(result) ? 'failed' : 'answered']++;
      }
    } finally {
      process.off('SIGINT', onSignal);
      counts.end();
      await output?.close();
    }
    io.stderr.write(
      `[batch] ${tally.answered + tally.failed} results: ${tally.answered} answered, ${tally.failed} failed${values.out === undefined ? '' : ` (in ${values.out})`}\n`,
    );
    return 0;
  },
});

const subcommands: Record<string, CliCommand> = { submit, results };

/** `video-llava batch submit | results`: queue a JSONL file of jobs for `video-llava worker`, and collect the answers. */
export const command: CliCommand = {
  name: 'batch',
  summary: 'Queue jobs for workers (batch submit) and collect their answers (batch results)',
  usage,
  options: { ...queueFlags, ...submit.options, ...results.options },
  async run(argv, io) {
    const [name, ...rest] = argv;
    const subcommand = name === undefined ? undefined : subcommands[name];
    if (subcommand === undefined)
      throw new UsageError(
        name === undefined
          ? 'give a sub-command: submit or results'
          : `unknown sub-command ${JSON.stringify(name)} (submit or results)`,
        usage,
      );
    return subcommand.run(rest, io);
  },
};
