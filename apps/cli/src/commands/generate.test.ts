import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '@video-llava/converter/node';
import { fixtureCases, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCliForTest } from '../run-cli-for-test.js';
import type { GenerateResult } from './generate.js';

// The CLI on the fp32 conversion of the fixture, from the raw files: the MP4 decoded by FFmpeg (the reference decoded
// it with OpenCV's FFmpeg), the PNGs by the built-in decoder. Token ids are compared exactly with generated_ids.npy.
const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
let root: string;
let converted: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-generate-'));
  converted = join(root, 'video-llava-tiny-onnx');
  await convertCheckpoint(tinyFixture.model, converted, { dtypes: ['fp32'] });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function generate(args: string[]): Promise<CliRun & { json: GenerateResult | undefined }> {
  const run = await runCliForTest(['generate', converted, ...args], { cwd: root });
  const lines = run.out.trimEnd().split('\n');
  const json = args.includes('--json') && run.code === 0 ? (JSON.parse(lines[lines.length - 1]!) as GenerateResult) : undefined;
  return { ...run, json };
}

describe('video-llava generate', () => {
  // Every single-prompt case of cases.json (the left-padded batch needs two prompts; its rows are checked in
  // packages/video-llava), from the raw image and video files.
  const singles = fixtureCases().filter((fixtureCase) => fixtureCase.text.length === 1);
  it.each(singles.map((fixtureCase) => [fixtureCase.name, fixtureCase] as const))('%s from the raw files: the 24 reference tokens, streamed, then one JSON line', async (name, fixtureCase) => {
    const args = ['--prompt', fixtureCase.text[0]!, '--max-new-tokens', '24', '--greedy', '--json'];
    for (const image of fixtureCase.images) args.push('--image', join(tinyFixture.images, image));
    for (let video = 0; video < fixtureCase.videos; video++) args.push('--video', videoFile);
    const result = await generate(args);
    expect(result.code, result.err).toBe(0);
    expect(result.json!.ids).toEqual(Array.from(tinyFixture.npy(`case_${name}`, 'generated_ids.npy').data as BigInt64Array, Number));
    // The streamed text, then a newline, then the JSON line.
    expect(result.out).toBe(`${result.json!.text}\n${JSON.stringify(result.json)}\n`);
    expect(result.err).toContain('[prefill]');
  });

  it('--question wraps the question in the conversation format (USER: <video>\\n... ASSISTANT:)', async () => {
    const asQuestion = await generate(['--question', 'Why is this funny?', '--video', videoFile, '--max-new-tokens', '6', '--json', '--quiet']);
    expect(asQuestion.code, asQuestion.err).toBe(0);
    expect(asQuestion.err).toBe('');
    const reference = Array.from(tinyFixture.npy('case_video', 'generated_ids.npy').data as BigInt64Array, Number);
    expect(asQuestion.json!.ids).toEqual(reference.slice(0, 6));
  });

  it('samples reproducibly with --seed', async () => {
    const args = ['--question', 'Why is this funny?', '--video', videoFile, '--max-new-tokens', '8', '--temperature', '1.5', '--top-k', '50', '--top-p', '0.95', '--seed', '7', '--json', '--quiet'];
    const first = await generate(args);
    const second = await generate(args);
    expect(first.code, first.err).toBe(0);
    expect(first.json!.ids).toHaveLength(8);
    expect(second.json!.ids).toEqual(first.json!.ids);
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
});
