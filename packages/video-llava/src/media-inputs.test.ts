import { type ProgressEvent, Tensor } from '@video-llava/core';
import type { RawImage } from '@video-llava/image-processor';
import type { VideoLlavaProcessor } from '@video-llava/processor';
import { describe, expect, it } from 'vitest';
import { type MediaContext, imagePixelValues, videoPixelValues } from './media-inputs.js';
import type { MediaLoadOptions, VideoLlavaPlatform } from './platform.js';

// A platform whose "files" are strings, and a processor whose pixel values are filled with a marker: what the
// request's media become, without decoders or a checkpoint.
const FRAMES = 2;
const SIZE = 2;

function filled(dims: number[], value: number): Tensor<'float32'> {
  return new Tensor('float32', new Float32Array(dims.reduce((product, dim) => product * dim, 1)).fill(value), dims);
}

function context(options: { signal?: AbortSignal } = {}) {
  const loads: { kind: string; input: unknown; options: MediaLoadOptions }[] = [];
  const progress: ProgressEvent[] = [];
  const platform: VideoLlavaPlatform = {
    name: 'test',
    createBackend: () => {
      throw new Error('not used');
    },
    resolveSource: () => {
      throw new Error('not used');
    },
    isMediaFile: (input) => typeof input === 'string',
    loadVideo: async (input, loadOptions) => {
      loads.push({ kind: 'video', input, options: loadOptions });
      return { marker: 7 } as never;
    },
    loadImage: async (input, loadOptions) => {
      loads.push({ kind: 'image', input, options: loadOptions });
      return { width: 1, height: 1, marker: 8 } as unknown as RawImage;
    },
  };
  const processor = {
    config: { processor: { videoProcessor: { numFrames: FRAMES } } },
    videoProcessor: {
      preprocess: (frames: { marker: number }) => ({
        pixelValuesVideos: filled([1, FRAMES, 3, SIZE, SIZE], frames.marker),
      }),
    },
    imageProcessor: {
      preprocess: (image: { marker: number }) => ({ pixelValues: filled([1, 3, SIZE, SIZE], image.marker) }),
    },
  } as unknown as VideoLlavaProcessor;
  const mediaContext: MediaContext = {
    platform,
    processor,
    signal: options.signal,
    onProgress: (event) => progress.push(event),
  };
  return { mediaContext, loads, progress };
}

describe('videoPixelValues', () => {
  it('decodes files (with progress), processes decoded frames, takes pixel values as they are, in order', async () => {
    const { mediaContext, loads, progress } = context();
    const pixels = await videoPixelValues(
      ['clip.mp4', { marker: 5 } as never, filled([FRAMES, 3, SIZE, SIZE], 3)],
      mediaContext,
    );
    expect(pixels!.dims).toEqual([3, FRAMES, 3, SIZE, SIZE]);
    const perVideo = FRAMES * 3 * SIZE * SIZE;
    expect([pixels!.data[0], pixels!.data[perVideo], pixels!.data[2 * perVideo]]).toEqual([7, 5, 3]);
    expect(loads).toEqual([{ kind: 'video', input: 'clip.mp4', options: { numFrames: FRAMES, signal: undefined } }]);
    expect(progress).toEqual([
      { stage: 'decode-video', done: 0, total: 3, unit: 'items', file: 'clip.mp4' },
      { stage: 'decode-video', done: 1, total: 3, unit: 'items', file: 'clip.mp4' },
    ]);
  });

  it('takes one video or none', async () => {
    const { mediaContext } = context();
    expect((await videoPixelValues('clip.mp4', mediaContext))!.dims).toEqual([1, FRAMES, 3, SIZE, SIZE]);
    expect(await videoPixelValues(undefined, mediaContext)).toBeUndefined();
    expect(await videoPixelValues([], mediaContext)).toBeUndefined();
  });

  it('names the entry that is not a video, pixel values of the wrong rank, and videos of different shapes', async () => {
    const { mediaContext } = context();
    await expect(videoPixelValues(['clip.mp4', 42 as never], mediaContext)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'videos[1]',
      actual: '42',
    });
    await expect(videoPixelValues(null as never, mediaContext)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'videos',
    });
    await expect(videoPixelValues([filled([3, SIZE, SIZE], 0)], mediaContext)).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      field: 'videos[0]',
    });
    await expect(
      videoPixelValues(['clip.mp4', filled([FRAMES, 3, SIZE + 1, SIZE + 1], 0)], mediaContext),
    ).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', field: 'videos[1]' });
  });

  it('stops before decoding when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { mediaContext, loads } = context({ signal: controller.signal });
    await expect(videoPixelValues(['clip.mp4'], mediaContext)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(loads).toEqual([]);
  });
});

describe('imagePixelValues', () => {
  it('decodes files (with progress), processes RawImages, takes pixel values as they are, in order', async () => {
    const { mediaContext, loads, progress } = context();
    const pixels = await imagePixelValues(
      ['cat.png', { width: 1, height: 1, marker: 6 } as unknown as RawImage, filled([3, SIZE, SIZE], 4)],
      mediaContext,
    );
    expect(pixels!.dims).toEqual([3, 3, SIZE, SIZE]);
    const perImage = 3 * SIZE * SIZE;
    expect([pixels!.data[0], pixels!.data[perImage], pixels!.data[2 * perImage]]).toEqual([8, 6, 4]);
    expect(loads).toEqual([{ kind: 'image', input: 'cat.png', options: { numFrames: FRAMES, signal: undefined } }]);
    expect(progress).toEqual([
      { stage: 'decode-image', done: 0, total: 3, unit: 'items', file: 'cat.png' },
      { stage: 'decode-image', done: 1, total: 3, unit: 'items', file: 'cat.png' },
    ]);
  });

  it('names the entry that is not an image and pixel values of the wrong rank', async () => {
    const { mediaContext } = context();
    await expect(imagePixelValues([{ marker: 1 } as never], mediaContext)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'images[0]',
      expected: 'a path, URL, Blob, RawImage or float32 pixel values',
    });
    await expect(imagePixelValues([filled([SIZE, SIZE], 0)], mediaContext)).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      field: 'images[0]',
    });
  });
});
