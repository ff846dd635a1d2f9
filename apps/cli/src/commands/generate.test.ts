import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { runCli } from '../cli.js';
import { type CliRun, runCliForTest } from '../run-cli-for-test.js';
import { createTestIo } from '../test-io.js';
import type { GenerateResult } from './generate.js';

// The CLI on the fp32 conversion of the fixture, from the raw files: the MP4 decoded by FFmpeg (the reference decoded
// it with OpenCV's FFmpeg), the PNGs by the built-in decoder. Token ids are compared exactly with generated_ids.npy.
const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
let root: string;
let converted: string;
let convertedQ4: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-generate-'));
  converted = join(root, 'video-llava-tiny-onnx');
  convertedQ4 = join(root, 'video-llava-tiny-onnx-q4');
  await convertCheckpoint(tinyFixture.model, converted, { dtypes: ['fp32'] });
  await convertCheckpoint(tinyFixture.model, convertedQ4, { dtypes: ['q4'] });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A short greedy video question with a JSON line, for tests that compare answers between runs. */
const shortQuestion = [
  '--question',
  'Why is this funny?',
  '--video',
  videoFile,
  '--max-new-tokens',
  '6',
  '--greedy',
  '--json',
];

/** The streamed text and the ids of a `--json` run (the timings differ from run to run). */
function answerOf(out: string): { streamed: string; ids: number[]; text: string } {
  const lines = out.trimEnd().split('\n');
  const { ids, text } = JSON.parse(lines.pop()!) as GenerateResult;
  return { streamed: lines.join('\n'), ids, text };
}

async function generate(args: string[]): Promise<CliRun & { json: GenerateResult | undefined }> {
  const run = await runCliForTest(['generate', converted, ...args], { cwd: root });
  const lines = run.out.trimEnd().split('\n');
  const json =
    args.includes('--json') && run.code === 0 ? (JSON.parse(lines[lines.length - 1]!) as GenerateResult) : undefined;
  return { ...run, json };
}

