import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '@video-llava/converter/node';
import { type TestRedis, startTestRedis, tinyFixture } from '@video-llava/test-utils';
import { Queue } from 'bullmq';
import { VideoLlava } from 'video-llava';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type BatchAnswer, type BatchJob, type BatchResult, isBatchFailure, requestOfJob } from './batch-job.js';
import { collectResults } from './collect-results.js';
import { queueJobId } from './queue-connection.js';
import { startWorker } from './start-worker.js';
import { submitJobs } from './submit-jobs.js';

// Every test runs against a real redis-server (Debian's; tooling/scripts/ensure-redis.sh) on a random loopback port,
// and the fp32 conversion of the tiny fixture. Answers are compared with the library's own greedy generation.
// Each test is bounded (SLOW_TEST_MS): generous, since a busy two-core machine runs the tiny model ten times slower.
const SLOW_TEST_MS = 300_000;
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const video = join(tinyFixture.video, 'sample_48f_320x240.mp4');
const image = join(tinyFixture.images, 'square_224.png');
const QUESTIONS = ['Why is this funny?', 'What happens next?', 'Describe it.', 'What color is it?', 'Who is there?'];

let root: string;
let model: string;
let reference: VideoLlava;
const expected = new Map<string, number[]>();

/** Ten jobs: five about the video, five about the image, interleaved (submitJobs groups them). */
function tenJobs(prefix: string): BatchJob[] {
  return QUESTIONS.flatMap((question, index) => [
    { id: `${prefix}-video-${index}`, question, videos: [video], maxNewTokens: 12, doSample: false },
    { id: `${prefix}-image-${index}`, question, images: [image], maxNewTokens: 12, doSample: false },
  ]);
}

/** The library's greedy answer to a job, on a model of its own, without the prefix cache. */
async function expectedIds(job: BatchJob): Promise<number[]> {
  const key = JSON.stringify({ ...job, id: '' });
  if (!expected.has(key)) {
    const answer = await reference.generate({
      ...requestOfJob(job),
      videos: job.videos ?? [],
      images: job.images ?? [],
      prefixCache: false,
    });
    expected.set(key, answer.ids);
  }
  return expected.get(key)!;
}

async function collectAll(redis: string, queue: string, timeoutMs = 240_000): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for await (const result of collectResults({
    redis,
    queue,
    wait: true,
    pollIntervalMs: 100,
    signal: AbortSignal.timeout(timeoutMs),
  }))
    results.push(result);
  return results;
}

async function queueJob(redis: string, queue: string, id: string) {
  const handle = new Queue(queue, { connection: { url: redis } });
  try {
    return (await handle.getJob(queueJobId(id)))!;
  } finally {
    await handle.close();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'worker-test-'));
  model = join(root, 'video-llava-tiny-onnx');
  await convertCheckpoint(tinyFixture.model, model, { dtypes: ['fp32'] });
  reference = await VideoLlava.load(model, { sessionOptions: { threads: 1 } });
});

afterAll(async () => {
  await reference?.release();
  await rm(root, { recursive: true, force: true });
});

