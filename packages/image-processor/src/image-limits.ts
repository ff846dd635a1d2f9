import { VideoLlavaError } from '@video-llava/core';

/**
 * The largest image decoded by default, in pixels: PIL's `Image.MAX_IMAGE_PIXELS` doubled (178,956,970), the size
 * at which PIL refuses an image as a decompression bomb. An RGB image of that size takes about 537 MB.
 */
export const DEFAULT_MAX_PIXELS = 2 * 89_478_485;

/**
 * Refuses an image whose header claims more than `maxPixels` pixels, before anything is allocated for it.
 *
 * @param width from the header
 * @param height from the header
 * @param channels bytes per pixel once decoded, for the message
 * @param maxPixels the limit
 * @param file the file, for the message
 * @throws VideoLlavaError `OUT_OF_MEMORY` naming the file, the size and the limit
 */
export function checkPixelLimit(
  width: number,
  height: number,
  channels: number,
  maxPixels: number,
  file: string,
): void {
  const pixels = width * height;
  if (pixels > maxPixels) {
    const gigabytes = ((pixels * channels) / 1e9).toFixed(1);
    throw new VideoLlavaError(
      'OUT_OF_MEMORY',
      `${file}: the image header says ${width}x${height} pixels (${gigabytes} GB decoded), more than the limit of ${maxPixels} pixels; refused before decoding. Raise maxPixels to allow it.`,
      { file, field: 'maxPixels', expected: `<= ${maxPixels} pixels`, actual: pixels },
    );
  }
}
