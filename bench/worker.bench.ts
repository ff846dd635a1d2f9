import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { convertCheckpoint } from '@video-llava/converter/node';
import { startTestRedis, tinyFixture } from '@video-llava/test-utils';
import { type BatchJob, collectResults, isBatchFailure, requestOfJob, submitJobs } from '@video-llava/worker';
import { VideoLlava } from 'video-llava';
import type { BenchRow, BenchSuite } from './types.js';

// Batch throughput on the tiny fixture model: jobs per minute through the queue (a real redis-server on loopback) with
// one worker process and with two, against the same jobs answered by the library in one process with no queue (the
// ceiling of one worker). Each worker runs ONNX Runtime on THREADS thread(s); the jobs are VIDEOS different videos
// (the bundled MP4 flipped and negated by FFmpeg) times QUESTIONS questions, grouped by video by submitJobs, so each
// worker encodes a video once per run of its questions. Workers are loaded before the clock starts: the figure is
// the steady state, from submission to the last result collected.
const VIDEOS = 4;
const QUESTIONS = 5;
const NEW_TOKENS = 16;
const THREADS = 1;
const here = dirname(fileURLToPath(import.meta.url));

function makeVideos(folder: string): string[] {
  const source = join(tinyFixture.video, 'sample_48f_320x240.mp4');
  const filters = ['null', 'hflip', 'vflip', 'negate', 'hflip,vflip', 'transpose=1'];
  return filters.slice(0, VIDEOS).map((filter, index) => {
    const output = join(folder, `video-${index}.mp4`);
    execFileSync(ffmpeg.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-y',
      '-i',
      source,
      '-vf',
      filter,
      '-c:v',
      'mpeg4',
      '-q:v',
      '2',
      output,
    ]);
    return output;
  });
}

function jobsFor(videos: string[], run: string): BatchJob[] {
  const questions = [
    'Why is this funny?',
    'What happens next?',
    'Describe the scene.',
    'What colors are there?',
    'Who is in it?',
  ];
  return videos.flatMap((video, v) =>
    questions.slice(0, QUESTIONS).map((question, q) => ({
      id: `${run}-${v}-${q}`,
      question,
      videos: [video],
      maxNewTokens: NEW_TOKENS,
      doSample: false,
    })),
  );
}

async function startWorkers(count: number, model: string, redis: string, queue: string): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () =>
    spawn(
      process.execPath,
      [
        '--conditions=@video-llava/source',
        '--import',
        'tsx',
        join(here, 'batch-worker-process.ts'),
        model,
        redis,
        queue,
        String(THREADS),
      ],
      { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          createInterface({ input: child.stdout! }).on('line', (line) => line === 'ready' && resolve());
          child.once('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
        }),
    ),
  );
  return children;
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))),
  );
}

/** Jobs per minute through the queue with `count` worker processes. */
async function throughQueue(count: number, model: string, videos: string[], redis: string): Promise<number> {
  const queue = `bench-${count}`;
  const workers = await startWorkers(count, model, redis, queue);
  try {
    const jobs = jobsFor(videos, queue);
    const start = performance.now();
    await submitJobs(jobs, { redis, queue });
    let answered = 0;
    for await (const result of collectResults({ redis, queue, wait: true, pollIntervalMs: 50 })) {
      if (isBatchFailure(result)) throw new Error(`${result.id}: ${result.error.code}: ${result.error.message}`);
      answered++;
    }
    if (answered !== jobs.length) throw new Error(`${answered} results for ${jobs.length} jobs`);
    return (jobs.length / (performance.now() - start)) * 60_000;
  } finally {
    await stopWorkers(workers);
  }
}

const suite: BenchSuite = {
  title: `worker: batch jobs per minute on the tiny model (${VIDEOS} videos x ${QUESTIONS} questions, ${NEW_TOKENS} tokens, ${THREADS} thread per worker, Redis on loopback)`,
  async run(): Promise<BenchRow[]> {
    const root = mkdtempSync(join(tmpdir(), 'bench-worker-'));
    const redis = await startTestRedis();
    try {
      const model = join(root, 'tiny-onnx');
      await convertCheckpoint(tinyFixture.model, model, { dtypes: ['fp32'] });
      const videos = makeVideos(root);

      // The ceiling of one worker: the same jobs in order, in this process, with the prefix cache, no queue.
      const library = await VideoLlava.load(model, { sessionOptions: { threads: THREADS } });
      const jobs = jobsFor(videos, 'library');
      const start = performance.now();
      for (const job of jobs) await library.generate({ ...requestOfJob(job), videos: job.videos ?? [] });
      const libraryPerMinute = (jobs.length / (performance.now() - start)) * 60_000;
      await library.release();

      const one = await throughQueue(1, model, videos, redis.url);
      const two = await throughQueue(2, model, videos, redis.url);
      return [
        {
          name: 'one worker process vs the library in one process (queue overhead)',
          value: one,
          unit: 'jobs/min',
          peer: { name: 'library, no queue', value: libraryPerMinute },
          ratio: one / libraryPerMinute,
          ratioMeaning: 'worker / library (1 = no overhead)',
        },
        {
          name: 'two worker processes vs one',
          value: two,
          unit: 'jobs/min',
          peer: { name: 'one worker', value: one },
          ratio: two / one,
          ratioMeaning: 'two / one (2 = linear, bounded by free cores)',
        },
      ];
    } finally {
      await redis.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
};

export default suite;