describe('one in-process worker on a real Redis', () => {
  let redis: TestRedis;
  let worker: VideoLlava;
  beforeAll(async () => {
    redis = await startTestRedis();
    worker = await VideoLlava.load(model, { sessionOptions: { threads: 1 } });
  });
  afterAll(async () => {
    await worker?.release();
    await redis?.stop();
  });

  it(
    'answers every job once, as the library does, grouped by video so that the encoded prefix is reused',
    async () => {
      const jobs = tenJobs('grouped');
      const first = await submitJobs(jobs, { redis: redis.url, queue: 'grouped' });
      // Grouped by media: the video's five jobs, then the image's.
      expect(first).toEqual({
        added: [...jobs.filter((job) => job.videos), ...jobs.filter((job) => job.images)].map((job) => job.id),
        existing: [],
      });
      // Submitting again (the whole file, after a crash of the submitter) adds nothing.
      const again = await submitJobs(jobs, { redis: redis.url, queue: 'grouped' });
      expect(again.added).toEqual([]);
      expect(again.existing.sort()).toEqual(jobs.map((job) => job.id).sort());

      worker.clearPrefixCache();
      worker.model.resetStatistics();
      const running = await startWorker({ model: worker, redis: redis.url, queue: 'grouped', name: 'in-process' });
      try {
        const results = await collectAll(redis.url, 'grouped');
        expect(results.map((result) => result.id).sort()).toEqual(jobs.map((job) => job.id).sort());
        for (const result of results) {
          expect(isBatchFailure(result), JSON.stringify(result)).toBe(false);
          const answer = result as BatchAnswer;
          const job = jobs.find((candidate) => candidate.id === answer.id)!;
          expect(answer.ids, answer.id).toEqual(await expectedIds(job));
          expect(answer.worker).toBe('in-process');
          expect(answer.timings.totalMs).toBeGreaterThanOrEqual(answer.timings.firstTokenMs);
        }
        // Five video jobs in a row, then five image jobs: one encoder run each, the other four reuse the prefix.
        expect(results.map((result) => result.id.includes('video'))).toEqual([
          true,
          true,
          true,
          true,
          true,
          false,
          false,
          false,
          false,
          false,
        ]);
        expect(worker.model.statistics.videoEncoderRuns).toBe(1);
        expect(worker.model.statistics.imageEncoderRuns).toBe(1);
        const reused = results.map((result) => (result as BatchAnswer).reusedPrefixTokens);
        // The first job of each group reuses at most the text before its video or image (`USER: `), the others the
        // whole video or image too.
        const { tokensPerImage, tokensPerVideo } = worker.config.derived;
        expect(reused[0]).toBe(0);
        expect(reused[5]).toBeLessThan(tokensPerImage);
        for (const index of [1, 2, 3, 4]) expect(reused[index], results[index]!.id).toBeGreaterThan(tokensPerVideo);
        for (const index of [6, 7, 8, 9]) expect(reused[index], results[index]!.id).toBeGreaterThan(tokensPerImage);
        // Progress went through the queue, by stage, and the last report is the last token.
        const job = await queueJob(redis.url, 'grouped', 'grouped-video-0');
        expect(job.progress).toMatchObject({ stage: 'tokens', done: 12 });
      } finally {
        await running.close();
      }
    },
    SLOW_TEST_MS,
  );

  it(
    'fails a job with bad input at once (no retry) and reports its code; the others are answered',
    async () => {
      const jobs: BatchJob[] = [
        { id: 'missing', question: 'What happens?', videos: [join(root, 'no-such-video.mp4')], maxNewTokens: 4 },
        { id: 'placeholders', prompt: 'USER: <video>\n<video>\nTwo? ASSISTANT:', videos: [video], maxNewTokens: 4 },
        { id: 'fine', question: 'What happens?', videos: [video], maxNewTokens: 4, doSample: false },
      ];
      await submitJobs(jobs, { redis: redis.url, queue: 'bad', attempts: 3, backoffMs: 100 });
      const running = await startWorker({ model: worker, redis: redis.url, queue: 'bad' });
      try {
        const results = await collectAll(redis.url, 'bad');
        const byId = new Map(results.map((result) => [result.id, result]));
        expect(results).toHaveLength(3);
        expect(byId.get('missing')).toMatchObject({ error: { code: 'FILE_NOT_FOUND' } });
        expect((byId.get('missing') as { error: { message: string } }).error.message).toContain('no-such-video.mp4');
        expect(byId.get('placeholders')).toMatchObject({ error: { code: 'TOKEN_COUNT_MISMATCH' } });
        expect((byId.get('fine') as BatchAnswer).ids).toEqual(await expectedIds(jobs[2]!));
        for (const id of ['missing', 'placeholders'])
          expect((await queueJob(redis.url, 'bad', id)).attemptsStarted, id).toBe(1);
      } finally {
        await running.close();
      }
    },
    SLOW_TEST_MS,
  );

  it(
    'downloads http media (a local server), and fails a job whose URL answers 404 at once',
    async () => {
      const bytes = await readFile(video);
      const server = createServer((request, response) => {
        if (request.url === '/clip.mp4') response.writeHead(200, { 'content-type': 'video/mp4' }).end(bytes);
        else response.writeHead(404).end();
      });
      await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const jobs: BatchJob[] = [
        { id: 'http', question: 'What happens?', videos: [`${base}/clip.mp4`], maxNewTokens: 4, doSample: false },
        { id: 'gone', question: 'What happens?', videos: [`${base}/gone.mp4`], maxNewTokens: 4 },
      ];
      await submitJobs(jobs, { redis: redis.url, queue: 'http', backoffMs: 100 });
      const running = await startWorker({ model: worker, redis: redis.url, queue: 'http' });
      try {
        const results = await collectAll(redis.url, 'http');
        const byId = new Map(results.map((result) => [result.id, result]));
        expect((byId.get('http') as BatchAnswer).ids).toEqual(await expectedIds({ ...jobs[0]!, videos: [video] }));
        expect(byId.get('gone')).toMatchObject({ error: { code: 'FILE_NOT_FOUND' } });
        expect((byId.get('gone') as { error: { message: string } }).error.message).toContain(
          `${base}/gone.mp4 answered HTTP 404`,
        );
        expect((await queueJob(redis.url, 'http', 'gone')).attemptsStarted).toBe(1);
      } finally {
        await running.close();
        await new Promise((resolveClose) => server.close(resolveClose));
      }
    },
    SLOW_TEST_MS,
  );

  it('refuses a malformed job at submission, naming the field, and adds nothing', async () => {
    const jobs = [
      { id: 'ok', question: 'Q?', videos: [video] },
      { id: 'typo', question: 'Q?', max_new_tokens: 5 },
    ] as unknown as BatchJob[];
    await expect(submitJobs(jobs, { redis: redis.url, queue: 'malformed' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'max_new_tokens',
    });
    const queue = new Queue('malformed', { connection: { url: redis.url } });
    expect(await queue.getJobCountByTypes('waiting')).toBe(0);
    await queue.close();
  });
});

describe('Redis restarting with AOF persistence', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it(
    'keeps the queued jobs, which a worker then answers',
    async () => {
      const jobs = tenJobs('aof').slice(0, 3);
      await submitJobs(jobs, { redis: redis.url, queue: 'aof' });
      await redis.restart();
      const queue = new Queue('aof', { connection: { url: redis.url } });
      expect(await queue.getJobCountByTypes('waiting')).toBe(3);
      await queue.close();
      const running = await startWorker({
        model,
        loadOptions: { sessionOptions: { threads: 1 } },
        redis: redis.url,
        queue: 'aof',
      });
      try {
        const results = await collectAll(redis.url, 'aof');
        expect(results.map((result) => result.id).sort()).toEqual(jobs.map((job) => job.id).sort());
        for (const result of results)
          expect((result as BatchAnswer).ids).toEqual(await expectedIds(jobs.find((job) => job.id === result.id)!));
      } finally {
        await running.close();
      }
    },
    SLOW_TEST_MS,
  );
});

