import { VideoLlavaError, describeValue } from '@video-llava/core';
import { RawImage } from './raw-image.js';
import { RESAMPLE_KERNELS, type ResampleFilter, type ResampleKernel } from './resample-filter.js';

// A port of Pillow's Image.resize (src/PIL/Image.py) and src/libImaging/Resample.c for 8-bit images:
// two separable passes (horizontal, then vertical), each with a kernel widened by the scale when downscaling,
// weights normalised in double precision, turned into fixed-point integers with PRECISION_BITS fraction bits,
// accumulated in integers and rounded and clipped to uint8 after each pass.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point coefficients of one pass for output positions `start .. start + count - 1`. */
interface PassCoefficients {
  /** Taps per output position (the stride of `weights`). */
  kernelSize: number;
  /** First input position of each output position. */
  first: Int32Array;
  /** Taps of each output position. */
  count: Int32Array;
  weights: Int32Array;
}

/**
 * Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc` for a box of `[0, inSize)`, for the output
 * positions `start .. start + positions - 1` of `outSize` (each position's coefficients depend on it alone).
 */
function precomputeCoefficients(
  inSize: number,
  outSize: number,
  kernel: ResampleKernel,
  start = 0,
  positions = outSize,
): PassCoefficients {
  // The box bounds are C floats; whole image sizes below 2^24 are exact.
  const scale = Math.fround(inSize) / outSize;
  const filterScale = scale < 1.0 ? 1.0 : scale;
  const support = kernel.support * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(positions);
  const count = new Int32Array(positions);
  const weights = new Int32Array(positions * kernelSize);
  const row = new Float64Array(kernelSize);
  const inverseScale = 1.0 / filterScale;
  for (let index = 0; index < positions; index++) {
    const position = start + index;
    const center = 0 + (position + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0.0;
    for (let tap = 0; tap < xmax; tap++) {
      const weight = kernel.weight((tap + xmin - center + 0.5) * inverseScale);
      row[tap] = weight;
      total += weight;
    }
    const offset = index * kernelSize;
    for (let tap = 0; tap < xmax; tap++) {
      const weight = total !== 0.0 ? row[tap]! / total : row[tap]!;
      // C's (int) cast truncates toward zero.
      weights[offset + tap] = weight < 0 ? Math.trunc(-0.5 + weight * ONE) : Math.trunc(0.5 + weight * ONE);
    }
    first[index] = xmin;
    count[index] = xmax;
  }
  return { kernelSize, first, count, weights };
}

function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * The horizontal pass over input rows `rowStart .. rowStart + rows - 1`, computing output columns
 * `columnStart .. columnStart + columns - 1` of a `outWidth`-wide result.
 */
function resampleHorizontal(
  data: Uint8Array,
  width: number,
  channels: number,
  rowStart: number,
  rows: number,
  outWidth: number,
  columnStart: number,
  columns: number,
  kernel: ResampleKernel,
): Uint8Array {
  const { kernelSize, first, count, weights } = precomputeCoefficients(width, outWidth, kernel, columnStart, columns);
  const out = new Uint8Array(columns * rows * channels);
  const inRowStride = width * channels;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const inRow = (rowStart + y) * inRowStride;
    for (let x = 0; x < columns; x++) {
      let index = inRow + first[x]! * channels;
      const taps = count[x]!;
      let w = x * kernelSize;
      const end = w + taps;
      if (channels === 3) {
        let sum0 = HALF;
        let sum1 = HALF;
        let sum2 = HALF;
        for (; w < end; w++, index += 3) {
          const k = weights[w]!;
          sum0 = (sum0 + data[index]! * k) | 0;
          sum1 = (sum1 + data[index + 1]! * k) | 0;
          sum2 = (sum2 + data[index + 2]! * k) | 0;
        }
        out[o++] = clip8(sum0);
        out[o++] = clip8(sum1);
        out[o++] = clip8(sum2);
      } else {
        for (let channel = 0; channel < channels; channel++) {
          let sum = HALF;
          for (let tap = w, at = index + channel; tap < end; tap++, at += channels)
            sum = (sum + data[at]! * weights[tap]!) | 0;
          out[o++] = clip8(sum);
        }
      }
    }
  }
  return out;
}

