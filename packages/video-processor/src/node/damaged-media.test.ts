import { type VideoLlavaWarning, VideoLlavaError } from '@video-llava/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MediaCorpus, makeMediaCorpus } from '../../test/damaged-media.js';
import { fixtureVideoProcessorConfig } from '../../test/fixture-config.js';
import { VideoLlavaVideoProcessor } from '../index.js';
import { loadVideo } from '../node.js';

// Broken and unusual media, made here by FFmpeg: each loads with the outcome it is listed with (frames, frames with
// warnings saying what was lost, or a VideoLlavaError naming the file), and what loads goes through preprocess.

let corpus: MediaCorpus;
beforeAll(async () => {
  corpus = await makeMediaCorpus();
}, 60_000);
afterAll(() => corpus?.remove());

const processor = new VideoLlavaVideoProcessor(fixtureVideoProcessorConfig());

describe('the damaged-media corpus', () => {
  it('every file gets its expected outcome, and nothing else', async () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(20);
    for (const item of corpus.cases) {
      const heard: VideoLlavaWarning[] = [];
      let outcome: Awaited<ReturnType<typeof loadVideo>> | VideoLlavaError;
      try {
        outcome = await loadVideo(item.file, { onWarning: (warning) => heard.push(warning) });
      } catch (error) {
        if (!VideoLlavaError.isInstance(error))
          throw new Error(`${item.name} (${item.about}): not a VideoLlavaError: ${String(error)}`);
        outcome = error;
      }
      const label = `${item.name} (${item.about})`;
      if (item.expected.kind === 'error') {
        expect(VideoLlavaError.isInstance(outcome), `${label}: expected ${item.expected.code}, it loaded`).toBe(true);
        const error = outcome as VideoLlavaError;
        expect(error.code, `${label}: ${error.message}`).toBe(item.expected.code);
        expect(error.file, label).toBe(item.file);
        expect(error.message, label).toContain(item.file);
        expect(error.message, label).toMatch(item.expected.message);
        continue;
      }
      expect(VideoLlavaError.isInstance(outcome), `${label}: ${(outcome as Error).message}`).toBe(false);
      const video = outcome as Awaited<ReturnType<typeof loadVideo>>;
      expect(video.frames.dims, label).toEqual([8, item.expected.height, item.expected.width, 3]);
      expect(video.warnings, label).toEqual(heard);
      if (item.expected.kind === 'frames') {
        expect(heard, label).toEqual([]);
        // Frame-exact against FFmpeg's own decode of every frame.
        const frameBytes = item.expected.width * item.expected.height * 3;
        expect(video.totalFrames, label).toBe(item.allFrames!.length / frameBytes);
        video.indices.forEach((index, position) => {
          const expected = item.allFrames!.subarray(index * frameBytes, (index + 1) * frameBytes);
          const actual = (video.frames.data as Uint8Array).subarray(position * frameBytes, (position + 1) * frameBytes);
          expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected)), `${label} frame ${index}`).toBe(0);
        });
      } else {
        expect(
          heard.map((warning) => warning.code),
          label,
        ).toEqual(item.expected.warnings);
        for (const warning of heard) {
          expect(warning.file, label).toBe(item.file);
          expect(warning.message, label).toContain(item.file);
        }
        if (item.expected.maxTotalFrames !== undefined)
          expect(video.totalFrames, label).toBeLessThanOrEqual(item.expected.maxTotalFrames);
      }
      const { pixelValuesVideos } = processor.preprocess(video);
      expect(pixelValuesVideos.dims, label).toEqual([1, 8, 3, 224, 224]);
      expect(pixelValuesVideos.data.every(Number.isFinite), label).toBe(true);
    }
  }, 60_000);

  it('a truncated file whose index survived says how much was lost, and samples only what was read', async () => {
    const truncated = corpus.cases.find((item) => item.name === 'truncated_35pct_index_kept.mp4')!;
    const video = await loadVideo(truncated.file);
    expect(video.warnings).toHaveLength(1);
    const warning = video.warnings![0]!;
    expect(warning.message).toMatch(
      /only \d+ frames \([\d.]+ s\) of the about 60 frames \(6\.00 s\) it declares could be read/,
    );
    expect(warning.expected).toBe(60);
    expect(video.totalFrames).toBe(warning.actual);
    expect(video.totalFrames).toBeLessThan(30);
    expect(Math.max(...video.indices)).toBeLessThan(video.totalFrames);
  });

  it("damagedMedia: 'error' refuses damaged files with DECODE_FAILED, and whole ones still load", async () => {
    for (const name of ['truncated_60pct_index_kept.mp4', 'corrupt_middle.mp4']) {
      const item = corpus.cases.find((candidate) => candidate.name === name)!;
      await expect(loadVideo(item.file, { damagedMedia: 'error' }), name).rejects.toMatchObject({
        code: 'DECODE_FAILED',
        file: item.file,
      });
    }
    const whole = corpus.cases.find((item) => item.name === 'whole_faststart.mp4')!;
    expect((await loadVideo(whole.file, { damagedMedia: 'error' })).warnings).toEqual([]);
  });

  it('a clip shorter than the 8 frames sampled repeats frames like np.arange(0, total, total / 8).astype(int)', async () => {
    const five = corpus.cases.find((item) => item.name === 'five_frames.mp4')!;
    const video = await loadVideo(five.file);
    expect(video.indices).toEqual([0, 0, 1, 1, 2, 3, 3, 4]);
    expect(video.warnings![0]).toMatchObject({ code: 'FRAMES_REPEATED', expected: 8, actual: 5 });
    expect(video.warnings![0]!.message).toContain('fewer than the 8 sampled');
    const one = await loadVideo(corpus.cases.find((item) => item.name === 'one_frame.mp4')!.file);
    expect(one.indices).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // Explicit indices are taken as given, without a note.
    expect((await loadVideo(five.file, { indices: [4, 0] })).warnings).toEqual([]);
  });
});
