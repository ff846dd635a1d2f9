import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '@video-llava/core';
import { assertClose, tinyFixture } from '@video-llava/test-utils';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { fixtureVideoProcessorConfig } from '../test/fixture-config.js';
import { VideoLlavaVideoProcessor, resizeOutputSize } from './index.js';

// Pixel values must match the reference within 1e-5 (an exact port gives 0).
const TOLERANCE = 1e-5;

/** A PNG as RGB the way PIL's convert("RGB") gives it: gray and palette expanded, alpha dropped. */
function readPngAsRgb(path: string): Tensor<'uint8'> {
  const png = PNG.sync.read(readFileSync(path));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let pixel = 0; pixel < png.width * png.height; pixel++) {
    for (let channel = 0; channel < 3; channel++) rgb[pixel * 3 + channel] = png.data[pixel * 4 + channel]!;
  }
  return new Tensor('uint8', rgb, [1, png.height, png.width, 3]);
}

describe('VideoLlavaVideoProcessor', () => {
  const processor = new VideoLlavaVideoProcessor(fixtureVideoProcessorConfig());

  it('turns the 8 sampled reference frames into pixel_values_videos (max abs difference <= 1e-5)', () => {
    const frames = tinyFixture.npy('video_sampled_frames.npy') as Tensor<'uint8'>;
    const expected = tinyFixture.npy('pixel_values_videos_sample.npy');
    const { pixelValuesVideos } = processor.preprocess(frames);
    expect(pixelValuesVideos.dims).toEqual(expected.dims);
    const difference = assertClose(pixelValuesVideos, expected, TOLERANCE, 'pixel_values_videos_sample');
    expect(difference.maxAbsDifference).toBe(0);
  });

  it('matches each fixture image given as a one-frame video (torchvision resampler on many sizes)', () => {
    const index = tinyFixture.json<Array<{ file: string; frame_shape: number[]; out_shape: number[] }>>(
      'video_frames_pixel_values',
      'index.json',
    );
    expect(index.length).toBe(9);
    for (const { file, frame_shape: frameShape, out_shape: outShape } of index) {
      // The JPEG's pixels come from the reference decoder (PIL/libjpeg-turbo) so only the processor is compared.
      const frames = file.endsWith('.jpg')
        ? tinyFixture.npy('decoded_photo_512x384.jpg.npy').reshape([1, ...frameShape])
        : readPngAsRgb(join(tinyFixture.images, file));
      expect(frames.dims.slice(1)).toEqual(frameShape);
      const expected = tinyFixture.npy('video_frames_pixel_values', `${file}.npy`);
      const { pixelValuesVideos } = processor.preprocess(frames as Tensor<'uint8'>);
      expect(pixelValuesVideos.dims).toEqual(outShape);
      assertClose(pixelValuesVideos, expected, TOLERANCE, file);
    }
  });

  it('takes frames as an array of images, and a batch of videos', () => {
    const frames = tinyFixture.npy('video_sampled_frames.npy') as Tensor<'uint8'>;
    const expected = tinyFixture.npy('pixel_values_videos_sample.npy');
    const [count, height, width] = frames.dims as [number, number, number];
    const images = Array.from({ length: count }, (_, index) => ({
      data: frames.at(index).data as Uint8Array,
      width,
      height,
      channels: 3,
    }));
    const batch = processor.preprocess([images, { frames }]).pixelValuesVideos;
    expect(batch.dims).toEqual([2, ...expected.dims.slice(1)]);
    assertClose(batch.at(0), expected.at(0), TOLERANCE, 'array of images');
    assertClose(batch.at(1), expected.at(0), TOLERANCE, '{ frames }');
  });

  it('samples frames itself when asked, with the uniform rule', () => {
    const frames = tinyFixture.npy('video_sampled_frames.npy') as Tensor<'uint8'>;
    const all = processor.preprocess(frames).pixelValuesVideos;
    const sampled = processor.preprocess(frames, { doSampleFrames: true, numFrames: 4 }).pixelValuesVideos;
    expect(sampled.dims[1]).toBe(4);
    // floor(i * 8 / 4) = 0, 2, 4, 6
    [0, 2, 4, 6].forEach((source, index) =>
      assertClose(sampled.at(0).at(index), all.at(0).at(source), 0, `frame ${index}`),
    );
    const error = catchError(() => processor.preprocess(frames, { doSampleFrames: true, numFrames: 9 }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('numFrames');
    const byFps = processor.preprocess({ frames, fps: 10 }, { doSampleFrames: true, fps: 5 }).pixelValuesVideos;
    expect(byFps.dims[1]).toBe(4);
  });

  it('repeats gray to RGB and blends transparent RGBA onto white like the reference', () => {
    const gray = new Tensor(
      'uint8',
      new Uint8Array(300 * 200).map((_, index) => (index * 7) % 256),
      [1, 200, 300, 1],
    );
    const rgb = new Tensor(
      'uint8',
      new Uint8Array(300 * 200 * 3).map((_, index) => (Math.floor(index / 3) * 7) % 256),
      [1, 200, 300, 3],
    );
    assertClose(processor.preprocess(gray).pixelValuesVideos, processor.preprocess(rgb).pixelValuesVideos, 0, 'gray');
    // opaque RGBA keeps its RGB
    const opaque = new Tensor(
      'uint8',
      new Uint8Array(300 * 200 * 4).map((_, index) => (index % 4 === 3 ? 255 : (Math.floor(index / 4) * 7) % 256)),
      [1, 200, 300, 4],
    );
    assertClose(
      processor.preprocess(opaque).pixelValuesVideos,
      processor.preprocess(rgb).pixelValuesVideos,
      0,
      'opaque rgba',
    );
    // fully transparent black becomes white
    const clear = new Tensor('uint8', new Uint8Array(300 * 200 * 4), [1, 200, 300, 4]);
    const white = new Tensor('uint8', new Uint8Array(300 * 200 * 3).fill(255), [1, 200, 300, 3]);
    assertClose(
      processor.preprocess(clear).pixelValuesVideos,
      processor.preprocess(white).pixelValuesVideos,
      1e-6,
      'transparent',
    );
  });

  it('takes a 1x1 frame: upscaled to a constant frame, the same values as a 224x224 frame of that colour', () => {
    const pixel = new Tensor('uint8', new Uint8Array([10, 200, 77]), [1, 1, 1, 3]);
    const out = processor.preprocess(pixel).pixelValuesVideos;
    expect(out.dims).toEqual([1, 1, 3, 224, 224]);
    const constant = new Tensor(
      'uint8',
      new Uint8Array(224 * 224 * 3).map((_, index) => [10, 200, 77][index % 3]!),
      [1, 224, 224, 3],
    );
    assertClose(out, processor.preprocess(constant).pixelValuesVideos, 0, '1x1 frame');
    for (let channel = 0; channel < 3; channel++) {
      const plane = out.data.subarray(channel * 224 * 224, (channel + 1) * 224 * 224);
      expect(new Set(plane).size, `channel ${channel} is constant`).toBe(1);
    }
  });

  it('pads frames smaller than the crop with zeros, centered like transformers', () => {
    const config = { ...fixtureVideoProcessorConfig(), doResize: false };
    const small = new Tensor('uint8', new Uint8Array(101 * 50 * 3).fill(128), [1, 50, 101, 3]);
    const out = new VideoLlavaVideoProcessor(config).preprocess(small).pixelValuesVideos;
    expect(out.dims).toEqual([1, 1, 3, 224, 224]);
    const plane = out.data.subarray(0, 224 * 224);
    const zero = Math.fround(
      Math.fround(0 - Math.fround(Math.fround(config.imageMean[0]) * Math.fround(255))) /
        Math.fround(Math.fround(config.imageStd[0]) * Math.fround(255)),
    );
    // (224 - 101) // 2 = 61 columns of padding on the left, (224 - 50) // 2 = 87 rows on top
    expect(plane[87 * 224 + 60]).toBe(zero);
    expect(plane[87 * 224 + 61]).not.toBe(zero);
    expect(plane[86 * 224 + 61]).toBe(zero);
    expect(plane[(87 + 49) * 224 + 61 + 100]).not.toBe(zero);
    expect(plane[(87 + 50) * 224 + 61 + 100]).toBe(zero);
  });

  it('computes the shortest-edge size like transformers', () => {
    expect(resizeOutputSize(320, 240, { shortestEdge: 224 })).toEqual({ width: 298, height: 224 });
    expect(resizeOutputSize(225, 333, { shortestEdge: 224 })).toEqual({ width: 224, height: 331 });
    expect(resizeOutputSize(10, 20, { height: 5, width: 7 })).toEqual({ width: 7, height: 5 });
  });

  it('refuses malformed frames, naming the video and frame', () => {
    const twoChannels = new Tensor('uint8', new Uint8Array(8 * 8 * 2), [1, 8, 8, 2]);
    const error = catchError(() => processor.preprocess(twoChannels));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.field).toBe('videos[0][0].channels');
    const mixed = [
      { data: new Uint8Array(8 * 8 * 3), width: 8, height: 8, channels: 3 },
      { data: new Uint8Array(9 * 8 * 3), width: 9, height: 8, channels: 3 },
    ];
    expect(catchError(() => processor.preprocess(mixed)).field).toBe('videos[0][1]');
    const short = { data: new Uint8Array(10), width: 8, height: 8, channels: 3 };
    expect(catchError(() => processor.preprocess([short])).code).toBe('SHAPE_MISMATCH');
    expect(catchError(() => processor.preprocess([])).code).toBe('INVALID_ARGUMENT');
    const float = new Tensor('float32', new Float32Array(8 * 8 * 3), [1, 8, 8, 3]);
    expect(catchError(() => processor.preprocess(float as unknown as Tensor<'uint8'>)).field).toBe('videos.dtype');
    expect(catchError(() => new VideoLlavaVideoProcessor({ ...fixtureVideoProcessorConfig(), resample: 5 })).code).toBe(
      'UNSUPPORTED',
    );
  });
});