/**
 * The vertical pass: `data` holds input rows from `rowBase` on, `rowStride` bytes apart; the pass reads
 * `rowBytes` bytes of each row from byte `columnOffset`, and computes output rows `outStart .. outStart + outRows - 1`
 * of an `outHeight`-row result from an `height`-row input.
 */
function resampleVertical(
  data: Uint8Array,
  rowStride: number,
  columnOffset: number,
  rowBytes: number,
  height: number,
  rowBase: number,
  outHeight: number,
  outStart: number,
  outRows: number,
  kernel: ResampleKernel,
): Uint8Array {
  const { kernelSize, first, count, weights } = precomputeCoefficients(height, outHeight, kernel, outStart, outRows);
  const out = new Uint8Array(rowBytes * outRows);
  const sums = new Int32Array(rowBytes);
  for (let y = 0; y < outRows; y++) {
    sums.fill(HALF);
    const taps = count[y]!;
    for (let tap = 0; tap < taps; tap++) {
      const k = weights[y * kernelSize + tap]!;
      const inRow = (first[y]! + tap - rowBase) * rowStride + columnOffset;
      for (let index = 0; index < rowBytes; index++) sums[index] = (sums[index]! + data[inRow + index]! * k) | 0;
    }
    const outRow = y * rowBytes;
    for (let index = 0; index < rowBytes; index++) out[outRow + index] = clip8(sums[index]!);
  }
  return out;
}

/** Input rows the vertical pass reads for output rows `outStart .. outStart + outRows - 1`. */
function rowsNeeded(
  height: number,
  outHeight: number,
  kernel: ResampleKernel,
  outStart: number,
  outRows: number,
): { start: number; end: number } {
  const { first, count } = precomputeCoefficients(height, outHeight, kernel, outStart, outRows);
  let start = height;
  let end = 0;
  for (let index = 0; index < outRows; index++) {
    start = Math.min(start, first[index]!);
    end = Math.max(end, first[index]! + count[index]!);
  }
  return { start, end };
}

/** Pillow's `ImagingScaleAffine`: nearest neighbour with positions accumulated in double precision. */
function resizeNearest(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight * channels);
  const stepX = Math.fround(width) / outWidth;
  const stepY = Math.fround(height) / outHeight;
  const sourceX = new Int32Array(outWidth);
  let xmin = outWidth;
  let xmax = 0;
  let xo = 0 + stepX * 0.5;
  for (let x = 0; x < outWidth; x++) {
    const xin = xo < 0.0 ? -1 : Math.trunc(xo);
    if (xin >= 0 && xin < width) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      sourceX[x] = xin;
    }
    xo += stepX;
  }
  let yo = 0 + stepY * 0.5;
  for (let y = 0; y < outHeight; y++) {
    const yin = yo < 0.0 ? -1 : Math.trunc(yo);
    if (yin >= 0 && yin < height) {
      const inRow = yin * width * channels;
      const outRow = y * outWidth * channels;
      for (let x = xmin; x < xmax; x++) {
        const from = inRow + sourceX[x]! * channels;
        const to = outRow + x * channels;
        for (let channel = 0; channel < channels; channel++) out[to + channel] = data[from + channel]!;
      }
    }
    yo += stepY;
  }
  return out;
}

// PIL's RGBA -> RGBa and LA -> La conversions (MULDIV255), and back (CLIP8(255 * v / alpha)), so that
// colours of transparent pixels do not bleed into their neighbours while resampling.
function premultiply(data: Uint8Array, channels: 2 | 4): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index += channels) {
    const alpha = data[index + channels - 1]!;
    for (let channel = 0; channel < channels - 1; channel++) {
      const product = data[index + channel]! * alpha + 128;
      out[index + channel] = ((product >> 8) + product) >> 8;
    }
    out[index + channels - 1] = alpha;
  }
  return out;
}

