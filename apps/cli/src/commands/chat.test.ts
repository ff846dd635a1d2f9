import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { convertCheckpoint } from '@video-llava/converter/node';
import { temporaryFolders, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { runCliForTest } from '../run-cli-for-test.js';
import { createTestIo } from '../test-io.js';
import type { ChatAnswerResult } from './chat.js';
import type { GenerateResult } from './generate.js';

const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
const folders = temporaryFolders('cli-chat-');
let converted: string;

beforeAll(async () => {
  converted = join(await folders.folder(), 'tiny-onnx');
  await convertCheckpoint(tinyFixture.model, converted, { dtypes: ['fp32'] });
});
afterAll(() => folders.removeAll());

/** `video-llava chat <converted> <args>` with `input` piped to stdin (not a terminal). */
async function chat(input: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = createTestIo();
  io.stdin = Readable.from([Buffer.from(input)]);
  const code = await runCli(['chat', converted, ...args], io);
  return { code, out: io.out(), err: io.err() };
}

async function generate(args: string[]): Promise<GenerateResult> {
  const run = await runCliForTest(['generate', converted, ...args, '--json', '--quiet']);
  expect(run.code, run.err).toBe(0);
  return JSON.parse(run.out.trimEnd().split('\n').pop()!) as GenerateResult;
}

const decoding = ['--greedy', '--max-new-tokens', '6'];

describe('video-llava chat, stdin not a terminal', () => {
  it('answers one line per question; the first as generate --question, the follow-up as generate on the whole conversation, from the cached prefix', async () => {
    const run = await chat('Why is this funny?\nWhat happens next?\n', [
      '--video',
      videoFile,
      ...decoding,
      '--json',
      '--quiet',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.err).toBe('');
    const [first, second, ...rest] = run.out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ChatAnswerResult);
    expect(rest).toEqual([]);
    const single = await generate(['--question', 'Why is this funny?', '--video', videoFile, ...decoding]);
    expect(first!.ids).toEqual(single.ids);
    expect(first!.ids).toEqual(
      Array.from(tinyFixture.npy('case_video', 'generated_ids.npy').data as BigInt64Array, Number).slice(0, 6),
    );
    // the follow-up: Video-LLaVA's format with the first answer in it, the video encoded once
    const whole = await generate([
      '--prompt',
      `USER: <video>\nWhy is this funny? ASSISTANT: ${first!.text}</s>USER: What happens next? ASSISTANT:`,
      '--video',
      videoFile,
      ...decoding,
    ]);
    expect(second!.ids).toEqual(whole.ids);
    expect(second!.promptTokens).toBe(whole.promptTokens);
    expect(second!.reusedPrefixTokens).toBeGreaterThan(first!.promptTokens);
    expect(second!.timings.encode).toBe(0);
  });

  it('prints plain answers one per line, and follows /reset, /video and the errors of a bad command without losing the line count', async () => {
    const input = [
      'Why is this funny?',
      '/image missing.png',
      '/frobnicate',
      '/reset',
      'Why is this funny?',
      '/video',
      '',
      '/quit',
      'never asked',
    ].join('\n');
    const run = await chat(input, ['--video', videoFile, ...decoding, '--quiet']);
    const single = await generate(['--question', 'Why is this funny?', '--video', videoFile, ...decoding]);
    expect(run.out).toBe(`${single.text}\n${single.text}\n`);
    expect(run.err).toContain(`--image ${join(process.cwd(), 'missing.png')}: no such file.`);
    expect(run.err).toContain('unknown command /frobnicate');
    expect(run.err).toContain('[reset]');
    expect(run.err).toContain('/video needs a file');
    // a bad line in a script fails the run, after every question was answered
    expect(run.code).toBe(1);
  });

  it('checks its arguments before loading, like generate', async () => {
    const run = await chat('Hi\n', ['--temperature', '-2']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('--temperature must be a number >= 0, found "-2"');
    const noStdin = await runCliForTest(['chat', converted]);
    expect(noStdin.code).toBe(2);
    expect(noStdin.err).toContain('reads questions from standard input');
  });
});

describe('video-llava chat at a terminal', () => {
  it('prompts with readline, answers each line (pasted lines too), and leaves on /quit', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    let out = '';
    const output = new Writable({
      write(chunk, _encoding, done) {
        out += String(chunk);
        done();
      },
    });
    const io = createTestIo();
    io.stdin = input;
    io.stdout = output;
    const running = runCli(['chat', converted, '--video', videoFile, ...decoding, '--quiet'], io);
    // Enter is a carriage return at a terminal; both lines arrive at once, as when pasted
    input.write('Why is this funny?\r/quit\r');
    expect(await running, io.err()).toBe(0);
    const single = await generate(['--question', 'Why is this funny?', '--video', videoFile, ...decoding]);
    expect(out).toContain('> ');
    expect(out).toContain(`${single.text}\n`);
    expect(io.err()).toContain('/reset');
  });
});
