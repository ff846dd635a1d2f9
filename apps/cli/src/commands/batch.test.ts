import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { type TestRedis, startTestRedis, tinyFixture } from '@video-llava/test-utils';
import type { BatchAnswer, BatchResult } from '@video-llava/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { generateForTest, runCliForTest } from '../run-cli-for-test.js';
import { createTestIo } from '../test-io.js';

// video-llava worker, batch submit and batch results against a real redis-server on a random loopback port, on the
// fp32 conversion of the fixture; the worker runs in this process (SIGTERM is emitted to it), the fault tests with
// worker processes killed mid-job are in packages/worker.
const TEST_MS = 300_000;
let root: string;
let converted: string;
let redis: TestRedis;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-batch-'));
  converted = join(root, 'video-llava-tiny-onnx');
  await convertCheckpoint(tinyFixture.model, converted, { dtypes: ['fp32'] });
  // Media next to the jobs file, named relatively in it.
  await copyFile(join(tinyFixture.video, 'sample_48f_320x240.mp4'), join(root, 'clip.mp4'));
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

const lines = [
  { id: 1, question: 'Why is this funny?', videos: ['clip.mp4'], maxNewTokens: 8, doSample: false },
  { id: 'clip/next', question: 'What happens next?', videos: ['clip.mp4'], maxNewTokens: 8, doSample: false },
  { id: 'missing', question: 'What happens?', videos: ['no-such-clip.mp4'], maxNewTokens: 8 },
];

describe('video-llava batch and worker', () => {
  it(
    'submits once, answers with the worker, collects every result once; equal to generate --greedy',
    async () => {
      const jobsFile = join(root, 'jobs.jsonl');
      await writeFile(jobsFile, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
      const submit = await runCliForTest(['batch', 'submit', 'jobs.jsonl', '--redis', redis.url, '--queue', 'cli'], {
        cwd: root,
      });
      expect(submit.code, submit.err).toBe(0);
      expect(submit.out).toBe('3 jobs: 3 added, 0 already in the queue\n');
      const again = await runCliForTest(['batch', 'submit', jobsFile, '--redis', redis.url, '--queue', 'cli'], {
        cwd: root,
      });
      expect(again.out).toBe('3 jobs: 0 added, 3 already in the queue\n');

      const worker = runCliForTest(
        ['worker', converted, '--redis', redis.url, '--queue', 'cli', '--threads', '1', '--name', 'cli-worker'],
        { cwd: tmpdir() },
      );
      const collected = await runCliForTest(
        ['batch', 'results', '--redis', redis.url, '--queue', 'cli', '--wait', '--out', 'results.jsonl'],
        { cwd: root },
      );
      process.emit('SIGTERM', 'SIGTERM');
      const stopped = await worker;
      expect(stopped.code, stopped.err).toBe(0);
      expect(stopped.err).toContain('[done] 1:');
      expect(stopped.err).toContain('[failed] missing: FILE_NOT_FOUND');
      expect(stopped.err).toContain('stopped: 2 done, 1 failed');

      expect(collected.code, collected.err).toBe(0);
      expect(collected.out).toBe('');
      // Not a terminal: plain progress lines, then the tally.
      expect(collected.err).toMatch(/\[batch\] done \d+, failed \d+, waiting \d+, active \d+\n/);
      expect(collected.err).toContain('[batch] done 2, failed 1, waiting 0, active 0\n');
      expect(collected.err).toContain('3 results: 2 answered, 1 failed');
      const results = (await readFile(join(root, 'results.jsonl'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as BatchResult);
      expect(results.map((result) => result.id).sort()).toEqual(['1', 'clip/next', 'missing']);
      const missing = results.find((result) => result.id === 'missing') as { error: { code: string; message: string } };
      expect(missing.error.code).toBe('FILE_NOT_FOUND');
      expect(missing.error.message).toContain(join(root, 'no-such-clip.mp4'));

      const reference = await generateForTest(converted, 'clip.mp4', {
        question: 'Why is this funny?',
        maxNewTokens: 8,
        cwd: root,
      });
      const answer = results.find((result) => result.id === '1') as BatchAnswer;
      expect(answer.ids).toEqual(reference.ids);
      expect(answer.text).toBe(reference.text);
      expect(answer.worker).toBe('cli-worker');

      // Without --wait, what is there now, again: results stay until the queue is removed. On a terminal the counts
      // are a bar, rewritten in place.
      const terminal = createTestIo(root);
      (terminal.stderr as { isTTY?: boolean }).isTTY = true;
      expect(await runCli(['batch', 'results', '--redis', redis.url, '--queue', 'cli'], terminal)).toBe(0);
      expect(
        terminal
          .out()
          .trimEnd()
          .split('\n')
          .map((line) => (JSON.parse(line) as BatchResult).id)
          .sort(),
      ).toEqual(['1', 'clip/next', 'missing']);
      expect(terminal.err()).toContain(`\r[${'#'.repeat(30)}] 3/3 done 2, failed 1, waiting 0, active 0\u001b[K\n`);
    },
    TEST_MS,
  );

  it(
    'says what is wrong with the command line or the jobs file',
    async () => {
      const none = await runCliForTest(['batch', '--redis', redis.url]);
      expect(none.code).toBe(2);
      expect(none.err).toContain('unknown sub-command "--redis"');
      const noRedis = await runCliForTest(['batch', 'results']);
      expect(noRedis.code).toBe(2);
      expect(noRedis.err).toContain('give --redis URL');
      const badUrl = await runCliForTest(['batch', 'results', '--redis', 'http://127.0.0.1:1']);
      expect(badUrl.code).toBe(1);
      expect(badUrl.err).toContain('redis:// or rediss://');
      await writeFile(
        join(root, 'bad.jsonl'),
        '{"id": "a", "question": "Q"}\n{"id": "b", "question": "Q", "max_new_tokens": 4}\n',
      );
      const bad = await runCliForTest(['batch', 'submit', 'bad.jsonl', '--redis', redis.url, '--queue', 'bad'], {
        cwd: root,
      });
      expect(bad.code).toBe(1);
      expect(bad.err).toContain(`${join(root, 'bad.jsonl')} line 2`);
      expect(bad.err).toContain('"max_new_tokens"');
      const threads = await runCliForTest(['worker', converted, '--redis', redis.url, '--threads', '0']);
      expect(threads.code).toBe(2);
      expect(threads.err).toContain('--threads must be an integer >= 1');
      const dtype = await runCliForTest(['worker', converted, '--redis', redis.url, '--dtype', 'fp64']);
      expect(dtype.code).toBe(2);
      expect(dtype.err).toContain('must be one of fp32');
    },
    TEST_MS,
  );
});
