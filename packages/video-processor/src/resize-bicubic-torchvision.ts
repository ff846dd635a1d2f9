import { VideoLlavaError, describeValue } from '@video-llava/core';
import type { FrameImage } from './frame-image.js';
import {
  type AxisIntegerTaps,
  type AxisTaps,
  type TorchvisionFilter,
  computeAxisIntegerTaps,
  computeAxisTapsFloat32,
} from './resize-weights.js';

/** A rectangle of the resized image, in its pixel coordinates. */
export interface ResizeWindow {
  /** First column. */
  left: number;
  /** First row. */
  top: number;
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** Options of {@link resizeBicubicTorchvision}. */
export interface ResizeBicubicTorchvisionOptions {
  /**
   * Compute only this part of the resized image (for a crop that follows the resize). Every output pixel
   * depends only on its own taps, so the window is exactly the same pixels as a crop of the full result,
   * at a fraction of the cost.
   * @default the whole `width` x `height` image
   */
  window?: ResizeWindow;
  /**
   * The antialiased filter: `bicubic` (`InterpolationMode.BICUBIC`, what Video-LLaVA's `resample: 3` asks for) or
   * `bilinear` (`resample: 2`; torchvision resizes uint8 natively with it on CPUs with AVX2, the path ported here).
   * @default 'bicubic'
   */
  interpolation?: TorchvisionFilter;
}

/** Throws `INVALID_ARGUMENT` naming `field` unless `value` is a positive integer. */
export function checkSize(value: number, field: string): void {
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

function checkFrame(
  frame: {
    readonly data: { readonly length: number };
    readonly width: number;
    readonly height: number;
    readonly channels: number;
  },
  field: string,
): void {
  checkSize(frame.width, `${field}.width`);
  checkSize(frame.height, `${field}.height`);
  checkSize(frame.channels, `${field}.channels`);
  const expected = frame.width * frame.height * frame.channels;
  if (frame.data.length !== expected) {
    throw new VideoLlavaError(
      'SHAPE_MISMATCH',
      `${field}.data has ${frame.data.length} samples but ${frame.width}x${frame.height}x${frame.channels} needs ${expected}.`,
      { field: `${field}.data`, expected, actual: frame.data.length },
    );
  }
}

function resolveWindow(window: ResizeWindow | undefined, width: number, height: number): ResizeWindow {
  if (window === undefined) return { left: 0, top: 0, width, height };
  const { left, top } = window;
  const fits =
    Number.isSafeInteger(left) &&
    Number.isSafeInteger(top) &&
    Number.isSafeInteger(window.width) &&
    Number.isSafeInteger(window.height) &&
    left >= 0 &&
    top >= 0 &&
    window.width >= 1 &&
    window.height >= 1 &&
    left + window.width <= width &&
    top + window.height <= height;
  if (!fits) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `options.window ${describeValue(window)} is not inside the ${width}x${height} output.`,
      {
        field: 'options.window',
        expected: `a rectangle inside ${width}x${height}`,
        actual: window,
      },
    );
  }
  return window;
}

/** The range of source rows (or columns) that a window of outputs reads. */
function sourceSpan(taps: AxisIntegerTaps | AxisTaps, first: number, count: number): { first: number; end: number } {
  let low = Infinity;
  let high = 0;
  for (let index = first; index < first + count; index++) {
    const start = taps.start[index]!;
    if (start < low) low = start;
    const end = start + taps.count[index]!;
    if (end > high) high = end;
  }
  return { first: low, end: high };
}

/**
 * Resizes a uint8 image exactly as `torchvision.transforms.v2.functional.resize(..., BICUBIC, antialias=True)`
 * does on a uint8 CPU tensor (PyTorch's `_upsample_bicubic2d_aa` fixed-point kernel; with
 * `interpolation: 'bilinear'`, its `_upsample_bilinear2d_aa`): a horizontal pass, then a
 * vertical pass, each with int16 taps, `+ 2^(precision-1)`, an arithmetic shift and a clamp to 0..255. A pass is
 * skipped when its axis keeps its length. The result is bit-identical to the reference.
 *
 * @param frame the source image (any number of channels; they are resized independently)
 * @param width the target width
 * @param height the target height
 * @returns the resized image (or its {@link ResizeBicubicTorchvisionOptions.window}), same channel count
 * @throws VideoLlavaError `INVALID_ARGUMENT` for sizes that are not positive integers or a window outside the
 *   target; `SHAPE_MISMATCH` when `frame.data` does not hold `width * height * channels` samples
 */