describe('video-llava generate', () => {
  // Every single-prompt case of cases.json (the left-padded batch needs two prompts; its rows are checked in
  // packages/video-llava), from the raw image and video files.
  const singles = fixtureCases().filter((fixtureCase) => fixtureCase.text.length === 1);
  it.each(singles.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))(
    '%s from the raw files: the 24 reference tokens, streamed, then one JSON line',
    async (name, fixtureCase) => {
      const args = ['--prompt', fixtureCase.text[0]!, '--max-new-tokens', '24', '--greedy', '--json'];
      for (const image of fixtureCase.images) args.push('--image', join(tinyFixture.images, image));
      for (let video = 0; video < fixtureCase.videos; video++) args.push('--video', videoFile);
      const result = await generate(args);
      expect(result.code, result.err).toBe(0);
      expect(result.json!.ids).toEqual(
        Array.from(tinyFixture.npy(`case_${name}`, 'generated_ids.npy').data as BigInt64Array, Number),
      );
      // The streamed text, then a newline, then the JSON line.
      expect(result.out).toBe(`${result.json!.text}\n${JSON.stringify(result.json)}\n`);
      expect(result.err).toContain('[prefill]');
    },
  );

  it('--question wraps the question in the conversation format (USER: <video>\\n... ASSISTANT:)', async () => {
    // Not shortQuestion: without --greedy, so that the file's own generation config (greedy) decides.
    const asQuestion = await generate([
      '--question',
      'Why is this funny?',
      '--video',
      videoFile,
      '--max-new-tokens',
      '6',
      '--json',
      '--quiet',
    ]);
    expect(asQuestion.code, asQuestion.err).toBe(0);
    expect(asQuestion.err).toBe('');
    const reference = Array.from(tinyFixture.npy('case_video', 'generated_ids.npy').data as BigInt64Array, Number);
    expect(asQuestion.json!.ids).toEqual(reference.slice(0, 6));
  });

  it('samples reproducibly with --seed', async () => {
    const args = [
      '--question',
      'Why is this funny?',
      '--video',
      videoFile,
      '--max-new-tokens',
      '8',
      '--temperature',
      '1.5',
      '--top-k',
      '50',
      '--top-p',
      '0.95',
      '--seed',
      '7',
      '--json',
      '--quiet',
    ];
    const first = await generate(args);
    const second = await generate(args);
    expect(first.code, first.err).toBe(0);
    expect(first.json!.ids).toHaveLength(8);
    expect(second.json!.ids).toEqual(first.json!.ids);
  });

  it('--json adds the prompt length and where the time went', async () => {
    const run = await generate([
      '--question',
      'Why is this funny?',
      '--video',
      videoFile,
      '--max-new-tokens',
      '4',
      '--greedy',
      '--json',
      '--quiet',
      '--threads',
      '1',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.json!.promptTokens).toBe(tinyFixture.npy('case_video', 'input_ids.npy').dims[1]);
    const { timings } = run.json!;
    expect(Object.keys(timings).sort()).toEqual([
      'decode',
      'decodePerToken',
      'encode',
      'load',
      'mediaDecode',
      'prefill',
    ]);
    for (const [name, value] of Object.entries(timings)) expect(value, name).toBeGreaterThan(0);
    expect(timings.decodePerToken! * 3).toBeCloseTo(timings.decode, -1);
  });

  it('runs a folder converted with --dtype q4 only, with --dtype q4 and without --dtype', async () => {
    const named = await runCliForTest(['generate', convertedQ4, ...shortQuestion, '--dtype', 'q4'], { cwd: root });
    expect(named.code, named.err).toBe(0);
    // The q4 decoder: the key/value buffer graph on a CPU (the default), decoder_model_merged where CUDA runs it.
    expect(named.err).toMatch(/\[load\] onnx\/decoder_(kv_buffer|model_merged)_q4\.onnx/);
    expect(named.err).not.toMatch(/\[load\] onnx\/decoder_\w+(?<!_q4)\.onnx/);
    const picked = await runCliForTest(['generate', convertedQ4, ...shortQuestion, '--quiet'], { cwd: root });
    expect(picked.code, picked.err).toBe(0);
    expect(answerOf(picked.out)).toEqual(answerOf(named.out));
    const missing = await runCliForTest(['generate', convertedQ4, ...shortQuestion, '--dtype', 'decoder=q8'], {
      cwd: root,
    });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('has no decoder_model_merged_q8.onnx; it holds q4 (decoder_model_merged_q4.onnx)');
  });

  it('--prepack-cache: the first run writes the prepacked weights, the next reads them, for the same answer', async () => {
    const cache = join(root, 'prepacked');
    const run = (flag: string) =>
      runCliForTest(['generate', convertedQ4, ...shortQuestion, '--prepack-cache', flag], { cwd: root });
    const first = await run('prepacked');
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/\[prepack\] .*decoder_(kv_buffer|model_merged)_q4\.onnx/);
    const entries = await readdir(cache);
    expect(entries).toEqual(expect.arrayContaining([expect.stringMatching(/^decoder_(kv_buffer|model_merged)_q4-/)]));
    const second = await run(cache);
    expect(second.code, second.err).toBe(0);
    expect(second.err).not.toContain('[prepack]');
    expect(answerOf(second.out)).toEqual(answerOf(first.out));
    const off = await run('off');
    expect(off.code, off.err).toBe(0);
    expect(off.err).not.toContain('[prepack]');
    expect(answerOf(off.out)).toEqual(answerOf(first.out));
    expect(await readdir(cache)).toEqual(entries);
    // on: beside the ONNX files; off by default (the other tests of this file write no .prepacked folder)
    const beside = join(convertedQ4, 'onnx', '.prepacked');
    await expect(readdir(beside)).rejects.toThrow();
    const on = await run('on');
    expect(on.code, on.err).toBe(0);
    expect(on.err).toContain('[prepack]');
    expect(answerOf(on.out)).toEqual(answerOf(first.out));
    expect((await readdir(beside)).length).toBeGreaterThan(0);
  });

  it('reads a long question from --question-file and from stdin (--question-file -)', async () => {
    const question = `Why is this funny? ${'Tell me more. '.repeat(40)}`;
    await writeFile(join(root, 'question.txt'), `${question}\n`);
    const args = ['--video', videoFile, '--max-new-tokens', '4', '--greedy', '--json', '--quiet'];
    const inline = await generate(['--question', question, ...args]);
    const fromFile = await generate(['--question-file', 'question.txt', ...args]);
    expect(inline.code, inline.err).toBe(0);
    expect(answerOf(fromFile.out)).toEqual(answerOf(inline.out));
    const io = createTestIo(root);
    io.stdin = Readable.from([Buffer.from(question)]);
    expect(await runCli(['generate', converted, '--question-file', '-', ...args], io)).toBe(0);
    expect(answerOf(io.out())).toEqual(answerOf(inline.out));
  });

  it('says to convert a raw Hugging Face checkpoint first', async () => {
    const run = await runCliForTest(['generate', tinyFixture.model, '--question', 'Hi?'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/model\.safetensors/);
    expect(run.err).toMatch(/video-llava convert/);
    expect(run.out).toBe('');
  });

  it('reports a video that fails to decode, and a prompt whose placeholders and media disagree', async () => {
    const missing = await generate(['--question', 'Why?', '--video', join(root, 'no-such-video.mp4')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no-such-video.mp4');
    const mismatch = await generate(['--prompt', 'USER: <video>\nWhy? ASSISTANT:', '--max-new-tokens', '2']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/<video>/);
  });

  it.each([
    ['no prompt', []],
    ['both --prompt and --question', ['--prompt', 'USER: Hi ASSISTANT:', '--question', 'Hi']],
    ['--greedy with --temperature', ['--question', 'Hi', '--greedy', '--temperature', '0.7']],
    ['a bad --max-new-tokens', ['--question', 'Hi', '--max-new-tokens', 'many']],
  ])('refuses %s (exit 2, usage on stderr)', async (_name, args) => {
    const run = await runCliForTest(['generate', tinyFixture.model, ...args], { cwd: root });
    expect(run.code).toBe(2);
    expect(run.err).toContain('Usage: video-llava generate');
  });

  it('reports a missing model folder as a missing folder', async () => {
    const run = await runCliForTest(['generate', './no-such-model', '--question', 'Hi'], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `video-llava generate: <model-dir> ./no-such-model: no such folder (${join(root, 'no-such-model')}). Give a model folder, a hub id (org/name) or a URL.\n`,
    );
  });

  describe('checks every argument before loading anything (a model that never answers is never asked)', () => {
    let server: Server;
    let requests = 0;
    let url: string;
    beforeAll(async () => {
      server = createServer(() => {
        requests++; // and never answers
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it.each([
      ['a negative --temperature', ['--temperature', '-1'], 2, '--temperature must be a number >= 0, found "-1"'],
      ['a --top-p above 1', ['--top-p', '1.5'], 2, '--top-p must be a number in [0, 1], found "1.5"'],
      [
        'a negative --max-new-tokens',
        ['--max-new-tokens', '-5'],
        2,
        '--max-new-tokens must be an integer >= 1, found "-5"',
      ],
      ['--threads 0', ['--threads', '0'], 2, '--threads must be an integer >= 1, found "0"'],
      ['an unknown --dtype', ['--dtype', 'q3'], 2, '--dtype: the dtype must be one of'],
      [
        'a video given as --image',
        ['--image', videoFile],
        1,
        `--image ${videoFile} is a video (MP4 / QuickTime), not an image: pass it with --video.`,
      ],
      [
        'an image given as --video',
        ['--video', join(tinyFixture.images, fixtureCases().find((c) => c.images.length > 0)!.images[0]!)],
        1,
        'is an image (PNG), not a video: pass it with --image.',
      ],
      ['a missing --video', ['--video', 'missing.mp4'], 1, `--video ${join(tmpdir(), 'missing.mp4')}: no such file.`],
      [
        'a missing --question-file',
        ['--question-file', 'missing.txt'],
        1,
        '--question-file missing.txt: no such file.',
      ],
    ])('%s', async (_name, args, code, message) => {
      const started = performance.now();
      const run = await runCliForTest(
        ['generate', url, ...(args.includes('--question-file') ? [] : ['--question', 'Hi']), ...args],
        { cwd: tmpdir() },
      );
      expect(run.err).toContain(message);
      expect(run.code).toBe(code);
      expect(requests).toBe(0);
      expect(performance.now() - started).toBeLessThan(5000);
    });
  });
});
