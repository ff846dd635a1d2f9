/**
 * One decoded picture: interleaved 8-bit samples, row after row, `channels` per pixel (1 gray, 3 RGB, 4 RGBA).
 *
 * The shape is structural on purpose: `RawImage` of `@video-llava/image-processor`, `ImageData` of the browser
 * (with `channels: 4`), or a plain object all fit.
 */
export interface FrameImage {
  /** `width * height * channels` samples, row-major, channels interleaved. */
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Pixels per row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Samples per pixel: 1 (gray), 3 (RGB) or 4 (RGBA). */
  readonly channels: number;
}
