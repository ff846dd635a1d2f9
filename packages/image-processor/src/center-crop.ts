import { VideoLlavaError, describeValue } from '@video-llava/core';
import { RawImage } from './raw-image.js';

/**
 * transformers' `center_crop`: the `height` x `width` window at the centre, its top-left corner at
 * `floor((imageHeight - height) / 2)`, `floor((imageWidth - width) / 2)`: when the difference is odd, the extra
 * row or column left out is the bottom or right one.
 * When the image is smaller than the window on a side, it is padded with zeros on that side, `ceil(padding / 2)`
 * above or left of it and the rest below or right: the result is always `height` x `width`.
 *
 * @param image the image (any mode; a palette image is padded with index 0)
 * @param height rows of the result
 * @param width columns of the result
 * @returns a new image of the same mode, or the same image when it already has that size
 * @throws VideoLlavaError `INVALID_ARGUMENT` when a size is not a positive integer
 */
export function centerCrop(image: RawImage, height: number, width: number): RawImage {
  for (const [name, value] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `centerCrop ${name} must be a positive integer, found ${describeValue(value)}.`,
        {
          field: name,
          expected: 'a positive integer',
          actual: value,
        },
      );
    }
  }
  if (height === image.height && width === image.width) return image;
  // Python's // floors, also for negative numbers.
  let top = Math.floor((image.height - height) / 2);
  let left = Math.floor((image.width - width) / 2);
  // Where the image sits in the (possibly padded) canvas.
  const paddedHeight = Math.max(height, image.height);
  const paddedWidth = Math.max(width, image.width);
  const topPad = Math.ceil((paddedHeight - image.height) / 2);
  const leftPad = Math.ceil((paddedWidth - image.width) / 2);
  top += topPad;
  left += leftPad;
  const channels = image.channels;
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    const sourceY = top + y - topPad;
    if (sourceY < 0 || sourceY >= image.height) continue;
    // Columns of this output row that fall on the image.
    const firstX = Math.max(0, leftPad - left);
    const lastX = Math.min(width, leftPad + image.width - left);
    if (lastX <= firstX) continue;
    const sourceStart = (sourceY * image.width + (left + firstX - leftPad)) * channels;
    out.set(
      image.data.subarray(sourceStart, sourceStart + (lastX - firstX) * channels),
      (y * width + firstX) * channels,
    );
  }
  return new RawImage(out, width, height, image.mode, image.palette ? { palette: image.palette } : {});
}
