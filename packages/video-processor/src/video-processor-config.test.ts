import { Tensor } from '@video-llava/core';
import { describe, expect, it } from 'vitest';
import { catchError } from '../test/catch-error.js';
import { fixtureVideoProcessorConfig } from '../test/fixture-config.js';
import {
  VideoLlavaVideoProcessor,
  nearestExactSourceIndex,
  resizeBicubicTorchvision,
  resizeOutputSize,
} from './index.js';

// Every setting of the video processor config is followed, not the fixture's values. Expected numbers are worked
// out by hand from the reference's formulas (stated next to each).

/** A one-frame video from rows of RGB pixels given as [r, g, b] triples. */
function frameOf(rows: number[][][]): Tensor<'uint8'> {
  const height = rows.length;
  const width = rows[0]!.length;
  return new Tensor('uint8', Uint8Array.from(rows.flat(2)), [1, height, width, 3]);
}

/** Raw pixel values out: no rescale, no normalize, so the output is the resized bytes as floats. */
const RAW = { do_rescale: false, do_normalize: false, do_center_crop: false };

/** Channel 0 of frame 0 as rows. */
function redRows(tensor: Tensor<'float32'>): number[][] {
  const [, , , height, width] = tensor.dims as [number, number, number, number, number];
  return Array.from({ length: height }, (_, y) => Array.from(tensor.data.subarray(y * width, (y + 1) * width)));
}

