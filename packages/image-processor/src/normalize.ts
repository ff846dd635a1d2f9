import { VideoLlavaError, describeValue } from '@video-llava/core';

/** Where the channel axis is in a flat image array: `channels-first` (CHW) or `channels-last` (HWC). */
export type ChannelLayout = 'channels-first' | 'channels-last';

/**
 * Checks a per-channel `mean` or `std` list against the number of channels.
 * @internal
 */
export function checkChannelValues(values: readonly number[], channels: number, field: string): void {
  if (values.length !== channels || values.some((value) => typeof value !== 'number' || !Number.isFinite(value))) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} must have one finite number per channel (${channels}), found ${describeValue(values)}.`,
      {
        field,
        expected: `${channels} finite numbers`,
        actual: values,
      },
    );
  }
  if (field.endsWith('std') && values.some((value) => value === 0)) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `${field} must not contain 0, found ${describeValue(values)}.`, {
      field,
      expected: 'non-zero values',
      actual: values,
    });
  }
}

/**
 * transformers' `normalize` (NumPy): `(value - mean[c]) / std[c]` in float32, with `mean` and `std` first rounded
 * to float32 (`np.array(mean, dtype=image.dtype)`), each operation rounded to float32 as NumPy does.
 *
 * @param values float32 pixels of an image with `mean.length` channels
 * @param mean per-channel mean
 * @param std per-channel standard deviation (no zeros)
 * @param layout where the channel axis is
 * @default layout 'channels-first'
 * @returns a new Float32Array in the same order
 * @throws VideoLlavaError `INVALID_ARGUMENT` when `mean`/`std` do not match or `values` is not a whole number of pixels
 */
export function normalize(
  values: Float32Array,
  mean: readonly number[],
  std: readonly number[],
  layout: ChannelLayout = 'channels-first',
): Float32Array {
  const channels = mean.length;
  checkChannelValues(mean, channels, 'mean');
  checkChannelValues(std, channels, 'std');
  if (channels === 0 || values.length % channels !== 0) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `normalize: ${values.length} values are not a whole number of ${channels}-channel pixels.`,
      {
        field: 'values',
        expected: `a multiple of ${channels}`,
        actual: values.length,
      },
    );
  }
  const mean32 = mean.map((value) => Math.fround(value));
  const std32 = std.map((value) => Math.fround(value));
  const out = new Float32Array(values.length);
  const plane = values.length / channels;
  for (let index = 0; index < values.length; index++) {
    const channel = layout === 'channels-first' ? Math.floor(index / plane) : index % channels;
    out[index] = Math.fround(values[index]! - mean32[channel]!) / std32[channel]!;
  }
  return out;
}