type WorkerLine = {
  type: string;
  id?: string;
  progress?: { stage: string };
  answer?: BatchAnswer;
  counts?: { completed: number };
};

/** A worker in its own process (test/worker-process.ts through tsx), its JSON lines collected. */
function spawnWorker(config: Record<string, unknown>): {
  child: ChildProcess;
  lines: WorkerLine[];
  waitFor: (test: (line: WorkerLine) => boolean, timeoutMs?: number) => Promise<WorkerLine>;
  exited: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@video-llava/source', join(packageRoot, 'test/worker-process.ts')],
    {
      cwd: packageRoot,
      env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: WorkerLine[] = [];
  const waiters: { test: (line: WorkerLine) => boolean; resolve: (line: WorkerLine) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: WorkerLine;
    try {
      line = JSON.parse(text) as WorkerLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitFor(test, timeoutMs = 120_000) {
      const seen = lines.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`worker ${String(config.name)}: no such line within ${timeoutMs} ms; stderr:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({ test, resolve: (line) => (clearTimeout(timer), resolveLine(line)) });
        void exited.then((code) =>
          reject(new Error(`worker ${String(config.name)} exited (${code}); stderr:\n${stderr}`)),
        );
      });
    },
  };
}

describe('two worker processes, one killed with SIGKILL during a job', () => {
  let redis: TestRedis;
  const workers: ReturnType<typeof spawnWorker>[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await redis?.stop();
  });

  it(
    'ends with 10 results, none duplicated or lost, each equal to the library greedy answer',
    async () => {
      // Short locks so that the killed worker's job is taken back within seconds; 40 ms per token so that a job runs
      // long enough (about half a second) to be killed in the middle of it.
      const settings = {
        model,
        redis: redis.url,
        queue: 'fault',
        stepDelayMs: 40,
        lockDurationMs: 5000,
        stalledIntervalMs: 1000,
      };
      const victim = spawnWorker({ ...settings, name: 'victim' });
      const survivor = spawnWorker({ ...settings, name: 'survivor' });
      workers.push(victim, survivor);
      await Promise.all([
        victim.waitFor((line) => line.type === 'ready'),
        survivor.waitFor((line) => line.type === 'ready'),
      ]);
      const jobs = tenJobs('fault');
      await submitJobs(jobs, { redis: redis.url, queue: 'fault' });

      const generating = await victim.waitFor((line) => line.type === 'progress' && line.progress?.stage === 'tokens');
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe(null);
      const killedJob = generating.id!;

      const results = await collectAll(redis.url, 'fault');
      expect(results.map((result) => result.id).sort()).toEqual(jobs.map((job) => job.id).sort());
      for (const result of results) {
        expect(isBatchFailure(result), JSON.stringify(result)).toBe(false);
        const job = jobs.find((candidate) => candidate.id === result.id)!;
        expect((result as BatchAnswer).ids, result.id).toEqual(await expectedIds(job));
      }
      // The job the victim was generating was taken back and answered by the survivor.
      const killed = results.find((result) => result.id === killedJob) as BatchAnswer;
      expect(killed.worker).toBe('survivor');
      expect((await queueJob(redis.url, 'fault', killedJob)).attemptsStarted).toBeGreaterThanOrEqual(2);
      // Exactly once: the jobs each worker completed add up to ten, with no id twice.
      const completed = [...victim.lines, ...survivor.lines]
        .filter((line) => line.type === 'completed')
        .map((line) => line.id);
      expect(completed.sort()).toEqual(jobs.map((job) => job.id).sort());

      // SIGTERM: the survivor has nothing running and stops at once, cleanly.
      survivor.child.kill('SIGTERM');
      expect(await survivor.exited).toBe(0);
    },
    SLOW_TEST_MS,
  );

  it(
    'a job that kills every worker that takes it is put back maxStalledCount times, then fails as WORKER_LOST',
    async () => {
      // Each worker that starts the job is killed while generating, as a native crash or the OOM killer would; the
      // next worker's stalled check puts it back once (maxStalledCount 1), and after the second crash fails it.
      const settings = {
        model,
        redis: redis.url,
        queue: 'poison',
        stepDelayMs: 40,
        lockDurationMs: 2000,
        stalledIntervalMs: 500,
        maxStalledCount: 1,
      };
      await submitJobs(tenJobs('poison').slice(0, 1), { redis: redis.url, queue: 'poison' });
      for (const name of ['first', 'second']) {
        const doomed = spawnWorker({ ...settings, name });
        workers.push(doomed);
        await doomed.waitFor((line) => line.type === 'progress' && line.progress?.stage === 'tokens');
        doomed.child.kill('SIGKILL');
        await doomed.exited;
      }
      const checker = spawnWorker({ ...settings, name: 'checker' });
      workers.push(checker);
      await checker.waitFor((line) => line.type === 'ready');
      const results = await collectAll(redis.url, 'poison');
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ id: 'poison-video-0', error: { code: 'WORKER_LOST' } });
      expect(checker.lines.filter((line) => line.type === 'active')).toEqual([]);
      checker.child.kill('SIGTERM');
      expect(await checker.exited).toBe(0);
    },
    SLOW_TEST_MS,
  );

  it(
    'SIGTERM lets a worker finish the job it is running, and it takes no other',
    async () => {
      const worker = spawnWorker({ model, redis: redis.url, queue: 'sigterm', name: 'stopping', stepDelayMs: 40 });
      workers.push(worker);
      await worker.waitFor((line) => line.type === 'ready');
      const jobs = tenJobs('sigterm').slice(0, 2);
      await submitJobs(jobs, { redis: redis.url, queue: 'sigterm', groupByMedia: false });
      const generating = await worker.waitFor((line) => line.type === 'progress' && line.progress?.stage === 'tokens');
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.stderr()).toBe(0);
      expect(worker.lines.filter((line) => line.type === 'completed').map((line) => line.id)).toEqual([generating.id]);
      const queue = new Queue('sigterm', { connection: { url: redis.url } });
      expect(await queue.getJobCounts('completed', 'waiting', 'active')).toEqual({
        completed: 1,
        waiting: 1,
        active: 0,
      });
      await queue.close();
    },
    SLOW_TEST_MS,
  );
});
