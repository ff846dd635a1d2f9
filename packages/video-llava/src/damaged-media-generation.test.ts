import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VideoLlavaWarning } from '@video-llava/core';
import { tinyFixture } from '@video-llava/test-utils';
import { resolveFfmpegPath } from '@video-llava/video-processor/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertedFixture } from '../test/converted-fixture.js';
import { VideoLlava } from './index.js';

// A few files of the damaged-media corpus (video-processor's damaged-media.test.ts has all of them) asked about on
// the tiny model: the answer comes, and the warnings reach the caller's onWarning.

let model: VideoLlava;
let scratch: string;
const prompt = 'USER: <video>\nWhat happens? ASSISTANT:';
const imageName = readdirSync(tinyFixture.images).find((name) => name.endsWith('.png'))!;

beforeAll(async () => {
  model = await VideoLlava.load(await convertedFixture(), { sessionOptions: { threads: 1 }, prefixCache: false });
  scratch = mkdtempSync(join(tmpdir(), 'video-llava-damaged-'));
});
afterAll(async () => {
  await model?.release();
  rmSync(scratch, { recursive: true, force: true });
});

async function ffmpeg(...args: string[]): Promise<void> {
  execFileSync(await resolveFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
}

describe('generation on damaged and short media', () => {
  it('a five-frame clip is answered about with repeated frames, and says so', async () => {
    const file = join(scratch, 'five.mp4');
    await ffmpeg(
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=0.5:size=64x48:rate=10',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      file,
    );
    const warnings: VideoLlavaWarning[] = [];
    const answer = await model.generate({
      prompt,
      videos: [file],
      maxNewTokens: 2,
      onWarning: (warning) => warnings.push(warning),
    });
    expect(answer.ids.length).toBeGreaterThan(0);
    expect(warnings.map((warning) => warning.code)).toEqual(['FRAMES_REPEATED']);
    expect(warnings[0]!.file).toBe(file);
  });

  it('a truncated copy of the fixture video (index kept) is answered about, with a MEDIA_DAMAGED warning', async () => {
    const faststart = join(scratch, 'faststart.mp4');
    await ffmpeg(
      '-i',
      join(tinyFixture.video, 'sample_48f_320x240.mp4'),
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      faststart,
    );
    const bytes = readFileSync(faststart);
    const truncated = join(scratch, 'truncated.mp4');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const warnings: VideoLlavaWarning[] = [];
    const answer = await model.generate({
      prompt,
      videos: [truncated],
      maxNewTokens: 2,
      onWarning: (warning) => warnings.push(warning),
    });
    expect(answer.ids.length).toBeGreaterThan(0);
    expect(warnings.map((warning) => warning.code)).toEqual(['MEDIA_DAMAGED']);
    expect(warnings[0]!.message).toContain('of the about 48 frames (4.80 s) it declares could be read');
  });

  it('audio only is refused naming the file, before any model work', async () => {
    const file = join(scratch, 'audio.m4a');
    await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', file);
    await expect(model.generate({ prompt, videos: [file], maxNewTokens: 2 })).rejects.toMatchObject({
      code: 'INVALID_FILE',
      file,
    });
  });
});

describe('text that looks like a placeholder', () => {
  it('a question mentioning the HTML <video> tag and `<image>` code is asked about one image (the typed tags stay text)', async () => {
    const question = 'What does the HTML <video> tag do, and `<image>` in code?';
    const answer = await model.generate({
      messages: [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: question }] }],
      images: [join(tinyFixture.images, imageName)],
      maxNewTokens: 1,
    });
    expect(answer.prompt).toEqual([`USER: <image>\n${question} ASSISTANT:`]);
    expect(answer.ids).toHaveLength(1);
  });
});

describe('a missing model folder', () => {
  it('is reported as a missing folder, not as a missing config.json or tokenizer.json', async () => {
    const missing = join(scratch, 'no-such-model');
    await expect(VideoLlava.load(missing)).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      file: missing,
      message: expect.stringContaining(`${missing}: no such model folder`),
    });
  });
});