export function resizeBicubicTorchvision(
  frame: FrameImage,
  width: number,
  height: number,
  options: ResizeBicubicTorchvisionOptions = {},
): FrameImage & { data: Uint8Array } {
  checkFrame(frame, 'frame');
  checkSize(width, 'width');
  checkSize(height, 'height');
  const window = resolveWindow(options.window, width, height);
  const channels = frame.channels;
  const source = frame.data;
  const resizeWidth = width !== frame.width;
  const resizeHeight = height !== frame.height;

  // Horizontal pass: the rows the vertical pass will read, the window's columns.
  const filter = options.interpolation ?? 'bicubic';
  const verticalTaps = resizeHeight ? computeAxisIntegerTaps(frame.height, height, filter) : undefined;
  const rows = verticalTaps
    ? sourceSpan(verticalTaps, window.top, window.height)
    : { first: window.top, end: window.top + window.height };
  const rowCount = rows.end - rows.first;
  let horizontal: Uint8Array | Uint8ClampedArray;
  let horizontalWidth: number;
  let horizontalLeft: number;
  if (resizeWidth) {
    const taps = computeAxisIntegerTaps(frame.width, width, filter);
    horizontal = horizontalPass(source, frame.width, channels, rows.first, rowCount, taps, window.left, window.width);
    horizontalWidth = window.width;
    horizontalLeft = 0;
  } else {
    horizontal = source;
    horizontalWidth = frame.width;
    horizontalLeft = window.left;
  }

  const out = new Uint8Array(window.width * window.height * channels);
  if (verticalTaps) {
    verticalPass(
      horizontal,
      horizontalWidth,
      horizontalLeft,
      channels,
      resizeWidth ? rows.first : 0,
      verticalTaps,
      window,
      out,
    );
  } else {
    // no vertical pass: copy the window's rows
    const sourceRowOffset = resizeWidth ? rows.first : 0;
    const rowLength = window.width * channels;
    for (let row = 0; row < window.height; row++) {
      const from = ((window.top + row - sourceRowOffset) * horizontalWidth + horizontalLeft) * channels;
      out.set(horizontal.subarray(from, from + rowLength), row * rowLength);
    }
  }
  return { data: out, width: window.width, height: window.height, channels };
}

