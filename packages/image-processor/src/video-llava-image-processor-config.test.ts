import { parseProcessorConfig } from '@video-llava/config';
import { describe, expect, it } from 'vitest';
import { RawImage } from './raw-image.js';
import { VideoLlavaImageProcessor } from './video-llava-image-processor.js';

// The image processor built from configs that are not the fixture's, read through parseProcessorConfig like a
// user's preprocessor_config.json. Every expected value is computed by hand from transformers' NumPy path:
// resize (PIL), center_crop (zero padding when smaller), x * rescale_factor in double then float32, then
// (x - float32(mean)) / float32(std) in float32.

const f32 = Math.fround;

function processorOf(fields: Record<string, unknown>): VideoLlavaImageProcessor {
  return new VideoLlavaImageProcessor(parseProcessorConfig({ preprocessorConfig: fields }).imageProcessor);
}

/** A 4x4 RGB image whose red channel is 10 * row + column, green 100 + that, blue 200 - that. */
function pattern(): RawImage {
  const data = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) data.set([10 * y + x, 100 + 10 * y + x, 200 - 10 * y - x], (y * 4 + x) * 3);
  }
  return new RawImage(data, 4, 4, 'RGB');
}

describe("VideoLlavaImageProcessor with other checkpoints' settings", () => {
  it('size as [height, width] equal to the image is the identity; crop_size as an int crops the centre square', () => {
    // any resample: a same-size resize returns the image itself
    for (const resample of [0, 1, 2, 3, 4, 5]) {
      const processor = processorOf({ size: [4, 4], crop_size: 2, resample, do_normalize: false });
      const { pixelValues } = processor.preprocess(pattern());
      expect(pixelValues.dims).toEqual([1, 3, 2, 2]);
      // rows 1..2, columns 1..2 of each channel, times 1/255 in double then float32
      const expected = [11, 12, 21, 22, 111, 112, 121, 122, 189, 188, 179, 178].map((value) => f32(value * (1 / 255)));
      expect(Array.from(pixelValues.data)).toEqual(expected);
    }
  });

  it('pads an image smaller than the crop with zeros before normalizing (the reference pads too)', () => {
    const processor = processorOf({
      do_resize: false,
      crop_size: { height: 6, width: 5 },
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.25, 0.25, 0.25],
    });
    const { pixelValues } = processor.preprocess(pattern());
    expect(pixelValues.dims).toEqual([1, 3, 6, 5]);
    // padding ceil((6 - 4) / 2) = 1 row above, 1 below; ceil((5 - 4) / 2) = 1 column left, 0 right
    const red = Array.from(pixelValues.data.subarray(0, 30));
    const zero = f32(f32(0 - 0.5) / 0.25);
    const at = (value: number) => f32(f32(f32(value * (1 / 255)) - 0.5) / 0.25);
    expect(red.slice(0, 5)).toEqual([zero, zero, zero, zero, zero]);
    expect(red.slice(5, 10)).toEqual([zero, at(0), at(1), at(2), at(3)]);
    expect(red.slice(20, 25)).toEqual([zero, at(30), at(31), at(32), at(33)]);
    expect(red.slice(25, 30)).toEqual([zero, zero, zero, zero, zero]);
  });

  it('rescale_factor 1/127.5 with mean 1 and std 1 maps 0..255 to -1..1; do_rescale off normalizes the bytes', () => {
    const image = new RawImage(Uint8Array.from([0, 127, 255]), 1, 1, 'RGB');
    const signed = processorOf({
      do_resize: false,
      do_center_crop: false,
      rescale_factor: 1 / 127.5,
      image_mean: [1, 1, 1],
      image_std: [1, 1, 1],
    });
    expect(Array.from(signed.preprocess(image).pixelValues.data)).toEqual([-1, f32(f32(127 / 127.5) - 1), 1]);
    const bytes = processorOf({
      do_resize: false,
      do_center_crop: false,
      do_rescale: false,
      image_mean: [10, 20, 30],
      image_std: [2, 4, 5],
    });
    expect(Array.from(bytes.preprocess(image).pixelValues.data)).toEqual([-5, f32(107 / 4), 45]);
  });

  it('ignores longest_edge beside shortest_edge, as the PIL VideoLlavaImageProcessor.resize does', () => {
    const processor = processorOf({ size: { shortest_edge: 8, longest_edge: 10 }, do_center_crop: false });
    // short side 10 -> 8, long side int(8 * 30 / 10) = 24, not capped at 10
    expect(processor.preprocess(new RawImage(new Uint8Array(30 * 10 * 3), 30, 10, 'RGB')).pixelValues.dims).toEqual([
      1, 3, 8, 24,
    ]);
  });

  it('a 336 px LLaVA-1.5-style config gives [1, 3, 336, 336] from any aspect ratio', () => {
    const processor = processorOf({ size: { shortest_edge: 336 }, crop_size: { height: 336, width: 336 } });
    const wide = new RawImage(new Uint8Array(50 * 20 * 3).fill(90), 50, 20, 'RGB');
    const { pixelValues } = processor.preprocess(wide);
    expect(pixelValues.dims).toEqual([1, 3, 336, 336]);
    // a constant image stays constant through PIL's bicubic (weights sum to one in fixed point)
    const mean = [0.48145466, 0.4578275, 0.40821073];
    const std = [0.26862954, 0.26130258, 0.27577711];
    for (let channel = 0; channel < 3; channel++) {
      const plane = pixelValues.data.subarray(channel * 336 * 336, (channel + 1) * 336 * 336);
      expect(new Set(plane)).toEqual(
        new Set([f32(f32(f32(90 * (1 / 255)) - f32(mean[channel]!)) / f32(std[channel]!))]),
      );
    }
  });
});
