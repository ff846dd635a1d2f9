import { VideoLlavaError, describeValue } from '@video-llava/core';
import { type ResizeWindow, checkSize } from './resize-bicubic-torchvision.js';

/** An interleaved image of uint8 or float32 samples. */
interface SampleImage<Data extends Uint8Array | Uint8ClampedArray | Float32Array> {
  readonly data: Data;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * The source index PyTorch's `nearest-exact` reads for output index `index`:
 * `min(floor((index + 0.5) * scale), inputSize - 1)` with `scale = float(inputSize) / outputSize` in float32, the
 * product rounded to float32 before the floor (`floorf`), as in aten's `nearest_neighbor_exact_compute_source_index`.
 *
 * @param inputSize source length along the axis
 * @param outputSize target length along the axis
 * @param index output position
 */
export function nearestExactSourceIndex(inputSize: number, outputSize: number, index: number): number {
  const scale = Math.fround(inputSize / outputSize);
  return Math.min(Math.floor(Math.fround((index + 0.5) * scale)), inputSize - 1);
}

/**
 * Resizes like `torchvision.transforms.v2.functional.resize(..., InterpolationMode.NEAREST_EXACT)`, which is what
 * transformers' video processors use for PIL's `NEAREST` (`resample: 0`): every output pixel copies one source
 * pixel (see {@link nearestExactSourceIndex}), so uint8 and float32 images alike come out bit-identical.
 *
 * @param frame the source image
 * @param width the target width
 * @param height the target height
 * @param window the part of the result to compute
 * @default window the whole `width` x `height` result
 * @returns the resized image (or its window), same sample type and channel count
 * @throws VideoLlavaError `INVALID_ARGUMENT` for sizes that are not positive integers or a window outside the result
 */
export function resizeNearestExactTorchvision<Data extends Uint8Array | Uint8ClampedArray | Float32Array>(
  frame: SampleImage<Data>,
  width: number,
  height: number,
  window: ResizeWindow = { left: 0, top: 0, width, height },
): SampleImage<Data> {
  checkSize(width, 'width');
  checkSize(height, 'height');
  const inside =
    [window.left, window.top].every((value) => Number.isSafeInteger(value) && value >= 0) &&
    window.width >= 1 &&
    window.height >= 1 &&
    window.left + window.width <= width &&
    window.top + window.height <= height;
  if (!inside) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `window ${describeValue(window)} is not inside the ${width}x${height} output.`,
      { field: 'window', expected: `a rectangle inside ${width}x${height}`, actual: window },
    );
  }
  const channels = frame.channels;
  const size = window.width * window.height * channels;
  const out = (frame.data instanceof Float32Array ? new Float32Array(size) : new Uint8Array(size)) as Data;
  const columns = Array.from({ length: window.width }, (_, x) =>
    nearestExactSourceIndex(frame.width, width, window.left + x),
  );
  for (let y = 0; y < window.height; y++) {
    const sourceRow = nearestExactSourceIndex(frame.height, height, window.top + y) * frame.width;
    const outRow = y * window.width;
    for (let x = 0; x < window.width; x++) {
      const from = (sourceRow + columns[x]!) * channels;
      const to = (outRow + x) * channels;
      for (let channel = 0; channel < channels; channel++) out[to + channel] = frame.data[from + channel]!;
    }
  }
  return { data: out, width: window.width, height: window.height, channels };
}
