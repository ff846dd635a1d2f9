import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@video-llava/core';
import { assertClose, measureDifference, parseNpy, repositoryRoot, tinyFixture } from '@video-llava/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliRun, runCliForTest } from '../run-cli-for-test.js';
import { type PreprocessResult, encodeNpy } from './preprocess.js';

// Pixel values of PNG inputs must match the reference within 1e-5 (the image processor is an exact port: 0).
const PIXEL_TOLERANCE = 1e-5;

const folder = mkdtempSync(join(tmpdir(), 'cli-preprocess-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const fixtureVideo = join(tinyFixture.video, 'sample_48f_320x240.mp4');

function preprocess(args: string[]): Promise<CliRun> {
  return runCliForTest(['preprocess', tinyFixture.model, ...args], { cwd: repositoryRoot });
}

describe('encodeNpy', () => {
  it('writes NumPy 1.0 bytes: a 64-byte aligned header and the little-endian data, even of a view', () => {
    const backing = new Float32Array([9, 1.5, -2, 3.25, 1e-7, 6, 7]);
    const tensor = new Tensor('float32', backing.subarray(1, 7), [2, 3]);
    const bytes = encodeNpy(tensor);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLength) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLength))).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/,
    );
    const parsed = parseNpy(bytes);
    expect(parsed.dtype).toBe('float32');
    expect(parsed.dims).toEqual([2, 3]);
    expect([...(parsed.data as Float32Array)]).toEqual([...backing.subarray(1, 7)]);
    expect(parseNpy(encodeNpy(new Tensor('float32', new Float32Array([4]), [1]))).dims).toEqual([1]);
  });
});