function unpremultiply(data: Uint8Array, channels: 2 | 4): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index += channels) {
    const alpha = data[index + channels - 1]!;
    for (let channel = 0; channel < channels - 1; channel++) {
      const value = data[index + channel]!;
      out[index + channel] = alpha === 255 || alpha === 0 ? value : Math.min(255, Math.trunc((255 * value) / alpha));
    }
    out[index + channels - 1] = alpha;
  }
  return out;
}

function checkTargetSize(width: number, height: number): void {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `resize ${name} must be a positive integer, found ${describeValue(value)}.`,
        {
          field: name,
          expected: 'a positive integer',
          actual: value,
        },
      );
    }
  }
}

/** A rectangle of the resized image: columns `left .. left + width - 1`, rows `top .. top + height - 1`. */
export interface ResizeWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

function copyWindow(
  data: Uint8Array,
  rowStride: number,
  channels: number,
  rowBase: number,
  window: ResizeWindow,
): Uint8Array {
  const rowBytes = window.width * channels;
  const out = new Uint8Array(rowBytes * window.height);
  for (let y = 0; y < window.height; y++) {
    const from = (window.top + y - rowBase) * rowStride + window.left * channels;
    out.set(data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return out;
}

/**
 * PIL's two passes, computing only `window` of the `width` x `height` result. Every output pixel depends on its own
 * position alone, so the window is bit-identical to the same rectangle cut from the whole result.
 */
function convolve(
  data: Uint8Array,
  image: RawImage,
  width: number,
  height: number,
  kernel: ResampleKernel,
  window: ResizeWindow,
): Uint8Array {
  const channels = image.channels;
  const needHorizontal = width !== image.width;
  const needVertical = height !== image.height;
  // Pillow >= 12.2 resizes very tall images vertically first (Image.resize): same passes, other order.
  if (image.height > image.width * 100 && height < image.height) {
    let pixels = data;
    if (needVertical)
      pixels = resampleVertical(
        pixels,
        image.width * channels,
        0,
        image.width * channels,
        image.height,
        0,
        height,
        0,
        height,
        kernel,
      );
    if (needHorizontal) pixels = resampleHorizontal(pixels, image.width, channels, 0, height, width, 0, width, kernel);
    return copyWindow(pixels, width * channels, channels, 0, window);
  }
  // Input rows that the vertical pass will read (all of the window's rows when there is no vertical pass).
  const rows = needVertical
    ? rowsNeeded(image.height, height, kernel, window.top, window.height)
    : { start: window.top, end: window.top + window.height };
  let pixels = data;
  let rowStride = image.width * channels;
  let columnOffset = window.left * channels;
  let rowBase = 0;
  if (needHorizontal) {
    pixels = resampleHorizontal(
      data,
      image.width,
      channels,
      rows.start,
      rows.end - rows.start,
      width,
      window.left,
      window.width,
      kernel,
    );
    rowStride = window.width * channels;
    columnOffset = 0;
    rowBase = rows.start;
  }
  if (needVertical) {
    return resampleVertical(
      pixels,
      rowStride,
      columnOffset,
      window.width * channels,
      image.height,
      rowBase,
      height,
      window.top,
      window.height,
      kernel,
    );
  }
  return needHorizontal ? pixels : copyWindow(pixels, rowStride, channels, rowBase, window);
}

function checkWindow(window: ResizeWindow, width: number, height: number): void {
  const { left, top } = window;
  const fits =
    [left, top, window.width, window.height].every((value) => Number.isSafeInteger(value)) &&
    left >= 0 &&
    top >= 0 &&
    window.width >= 1 &&
    window.height >= 1 &&
    left + window.width <= width &&
    top + window.height <= height;
  if (!fits) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `The window ${describeValue(window)} does not lie inside the ${width}x${height} result.`,
      {
        field: 'window',
        expected: `integers with 0 <= left, left + width <= ${width}, 0 <= top, top + height <= ${height}`,
        actual: window,
      },
    );
  }
}