describe('VideoLlavaVideoProcessor follows the config', () => {
  it('resample 0 (nearest) resizes with torchvision NEAREST_EXACT: floor((i + 0.5) * in / out)', () => {
    // 4 -> 6 columns: floor(0.33, 1.0, 1.67, 2.33, 3.0, 3.67) = 0 1 1 2 3 3; 5 -> 2 rows: floor(1.25, 3.75) = 1 3
    expect(Array.from({ length: 6 }, (_, index) => nearestExactSourceIndex(4, 6, index))).toEqual([0, 1, 1, 2, 3, 3]);
    expect([0, 1].map((index) => nearestExactSourceIndex(5, 2, index))).toEqual([1, 3]);
    const rows = Array.from({ length: 5 }, (_, y) => Array.from({ length: 4 }, (_, x) => [10 * y + x, 0, 0]));
    const processor = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({ ...RAW, resample: 0, size: { height: 2, width: 6 } }),
    );
    const out = processor.preprocess(frameOf(rows)).pixelValuesVideos;
    expect(out.dims).toEqual([1, 1, 3, 2, 6]);
    expect(redRows(out)).toEqual([
      [10, 11, 11, 12, 13, 13],
      [30, 31, 31, 32, 33, 33],
    ]);
  });

  it('resample 2 (bilinear) resizes with the antialiased triangle filter, not bicubic', () => {
    // 4 -> 2 columns, scale 2: support 2, output 0 reads inputs 0..2 with triangle(-0.25, 0.25, 0.75) = .75 .75 .25,
    // normalized 3/7 3/7 1/7; output 1 reads 1..3 with 1/7 3/7 3/7. Values 0 70 140 210 give 50 and 160 exactly.
    const frame = frameOf([[0, 70, 140, 210].map((value) => [value, value, value])]);
    const bilinear = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({ ...RAW, resample: 2, size: { height: 1, width: 2 } }),
    );
    expect(redRows(bilinear.preprocess(frame).pixelValuesVideos)).toEqual([[50, 160]]);
    const bicubic = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({ ...RAW, resample: 3, size: { height: 1, width: 2 } }),
    );
    expect(redRows(bicubic.preprocess(frame).pixelValuesVideos)).not.toEqual([[50, 160]]);
    const direct = resizeBicubicTorchvision(
      { data: Uint8Array.from([0, 70, 140, 210]), width: 4, height: 1, channels: 1 },
      2,
      1,
      { interpolation: 'bilinear' },
    );
    expect(Array.from(direct.data)).toEqual([50, 160]);
  });

  it('refuses lanczos, box and hamming (torchvision cannot resize tensors with them), naming the file and field', () => {
    for (const resample of [1, 4, 5]) {
      const error = catchError(() => new VideoLlavaVideoProcessor(fixtureVideoProcessorConfig({ resample })));
      expect([error.code, error.file, error.field, error.actual]).toEqual([
        'UNSUPPORTED',
        'processor_config.json',
        'video_processor.resample',
        resample,
      ]);
      expect(error.message).toContain('processor_config.json');
      expect(error.message).toContain('video_processor.resample');
    }
    // without do_resize the filter is never used
    expect(
      () => new VideoLlavaVideoProcessor(fixtureVideoProcessorConfig({ resample: 1, do_resize: false })),
    ).not.toThrow();
  });

  it('uses size, crop_size, rescale_factor, image_mean and image_std from the config (336 px, other constants)', () => {
    const config = fixtureVideoProcessorConfig({
      size: 336,
      crop_size: 336,
      rescale_factor: 1 / 127.5,
      image_mean: [0.5, 0.25, 0],
      image_std: [0.25, 0.5, 1],
    });
    const frame = frameOf(Array.from({ length: 5 }, () => Array.from({ length: 7 }, () => [100, 100, 100])));
    const out = new VideoLlavaVideoProcessor(config).preprocess(frame).pixelValuesVideos;
    expect(out.dims).toEqual([1, 1, 3, 336, 336]);
    // fused like transformers: mean and std times 1 / rescale_factor (= 127.5 in float32), then (x - mean) / std
    const f32 = Math.fround;
    [0.5, 0.25, 0].forEach((mean, channel) => {
      const std = [0.25, 0.5, 1][channel]!;
      const expected = f32(f32(100 - f32(f32(mean) * f32(127.5))) / f32(f32(std) * f32(127.5)));
      const plane = out.data.subarray(channel * 336 * 336, (channel + 1) * 336 * 336);
      expect(new Set(plane)).toEqual(new Set([expected]));
    });
  });

  it('do_rescale alone multiplies by rescale_factor in float32; do_normalize alone uses mean and std unscaled', () => {
    const frame = frameOf([[[0, 128, 255]]]);
    const rescaleOnly = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({
        do_resize: false,
        do_center_crop: false,
        do_normalize: false,
        rescale_factor: 0.5,
      }),
    );
    expect(Array.from(rescaleOnly.preprocess(frame).pixelValuesVideos.data)).toEqual([0, 64, 127.5]);
    const normalizeOnly = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({
        do_resize: false,
        do_center_crop: false,
        do_rescale: false,
        image_mean: [1, 2, 3],
        image_std: [2, 2, 2],
      }),
    );
    expect(Array.from(normalizeOnly.preprocess(frame).pixelValuesVideos.data)).toEqual([-0.5, 63, 126]);
  });

  it("size {shortest_edge, longest_edge} caps the long side like transformers' get_size_with_aspect_ratio", () => {
    // (height, width) -> (new height, new width), worked with the reference formula:
    // 224x1000, 224 / 500: 1000 / 224 * 224 > 500, so the short side is round(500 * 224 / 1000) = 112, long int(112 * 1000 / 224)
    expect(resizeOutputSize(1000, 224, { shortestEdge: 224, longestEdge: 500 })).toEqual({ width: 500, height: 112 });
    expect(resizeOutputSize(100, 300, { shortestEdge: 224, longestEdge: 336 })).toEqual({ width: 112, height: 336 });
    // Python's round: 2.5 -> 2 and 3.5 -> 4 (halves to even)
    expect(resizeOutputSize(2, 1, { shortestEdge: 3, longestEdge: 5 })).toEqual({ width: 5, height: 2 });
    expect(resizeOutputSize(2, 1, { shortestEdge: 4, longestEdge: 7 })).toEqual({ width: 7, height: 4 });
    // no cap needed: the plain shortest-edge size
    expect(resizeOutputSize(640, 480, { shortestEdge: 224, longestEdge: 1000 })).toEqual({ width: 298, height: 224 });
    const processor = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({ ...RAW, size: { shortest_edge: 224, longest_edge: 500 } }),
    );
    const frame = new Tensor('uint8', new Uint8Array(224 * 1000 * 3).fill(9), [1, 224, 1000, 3]);
    expect(processor.preprocess(frame).pixelValuesVideos.dims).toEqual([1, 1, 3, 112, 500]);
  });

  it('samples frames by the config: do_sample_frames with num_frames, or with fps', () => {
    const frames = new Tensor(
      'uint8',
      new Uint8Array(12 * 2 * 2 * 3).map((_, index) => Math.floor(index / 12)),
      [12, 2, 2, 3],
    );
    const byCount = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({ ...RAW, do_resize: false, do_sample_frames: true, num_frames: 3 }),
    );
    const counted = byCount.preprocess(frames).pixelValuesVideos;
    // floor(i * 12 / 3) = 0, 4, 8: each frame's first value is its index
    expect(counted.dims).toEqual([1, 3, 3, 2, 2]);
    expect([0, 1, 2].map((index) => counted.data[index * 12])).toEqual([0, 4, 8]);
    const byFps = new VideoLlavaVideoProcessor(
      fixtureVideoProcessorConfig({ ...RAW, do_resize: false, do_sample_frames: true, fps: 2 }),
    );
    // int(12 / 6 * 2) = 4 frames: 0, 3, 6, 9
    const sampled = byFps.preprocess({ frames, fps: 6 }).pixelValuesVideos;
    expect([0, 1, 2, 3].map((index) => sampled.data[index * 12])).toEqual([0, 3, 6, 9]);
  });
});