describe('video-llava preprocess', () => {
  it('--image: writes pixel_values [1,3,224,224] equal to the reference (max abs difference <= 1e-5) and prints JSON', async () => {
    const out = join(folder, 'odd.npy');
    const {
      code,
      out: printed,
      err,
    } = await preprocess(['--image', join(tinyFixture.images, 'odd_225x333.png'), '--out', out, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(printed) as PreprocessResult;
    expect(result).toMatchObject({
      kind: 'image',
      out,
      dtype: 'float32',
      shape: [1, 3, 224, 224],
      sourceSize: { width: 225, height: 333 },
    });
    expect(result.frameIndices).toBeUndefined();
    for (const step of ['config', 'decode', 'preprocess', 'write', 'total'] as const)
      expect(result.timingsMs[step]).toBeGreaterThanOrEqual(0);
    expect(result.timingsMs.total).toBeGreaterThanOrEqual(result.timingsMs.preprocess);
    const written = parseNpy(readFileSync(out), out);
    const difference = assertClose(
      written,
      tinyFixture.npy('pixel_values', 'odd_225x333.png.npy'),
      PIXEL_TOLERANCE,
      'odd_225x333.png',
    );
    expect(difference.maxAbsDifference).toBe(0);
  });

  it('--video: decodes 8 frames (0,6,...,42) and writes pixel_values_videos like the reference (mean abs difference <= 0.02)', async () => {
    const out = join(folder, 'nested', 'video.npy');
    const { code, out: printed } = await preprocess(['--video', fixtureVideo, '--out', out, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(printed) as PreprocessResult;
    expect(result).toMatchObject({
      kind: 'video',
      shape: [1, 8, 3, 224, 224],
      frameIndices: [0, 6, 12, 18, 24, 30, 36, 42],
      totalFrames: 48,
      fps: 10,
    });
    expect(result.sourceSize).toEqual({ width: 320, height: 240 });
    const written = parseNpy(readFileSync(out), out);
    const expected = tinyFixture.npy('pixel_values_videos_sample.npy');
    expect(written.dims).toEqual(expected.dims);
    // The frames come from the bundled FFmpeg, the reference's from OpenCV's: one level of frame difference is
    // about 0.015 after normalisation. Measured: 0 (identical frames).
    expect(measureDifference(written, expected).meanAbsDifference).toBeLessThanOrEqual(0.02);
  });

  it('--frames N takes N uniformly spread frames and prints shape, indices and timings', async () => {
    const out = join(folder, 'four.npy');
    const { code, out: printed } = await preprocess(['--video', fixtureVideo, '--frames', '4', '--out', out]);
    expect(code).toBe(0);
    expect(printed).toContain('48 frames at 10 fps, 320x240');
    // floor(i * 48 / 4)
    expect(printed).toMatch(/^frames {2}0 12 24 36$/m);
    expect(printed).toContain(`wrote   ${out}: float32 [1, 4, 3, 224, 224]`);
    expect(printed).toMatch(
      /^time {4}config [\d.]+ ms, decode [\d.]+ ms, preprocess [\d.]+ ms, write [\d.]+ ms; total [\d.]+ ms$/m,
    );
    const written = parseNpy(readFileSync(out), out);
    expect(written.dims).toEqual([1, 4, 3, 224, 224]);
    // frame 0 and frame 24 are frames 0 and 3 of the default 8
    const eightPath = join(folder, 'eight.npy');
    expect((await preprocess(['--video', fixtureVideo, '--out', eightPath])).code).toBe(0);
    const eight = parseNpy(readFileSync(eightPath));
    assertClose(written.at(0).at(0), eight.at(0).at(0), 0, 'frame 0');
    assertClose(written.at(0).at(2), eight.at(0).at(4), 0, 'frame 24');
  });

  it.each([
    [[], 'give --image FILE or --video FILE'],
    [['--image', 'a.png', '--video', 'b.mp4', '--out', 'x.npy'], 'not both'],
    [['--image', 'a.png'], 'missing --out'],
    [['--image', 'a.png', '--out', 'x.png'], 'should name a .npy file'],
    [['--image', 'a.png', '--frames', '4', '--out', 'x.npy'], '--frames goes with --video'],
    [['--video', 'b.mp4', '--frames', '0', '--out', 'x.npy'], '--frames should be a positive integer, found "0"'],
    [['--video', 'b.mp4', '--frames', 'eight', '--out', 'x.npy'], '--frames should be a positive integer'],
    [['--image', 'a.png', '--out', 'x.npy', '--colour'], "Unknown option '--colour'"],
  ])('usage error for %j: exit 2 with the usage line', async (args, message) => {
    const { code, err, out } = await preprocess(args);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('Usage: video-llava preprocess');
    expect(out).toBe('');
  });

  it('bad input exits 1 naming the file, and writes nothing', async () => {
    const missing = join(folder, 'missing.png');
    const image = await preprocess(['--image', missing, '--out', join(folder, 'never1.npy')]);
    expect(image.code).toBe(1);
    expect(image.err).toContain(missing);
    const text = join(folder, 'notes.mp4');
    writeFileSync(text, 'not a video\n');
    const notVideo = await preprocess(['--video', text, '--out', join(folder, 'never2.npy')]);
    expect(notVideo.code).toBe(1);
    expect(notVideo.err).toContain(text);
    expect(notVideo.err).toContain('not a video');
    const videoAsImage = await preprocess(['--image', fixtureVideo, '--out', join(folder, 'never4.npy')]);
    expect(videoAsImage.code).toBe(1);
    expect(videoAsImage.err).toContain(
      `--image ${fixtureVideo} is a video (MP4 / QuickTime), not an image: pass it with --video.`,
    );
  });

  it("more --frames than the video has: frames repeat (the model card's sampling), with a warning on stderr", async () => {
    const tooMany = await preprocess([
      '--video',
      fixtureVideo,
      '--frames',
      '49',
      '--out',
      join(folder, 'repeated.npy'),
      '--json',
    ]);
    expect(tooMany.code).toBe(0);
    expect(tooMany.err).toContain(`warning: ${fixtureVideo} has 48 frames, fewer than the 49 sampled: frames repeat`);
    expect(JSON.parse(tooMany.out).frameIndices.slice(0, 3)).toEqual([0, 0, 1]);
  });

  it('an --out that cannot be written exits 1 naming it', async () => {
    const blocker = join(folder, 'a-file');
    writeFileSync(blocker, '');
    const out = join(blocker, 'inside.npy');
    const { code, err } = await preprocess(['--image', join(tinyFixture.images, 'small_100x80.png'), '--out', out]);
    expect(code).toBe(1);
    expect(err).toContain(`Could not write ${out}`);
  });
});
