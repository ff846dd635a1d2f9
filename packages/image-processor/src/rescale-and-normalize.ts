import { VideoLlavaError } from '@video-llava/core';
import { checkChannelValues } from './normalize.js';
import type { RawImage } from './raw-image.js';

/** What {@link rescaleAndNormalize} does: the processor config's fields of the same names. */
export interface RescaleNormalizeOptions {
  /** Multiply by `rescaleFactor` (in double precision, then rounded to float32). */
  doRescale: boolean;
  /** Usually `1 / 255`. */
  rescaleFactor: number;
  /** Subtract `imageMean` and divide by `imageStd` per channel, in float32. */
  doNormalize: boolean;
  imageMean: readonly number[];
  imageStd: readonly number[];
}

/**
 * An image's pixels as float32, channels first (CHW), rescaled and normalized with exactly the float arithmetic
 * of transformers' NumPy path (`rescale` then `normalize`), so results match it bit for bit:
 * `x -> float32(x * rescaleFactor)` then `-> float32(float32(x - mean32[c]) / std32[c])`.
 * With neither step the values are the bytes themselves.
 *
 * @param image a 3-channel (`RGB`) image, or any non-palette image when `imageMean` has as many entries as it has channels
 * @param options the processor's `doRescale`, `rescaleFactor`, `doNormalize`, `imageMean`, `imageStd`
 * @param target where to write (`channels * height * width` floats from `offset`); a new array when omitted
 * @param offset first index written in `target`
 * @default offset 0
 * @returns `target` (or the new array)
 * @throws VideoLlavaError `INVALID_ARGUMENT` for a palette image, mismatched mean/std, or a target too small
 */
export function rescaleAndNormalize(
  image: RawImage,
  options: RescaleNormalizeOptions,
  target?: Float32Array,
  offset = 0,
): Float32Array {
  const channels = image.channels;
  if (image.mode === 'P') {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `rescaleAndNormalize needs pixel values, not palette indices: convert the ${image.toString()} to RGB first.`,
      {
        field: 'image',
        expected: 'an L, LA, RGB or RGBA image',
        actual: image.mode,
      },
    );
  }
  const plane = image.width * image.height;
  const out = target ?? new Float32Array(plane * channels);
  if (offset < 0 || out.length < offset + plane * channels) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `rescaleAndNormalize: the target has ${out.length} floats, too few for ${plane * channels} from offset ${offset}.`,
      {
        field: 'target',
        expected: offset + plane * channels,
        actual: out.length,
      },
    );
  }
  let mean32: number[] = [];
  let std32: number[] = [];
  if (options.doNormalize) {
    checkChannelValues(options.imageMean, channels, 'imageMean');
    checkChannelValues(options.imageStd, channels, 'imageStd');
    mean32 = options.imageMean.map((value) => Math.fround(value));
    std32 = options.imageStd.map((value) => Math.fround(value));
  }
  const { doRescale, doNormalize, rescaleFactor } = options;
  const data = image.data;
  // A byte has 256 values: compute each one's result once per channel (the same arithmetic, so the same float32),
  // then look it up for every pixel.
  const table = new Float32Array(256);
  for (let channel = 0; channel < channels; channel++) {
    const base = offset + channel * plane;
    const mean = mean32[channel] ?? 0;
    const std = std32[channel] ?? 1;
    for (let byte = 0; byte < 256; byte++) {
      let value = byte;
      if (doRescale) value = Math.fround(value * rescaleFactor);
      if (doNormalize) value = Math.fround(value - mean) / std;
      table[byte] = value;
    }
    for (let pixel = 0, at = channel; pixel < plane; pixel++, at += channels) out[base + pixel] = table[data[at]!]!;
  }
  return out;
}