function horizontalPass(
  source: Uint8Array | Uint8ClampedArray,
  sourceWidth: number,
  channels: number,
  firstRow: number,
  rowCount: number,
  taps: AxisIntegerTaps,
  left: number,
  outWidth: number,
): Uint8Array {
  const out = new Uint8Array(rowCount * outWidth * channels);
  const { start, count, weights, stride, precision } = taps;
  const half = 1 << (precision - 1);
  for (let row = 0; row < rowCount; row++) {
    const sourceRow = (firstRow + row) * sourceWidth * channels;
    const outRow = row * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const index = left + x;
      const first = sourceRow + start[index]! * channels;
      const size = count[index]!;
      const weightOffset = index * stride;
      for (let channel = 0; channel < channels; channel++) {
        let sum = half;
        let position = first + channel;
        for (let tap = 0; tap < size; tap++) {
          sum += source[position]! * weights[weightOffset + tap]!;
          position += channels;
        }
        const value = sum >> precision;
        out[outRow + x * channels + channel] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return out;
}

function verticalPass(
  source: Uint8Array | Uint8ClampedArray,
  sourceWidth: number,
  sourceLeft: number,
  channels: number,
  sourceRowOffset: number,
  taps: AxisIntegerTaps,
  window: ResizeWindow,
  out: Uint8Array,
): void {
  const { start, count, weights, stride, precision } = taps;
  const half = 1 << (precision - 1);
  const rowStride = sourceWidth * channels;
  const rowLength = window.width * channels;
  for (let y = 0; y < window.height; y++) {
    const index = window.top + y;
    const first = (start[index]! - sourceRowOffset) * rowStride + sourceLeft * channels;
    const size = count[index]!;
    const weightOffset = index * stride;
    const outRow = y * rowLength;
    for (let sample = 0; sample < rowLength; sample++) {
      let sum = half;
      let position = first + sample;
      for (let tap = 0; tap < size; tap++) {
        sum += source[position]! * weights[weightOffset + tap]!;
        position += rowStride;
      }
      const value = sum >> precision;
      out[outRow + sample] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
}

/** A float32 image, interleaved like {@link FrameImage}. */
export interface FloatFrameImage {
  /** `width * height * channels` samples. */
  readonly data: Float32Array;
  /** Pixels per row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Samples per pixel. */
  readonly channels: number;
}

/**
 * The float32 twin of {@link resizeBicubicTorchvision}: what `torchvision` does to a float tensor (the reference
 * reaches it only for frames with transparency, which it blends onto white first). Taps and sums are float32
 * like PyTorch's CPU kernel, no rounding or clamping; results agree with it to float32 rounding.
 *
 * @param frame the float source image
 * @param width the target width
 * @param height the target height
 * @param options an optional window of the result to compute
 */
export function resizeBicubicTorchvisionFloat(
  frame: FloatFrameImage,
  width: number,
  height: number,
  options: ResizeBicubicTorchvisionOptions = {},
): FloatFrameImage {
  checkFrame(frame, 'frame');
  checkSize(width, 'width');
  checkSize(height, 'height');
  const window = resolveWindow(options.window, width, height);
  const channels = frame.channels;
  const f32 = Math.fround;
  const filter = options.interpolation ?? 'bicubic';
  const verticalTaps = height !== frame.height ? computeAxisTapsFloat32(frame.height, height, filter) : undefined;
  const rows = verticalTaps
    ? sourceSpan(verticalTaps, window.top, window.height)
    : { first: window.top, end: window.top + window.height };
  const rowCount = rows.end - rows.first;

  // horizontal pass over the needed rows: `rowCount` rows of `window.width` columns
  const horizontal = new Float32Array(rowCount * window.width * channels);
  const horizontalTaps = width !== frame.width ? computeAxisTapsFloat32(frame.width, width, filter) : undefined;
  for (let row = 0; row < rowCount; row++) {
    const sourceRow = (rows.first + row) * frame.width * channels;
    const outRow = row * window.width * channels;
    for (let x = 0; x < window.width; x++) {
      const index = window.left + x;
      for (let channel = 0; channel < channels; channel++) {
        let value: number;
        if (horizontalTaps) {
          const first = sourceRow + horizontalTaps.start[index]! * channels + channel;
          const offset = index * horizontalTaps.stride;
          value = f32(frame.data[first]! * horizontalTaps.weights[offset]!);
          for (let tap = 1; tap < horizontalTaps.count[index]!; tap++) {
            value = f32(value + f32(frame.data[first + tap * channels]! * horizontalTaps.weights[offset + tap]!));
          }
        } else {
          value = frame.data[sourceRow + index * channels + channel]!;
        }
        horizontal[outRow + x * channels + channel] = value;
      }
    }
  }
  if (!verticalTaps) return { data: horizontal, width: window.width, height: window.height, channels };

  const rowLength = window.width * channels;
  const out = new Float32Array(window.height * rowLength);
  for (let y = 0; y < window.height; y++) {
    const index = window.top + y;
    const first = (verticalTaps.start[index]! - rows.first) * rowLength;
    const offset = index * verticalTaps.stride;
    for (let sample = 0; sample < rowLength; sample++) {
      let value = f32(horizontal[first + sample]! * verticalTaps.weights[offset]!);
      for (let tap = 1; tap < verticalTaps.count[index]!; tap++) {
        value = f32(value + f32(horizontal[first + tap * rowLength + sample]! * verticalTaps.weights[offset + tap]!));
      }
      out[y * rowLength + sample] = value;
    }
  }
  return { data: out, width: window.width, height: window.height, channels };
}
