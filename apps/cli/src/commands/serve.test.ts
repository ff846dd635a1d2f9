import { copyFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { convertCheckpoint } from '@video-llava/converter/node';
import { tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { generateForTest, runCliForTest } from '../run-cli-for-test.js';
import { createTestIo } from '../test-io.js';

// `video-llava serve` in this process on 127.0.0.1 (a free port): its answer about the fixture video is exactly what
// `video-llava generate --greedy` prints for the same question; SIGTERM stops it with exit code 0.
const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
let root: string;
let converted: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-serve-'));
  converted = join(root, 'video-llava-tiny-onnx');
  await convertCheckpoint(tinyFixture.model, converted, { dtypes: ['fp32'] });
  mkdirSync(join(root, 'media'));
  copyFileSync(videoFile, join(root, 'media', 'clip.mp4'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('video-llava serve', () => {
  it('answers exactly as generate --greedy, logs each request, and exits 0 on SIGTERM', async () => {
    const io = createTestIo(root);
    const running = runCli(
      ['serve', converted, '--port', '0', '--threads', '1', '--media-root', 'media', '--model-id', 'tiny'],
      io,
    );
    let url: string | undefined;
    for (const start = Date.now(); url === undefined && Date.now() - start < 60_000; await sleep(20)) {
      url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.out())?.[1];
      const early = await Promise.race([running, sleep(0)]);
      if (typeof early === 'number') throw new Error(`serve exited with ${early}: ${io.err()}`);
    }
    expect(url, io.err()).toBeDefined();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'video_url', video_url: { url: 'clip.mp4' } },
              { type: 'text', text: 'Why is this funny?' },
            ],
          },
        ],
        temperature: 0,
        max_tokens: 8,
      }),
    });
    const completion = (await response.json()) as {
      model: string;
      choices: { message: { content: string } }[];
      usage: { completion_tokens: number };
    };
    expect(response.status, JSON.stringify(completion)).toBe(200);
    expect(completion.model).toBe('tiny');

    const json = await generateForTest(converted, videoFile, {
      question: 'Why is this funny?',
      maxNewTokens: 8,
      cwd: root,
    });
    expect(completion.choices[0]!.message.content).toBe(json.text);
    expect(completion.usage.completion_tokens).toBe(json.ids.length);

    process.kill(process.pid, 'SIGTERM');
    expect(await running).toBe(0);
    expect(io.err()).toMatch(/SIGTERM: stopped/);
    const logLine = JSON.parse(
      io
        .err()
        .split('\n')
        .find((line) => line.includes('/v1/chat/completions'))!,
    ) as Record<string, unknown>;
    expect(logLine).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      completionTokens: json.ids.length,
    });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('refuses bad flags with usage errors', async () => {
    for (const args of [
      ['--dtype', 'fp64'],
      ['--dtype', 'decoder=q3'],
      ['--threads', '0'],
      ['--port', '70000'],
      ['--max-queue', '-1'],
      ['--timeout', 'soon'],
    ]) {
      const run = await runCliForTest(['serve', converted, ...args], { cwd: root });
      expect(run.code, `${args.join(' ')}: ${run.err}`).toBe(2);
      expect(run.err).toContain(args[0]!);
    }
    // A dtype the folder does not hold: named with what it holds, before anything loads.
    const missing = await runCliForTest(['serve', converted, '--dtype', 'decoder=q4'], { cwd: root });
    expect(missing.code, missing.err).toBe(1);
    expect(missing.err).toContain('has no decoder_model_merged_q4.onnx; it holds fp32');
  });
});