/**
 * {@link resizePil} computing only a rectangle of the result: bit-identical to cutting that rectangle out of the
 * whole resized image, but without computing the rest (the processor resizes and center-crops in one go this way).
 *
 * @param image the image (any mode)
 * @param width width of the whole resized image
 * @param height height of the whole resized image
 * @param window the rectangle of the resized image to compute; it must lie inside it
 * @param filter the resampling filter
 * @default filter 'bicubic'
 * @throws VideoLlavaError `INVALID_ARGUMENT` for sizes that are not positive integers or a window outside the result
 */
export function resizePilWindow(
  image: RawImage,
  width: number,
  height: number,
  window: ResizeWindow,
  filter: ResampleFilter = 'bicubic',
): RawImage {
  checkTargetSize(width, height);
  checkWindow(window, width, height);
  const options = image.palette ? { palette: image.palette } : {};
  if (width === image.width && height === image.height) {
    if (window.width === width && window.height === height) return image;
    return new RawImage(
      copyWindow(image.data, width * image.channels, image.channels, 0, window),
      window.width,
      window.height,
      image.mode,
      options,
    );
  }
  if (filter === 'nearest' || image.mode === 'P') {
    const whole = resizeNearest(image.data, image.width, image.height, image.channels, width, height);
    const pixels =
      window.width === width && window.height === height
        ? whole
        : copyWindow(whole, width * image.channels, image.channels, 0, window);
    return new RawImage(pixels, window.width, window.height, image.mode, options);
  }
  const kernel = RESAMPLE_KERNELS[filter];
  if (kernel === undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Unknown resampling filter ${describeValue(filter)}; expected nearest, box, bilinear, hamming, bicubic or lanczos.`,
      {
        field: 'filter',
        expected: 'nearest, box, bilinear, hamming, bicubic or lanczos',
        actual: filter,
      },
    );
  }
  if (image.mode === 'LA' || image.mode === 'RGBA') {
    const channels = image.channels as 2 | 4;
    const resized = convolve(premultiply(image.data, channels), image, width, height, kernel, window);
    return new RawImage(unpremultiply(resized, channels), window.width, window.height, image.mode);
  }
  return new RawImage(
    convolve(image.data, image, width, height, kernel, window),
    window.width,
    window.height,
    image.mode,
  );
}

/**
 * PIL's `image.resize((width, height), resample)`, reproduced exactly for 8-bit images (what transformers'
 * `resize` calls, without `reducing_gap`):
 * - the same size returns the image itself;
 * - `P` images always use `nearest` (indices cannot be blended) and keep their palette;
 * - `LA` and `RGBA` images are premultiplied by alpha for the convolution filters and un-premultiplied after;
 * - convolution filters run PIL's two passes with its fixed-point arithmetic, so results are bit-identical.
 *
 * The Lanczos and Hamming kernels use `Math.sin`/`Math.cos`, which may differ from the C library in the last
 * bit of a weight; the other kernels are exact.
 *
 * @param image the image (any mode)
 * @param width output width in pixels
 * @param height output height in pixels
 * @param filter the resampling filter
 * @default filter 'bicubic'
 * @returns a new image of the same mode
 * @throws VideoLlavaError `INVALID_ARGUMENT` when a target size is not a positive integer
 */
export function resizePil(
  image: RawImage,
  width: number,
  height: number,
  filter: ResampleFilter = 'bicubic',
): RawImage {
  checkTargetSize(width, height);
  if (width === image.width && height === image.height) return image;
  return resizePilWindow(image, width, height, { left: 0, top: 0, width, height }, filter);
}

/**
 * PIL's bicubic resize, `image.resize((width, height), Image.BICUBIC)`, bit for bit: what the reference
 * `VideoLlavaImageProcessor` does to every image. See {@link resizePil} for the rules by mode.
 *
 * @param image the image (any mode; `P` images are resized with nearest, as PIL does)
 * @param width output width in pixels
 * @param height output height in pixels
 */
export function resizeBicubicPil(image: RawImage, width: number, height: number): RawImage {
  return resizePil(image, width, height, 'bicubic');
}
