import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { SizeSpec } from '@video-llava/config';

/** A height and a width in pixels. */
export interface ImageSize {
  height: number;
  width: number;
}

/** Options of {@link getResizeSize}. */
export interface ResizeSizeOptions {
  /**
   * transformers' `max_size`: when the longer edge would exceed it, both edges are scaled down so that it does not
   * (only with `shortestEdge`). Must be greater than the shortest edge.
   * @default undefined (no limit)
   */
  maxSize?: number;
}

function checkPositive(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} must be a positive integer, found ${describeValue(value)}.`,
      {
        field,
        expected: 'a positive integer',
        actual: value,
      },
    );
  }
}

/**
 * The size an image is resized to, by transformers' rules (`VideoLlavaImageProcessor.resize`):
 * - `{ height, width }`: exactly that size;
 * - `{ shortestEdge }`: `get_resize_output_image_size(..., default_to_square=False)` (a `longestEdge` beside it is
 *   ignored, as `VideoLlavaImageProcessor.resize` ignores `longest_edge`; `maxSize` is the cap): the shorter edge becomes
 *   `shortestEdge` and the longer one `int(shortestEdge * long / short)` (truncated, as Python's `int`), so the
 *   aspect ratio is kept up to rounding down. A square image becomes `shortestEdge` square.
 *
 * @param image the input's `width` and `height` (a {@link RawImage} will do)
 * @param size the processor's `size`
 * @param options `maxSize`
 * @returns the output `{ height, width }`
 * @throws VideoLlavaError `INVALID_ARGUMENT` for sizes that are not positive integers, or a `maxSize` not above `shortestEdge`
 */
export function getResizeSize(
  image: { readonly width: number; readonly height: number },
  size: SizeSpec,
  options: ResizeSizeOptions = {},
): ImageSize {
  checkPositive(image.width, 'image.width');
  checkPositive(image.height, 'image.height');
  if ('height' in size) {
    checkPositive(size.height, 'size.height');
    checkPositive(size.width, 'size.width');
    return { height: size.height, width: size.width };
  }
  const requested = size.shortestEdge;
  checkPositive(requested, 'size.shortestEdge');
  const { width, height } = image;
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = requested;
  let newLong = Math.trunc((requested * long) / short);
  const maxSize = options.maxSize;
  if (maxSize !== undefined) {
    if (!(maxSize > requested)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `maxSize (${maxSize}) must be greater than the shortest edge (${requested}).`,
        {
          field: 'maxSize',
          expected: `> ${requested}`,
          actual: maxSize,
        },
      );
    }
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return width <= height ? { height: newLong, width: newShort } : { height: newShort, width: newLong };
}
