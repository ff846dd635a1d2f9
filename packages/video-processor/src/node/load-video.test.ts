import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import { measureDifference, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestVideos, makeTestVideos } from '../../test/ffmpeg-fixtures.js';
import { VideoLlavaVideoProcessor } from '../index.js';
import { loadVideo, probeVideo, resolveFfmpegPath } from '../node.js';
import { probeVideoStream } from './probe-video.js';
import { planSeeks, seekableFrameTimes } from './seek-plan.js';
import { fixtureVideoProcessorConfig } from '../../test/fixture-config.js';

async function rejection(promise: Promise<unknown>): Promise<VideoLlavaError> {
  try {
    await promise;
  } catch (error) {
    if (VideoLlavaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a VideoLlavaError');
}

let videos: TestVideos;

/** An FFmpeg that logs its command lines, to see which runs decoded frames. */
async function loggingFfmpeg(name: string): Promise<{ path: string; decodes: () => string[] }> {
  const runs = join(videos.directory, `${name}-runs.log`);
  const path = join(videos.directory, `${name}-logging-ffmpeg.sh`);
  writeFileSync(runs, '');
  writeFileSync(path, `#!/bin/sh\necho "$*" >> '${runs}'\nexec '${await resolveFfmpegPath()}' "$@"\n`, { mode: 0o755 });
  return {
    path,
    decodes: () =>
      readFileSync(runs, 'utf8')
        .split('\n')
        .filter((line) => line.includes('rawvideo')),
  };
}
beforeAll(async () => {
  videos = await makeTestVideos();
});
afterAll(() => videos?.remove());

describe('loadVideo (FFmpeg)', () => {
  it('decodes the fixture video like the reference: 48 frames, indices 0,6,...,42, same pixels (mean abs difference <= 1 level)', async () => {
    const reference = tinyFixture.json<{
      total_frames: number;
      indices: number[];
      fps: number;
      size: [number, number];
    }>('video.json');
    const expectedFrames = tinyFixture.npy('video_sampled_frames.npy');
    const video = await loadVideo(join(tinyFixture.video, 'sample_48f_320x240.mp4'));
    expect(video.totalFrames).toBe(reference.total_frames);
    expect(video.totalFrames).toBe(48);
    expect(video.indices).toEqual(reference.indices);
    expect(video.indices).toEqual([0, 6, 12, 18, 24, 30, 36, 42]);
    expect(video.fps).toBe(reference.fps);
    expect([video.width, video.height]).toEqual(reference.size);
    expect(video.frames.dims).toEqual(expectedFrames.dims);
    // The reference decoded with OpenCV's FFmpeg backend; a different YUV->RGB conversion may differ by a level.
    // Measured with the bundled FFmpeg (4.1, swscale's default BT.601 conversion): 0, max 0.
    const difference = measureDifference(video.frames, expectedFrames);
    expect(difference.meanAbsDifference).toBeLessThanOrEqual(1.0);
  });

  it('decoded and processed, the fixture video gives the reference pixel_values_videos (mean abs difference <= 0.02)', async () => {
    const video = await loadVideo(join(tinyFixture.video, 'sample_48f_320x240.mp4'));
    const { pixelValuesVideos } = new VideoLlavaVideoProcessor(fixtureVideoProcessorConfig()).preprocess(video);
    const expected = tinyFixture.npy('pixel_values_videos_sample.npy');
    expect(pixelValuesVideos.dims).toEqual(expected.dims);
    // One level of frame difference is 1 / (255 * std) ~ 0.015 after normalisation (std ~ 0.27); the resize keeps a
    // mean difference about where it was. Measured with the bundled FFmpeg: 0 (identical frames, exact resampler).
    expect(measureDifference(pixelValuesVideos, expected).meanAbsDifference).toBeLessThanOrEqual(0.02);
  });

  it('decodes an H.264 video made here, frame-exact by decoded index', async () => {
    const video = await loadVideo(videos.h264);
    expect(video.totalFrames).toBe(30);
    expect(video.fps).toBe(10);
    expect(video.indices).toEqual([0, 3, 7, 11, 15, 18, 22, 26]);
    const frameBytes = 320 * 240 * 3;
    video.indices.forEach((index, position) => {
      const expected = videos.h264AllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
      const actual = (video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `frame ${index}`).toBe(0);
    });
  });

  it('returns explicit indices in the order asked, repeats included, and samples by fps', async () => {
    const frameBytes = 320 * 240 * 3;
    const video = await loadVideo(videos.h264, { indices: [29, 0, 29] });
    expect(video.frames.dims).toEqual([3, 240, 320, 3]);
    [29, 0, 29].forEach((index, position) => {
      const expected = videos.h264AllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
      expect(
        Buffer.compare(
          Buffer.from((video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes)),
          Buffer.from(expected),
        ),
      ).toBe(0);
    });
    const byFps = await loadVideo(videos.h264, { fps: 2 });
    // int(30 / 10 * 2) = 6 frames: floor(i * 30 / 6)
    expect(byFps.indices).toEqual([0, 5, 10, 15, 20, 25]);
    const counted = await loadVideo(videos.h264, { numFrames: 4, frameCount: 'decode' });
    expect(counted.totalFrames).toBe(30);
    expect(counted.indices).toEqual([0, 7, 15, 22]);
  });

  it('checks the stream frame count against what decodes, and samples from the decodable frames', async () => {
    // 30 packets but 24 decodable frames (edit list)
    expect((await probeVideo(videos.editList)).totalFrames).toBe(30);
    const frameBytes = 320 * 240 * 3;
    expect(videos.editListAllFrames.length / frameBytes).toBe(24);
    for (const frameCount of ['stream', 'decode'] as const) {
      const video = await loadVideo(videos.editList, { frameCount });
      expect(video.totalFrames).toBe(24);
      expect(video.indices).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
      video.indices.forEach((index, position) => {
        const expected = videos.editListAllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
        const actual = (video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
        expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `frame ${index}`).toBe(0);
      });
    }
    // an explicit index past the decodable frames is refused with the real count
    const error = await rejection(loadVideo(videos.editList, { indices: [27] }));
    expect(error.field).toBe('indices[0]');
    expect(error.message).toContain('24-frame');
  });

  it('seeks to the key frame before each wanted frame where that skips frames, and gets the very same frames', async () => {
    const { probe, packets, startSeconds } = await probeVideoStream(videos.gop20, {}, true);
    expect(probe.totalFrames).toBe(240);
    const indices = [0, 30, 60, 90, 120, 150, 180, 210];
    const plan = planSeeks(packets!, seekableFrameTimes(packets!, probe.codec)!, startSeconds, indices);
    // key frames every 20 frames: frame 30 from key frame 20, frame 60 is a key frame, ...
    expect(plan?.segments.length).toBeGreaterThan(1);
    expect(plan?.segments.flatMap((segment) => segment.times)).toEqual(indices.map((index) => index / 10));
    const frameBytes = 160 * 120 * 3;
    const logging = await loggingFfmpeg('gop20');
    const seeking = await loadVideo(videos.gop20, { ffmpegPath: logging.path });
    const decodes = logging.decodes();
    expect(decodes.length).toBe(plan!.segments.length);
    expect(decodes.filter((line) => line.includes('-noaccurate_seek -ss')).length).toBe(plan!.segments.length - 1);
    expect(decodes.some((line) => line.includes('eq(n'))).toBe(false);
    expect(seeking.indices).toEqual(indices);
    expect(seeking.totalFrames).toBe(240);
    indices.forEach((index, position) => {
      const expected = videos.gop20AllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
      const actual = (seeking.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `frame ${index}`).toBe(0);
    });
    const fromStart = await loadVideo(videos.gop20, { seek: false });
    expect(
      Buffer.compare(Buffer.from(fromStart.frames.data as Uint8Array), Buffer.from(seeking.frames.data as Uint8Array)),
    ).toBe(0);
    // any indices, key frames or not, in any order
    const odd = [239, 19, 20, 21, 139, 140];
    const picked = await loadVideo(videos.gop20, { indices: odd });
    odd.forEach((index, position) => {
      const expected = videos.gop20AllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
      const actual = (picked.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `frame ${index}`).toBe(0);
    });
  });

  it('seeks in VP9 and closed-GOP HEVC too, with the very same frames', async () => {
    const frameBytes = 160 * 120 * 3;
    for (const { file, allFrames } of videos.seekable) {
      const { probe, packets, startSeconds } = await probeVideoStream(file, {}, true);
      const logging = await loggingFfmpeg(probe.codec);
      const video = await loadVideo(file, { ffmpegPath: logging.path });
      expect(video.totalFrames, file).toBe(allFrames.length / frameBytes);
      const segments =
        planSeeks(packets!, seekableFrameTimes(packets!, probe.codec)!, startSeconds, video.indices)?.segments.length ??
        0;
      expect(segments, file).toBeGreaterThan(1);
      // every planned run decoded, none from the start by index
      expect(logging.decodes().length, file).toBe(segments);
      expect(
        logging.decodes().some((line) => line.includes('eq(n')),
        file,
      ).toBe(false);
      video.indices.forEach((index, position) => {
        const expected = allFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
        const actual = (video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
        expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `${file} frame ${index}`).toBe(0);
      });
    }
  });

  it('decodes from the start when a seek lands past a wanted frame (the run comes back short)', async () => {
    // An FFmpeg whose seeks all go to 23 s, past most wanted frames
    const runs = join(videos.directory, 'overshoot.log');
    const overshooting = join(videos.directory, 'overshooting-ffmpeg.sh');
    const script = [
      '#!/bin/sh',
      `echo "$*" >> '${runs}'`,
      'next=""; for argument in "$@"; do shift; if [ "$next" = 1 ]; then argument=23; fi; next=""; [ "$argument" = -ss ] && next=1; set -- "$@" "$argument"; done',
      `exec '${await resolveFfmpegPath()}' "$@"`,
      '',
    ].join('\n');
    writeFileSync(overshooting, script, { mode: 0o755 });
    const video = await loadVideo(videos.gop20, { ffmpegPath: overshooting });
    const decodes = readFileSync(runs, 'utf8')
      .split('\n')
      .filter((line) => line.includes('rawvideo'));
    expect(decodes.some((line) => line.includes('-ss'))).toBe(true);
    expect(decodes.at(-1)).toContain('eq(n');
    const frameBytes = 160 * 120 * 3;
    video.indices.forEach((index, position) => {
      const expected = videos.gop20AllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
      const actual = (video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `frame ${index}`).toBe(0);
    });
  });

  it('an abort during the seek runs stops them all', async () => {
    // An FFmpeg whose seeking runs hang for 20 s before starting
    const slow = join(videos.directory, 'slow-seeking-ffmpeg.sh');
    writeFileSync(
      slow,
      `#!/bin/sh\ncase "$*" in *-noaccurate_seek*) exec sleep 20;; esac\nexec '${await resolveFfmpegPath()}' "$@"\n`,
      { mode: 0o755 },
    );
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 500);
    const error = await rejection(loadVideo(videos.gop20, { ffmpegPath: slow, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('does not seek into open GOPs (their leading frames need the previous GOP), and still gets the right frames', async () => {
    const { probe, packets } = await probeVideoStream(videos.openGop, {}, true);
    expect(seekableFrameTimes(packets!, probe.codec)).toBeUndefined();
    const frameBytes = 160 * 120 * 3;
    expect(videos.openGopAllFrames.length / frameBytes).toBe(240);
    const video = await loadVideo(videos.openGop);
    video.indices.forEach((index, position) => {
      const expected = videos.openGopAllFrames.subarray(index * frameBytes, (index + 1) * frameBytes);
      const actual = (video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `frame ${index}`).toBe(0);
    });
  });

  it('reads other codecs and containers (VP9 in WebM) and applies the rotation tag', async () => {
    const vp9 = await loadVideo(videos.vp9, { numFrames: 3 });
    expect(vp9.totalFrames).toBe(12);
    expect(vp9.frames.dims).toEqual([3, 48, 64, 3]);
    const rotated = await probeVideo(videos.rotated);
    // FFmpeg 4.1 writes the tag as a display matrix that reads back as 270; either way the frames turn a quarter
    expect([90, 270]).toContain(rotated.rotation);
    expect([rotated.width, rotated.height]).toEqual([240, 320]);
    const frames = await loadVideo(videos.rotated, { numFrames: 2 });
    expect(frames.frames.dims).toEqual([2, 320, 240, 3]);
  });

  it('refuses a missing file, naming it', async () => {
    const missing = join(videos.directory, 'missing.mp4');
    const error = await rejection(loadVideo(missing));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.file).toBe(missing);
    expect(error.message).toContain(missing);
  });

  it('refuses an empty file, naming it', async () => {
    const error = await rejection(loadVideo(videos.empty));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.file).toBe(videos.empty);
    expect(error.message).toContain(videos.empty);
    expect(error.message).toContain('0 bytes');
  });

  it('refuses a text file named .mp4, naming it', async () => {
    const error = await rejection(loadVideo(videos.text));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.file).toBe(videos.text);
    expect(error.message).toContain(videos.text);
    expect(error.message).toContain('not a video');
  });

  it('refuses a file with no video stream (audio only), naming it', async () => {
    const error = await rejection(loadVideo(videos.audioOnly));
    expect(error.code).toBe('INVALID_FILE');
    expect(error.file).toBe(videos.audioOnly);
    expect(error.field).toBe('video stream');
    expect(error.message).toContain('no video stream');
    expect(error.actual).toBe('only audio streams');
  });

  it('samples a video with fewer frames than asked by repeating frames, with a FRAMES_REPEATED warning', async () => {
    const warnings: string[] = [];
    const video = await loadVideo(videos.short, { numFrames: 8, onWarning: (warning) => warnings.push(warning.code) });
    // the model card's arange indices, which repeat frames: floor(i * 5 / 8)
    expect(video.indices).toEqual([0, 0, 1, 1, 2, 3, 3, 4]);
    expect(video.frames.dims[0]).toBe(8);
    expect(warnings).toEqual(['FRAMES_REPEATED']);
    const outOfRange = await rejection(loadVideo(videos.short, { indices: [5] }));
    expect(outOfRange.field).toBe('indices[0]');
  });

  it('refuses conflicting options and stops on abort', async () => {
    expect((await rejection(loadVideo(videos.h264, { numFrames: 2, fps: 1 }))).field).toBe('fps');
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(loadVideo(videos.h264, { signal: controller.signal }))).code).toBe('ABORTED');
  });
});
