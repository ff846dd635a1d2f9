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

/** Fixed-point coefficients of one pass: for output position `i`, `count[i]` taps from input `first[i]`. */
interface PassCoefficients {
  /** Taps per output position (the stride of `weights`). */
  kernelSize: number;
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
}

/** Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc` for a box of `[0, inSize)`. */
function precomputeCoefficients(inSize: number, outSize: number, kernel: ResampleKernel): PassCoefficients {
  // The box bounds are C floats; whole image sizes below 2^24 are exact.
  const scale = Math.fround(inSize) / outSize;
  const filterScale = scale < 1.0 ? 1.0 : scale;
  const support = kernel.support * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const row = new Float64Array(kernelSize);
  const inverseScale = 1.0 / filterScale;
  for (let position = 0; position < outSize; position++) {
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
    const offset = position * kernelSize;
    for (let tap = 0; tap < xmax; tap++) {
      const weight = total !== 0.0 ? row[tap]! / total : row[tap]!;
      // C's (int) cast truncates toward zero.
      weights[offset + tap] = weight < 0 ? Math.trunc(-0.5 + weight * ONE) : Math.trunc(0.5 + weight * ONE);
    }
    first[position] = xmin;
    count[position] = xmax;
  }
  return { kernelSize, first, count, weights };
}

function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

function resampleHorizontal(data: Uint8Array, width: number, height: number, channels: number, outWidth: number, kernel: ResampleKernel): Uint8Array {
  const { kernelSize, first, count, weights } = precomputeCoefficients(width, outWidth, kernel);
  const out = new Uint8Array(outWidth * height * channels);
  const inRowStride = width * channels;
  const outRowStride = outWidth * channels;
  for (let y = 0; y < height; y++) {
    const inRow = y * inRowStride;
    const outRow = y * outRowStride;
    for (let x = 0; x < outWidth; x++) {
      const start = inRow + first[x]! * channels;
      const taps = count[x]!;
      const weightOffset = x * kernelSize;
      for (let channel = 0; channel < channels; channel++) {
        let sum = HALF;
        let index = start + channel;
        for (let tap = 0; tap < taps; tap++, index += channels) sum += data[index]! * weights[weightOffset + tap]!;
        out[outRow + x * channels + channel] = clip8(sum);
      }
    }
  }
  return out;
}

function resampleVertical(data: Uint8Array, width: number, height: number, channels: number, outHeight: number, kernel: ResampleKernel): Uint8Array {
  const { kernelSize, first, count, weights } = precomputeCoefficients(height, outHeight, kernel);
  const rowStride = width * channels;
  const out = new Uint8Array(rowStride * outHeight);
  const sums = new Float64Array(rowStride);
  for (let y = 0; y < outHeight; y++) {
    sums.fill(HALF);
    const weightOffset = y * kernelSize;
    const taps = count[y]!;
    for (let tap = 0; tap < taps; tap++) {
      const weight = weights[weightOffset + tap]!;
      const inRow = (first[y]! + tap) * rowStride;
      for (let index = 0; index < rowStride; index++) sums[index] = sums[index]! + data[inRow + index]! * weight;
    }
    const outRow = y * rowStride;
    for (let index = 0; index < rowStride; index++) out[outRow + index] = clip8(sums[index]!);
  }
  return out;
}

/** Pillow's `ImagingScaleAffine`: nearest neighbour with positions accumulated in double precision. */
function resizeNearest(data: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
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
      throw new VideoLlavaError('INVALID_ARGUMENT', `resize ${name} must be a positive integer, found ${describeValue(value)}.`, {
        field: name,
        expected: 'a positive integer',
        actual: value,
      });
    }
  }
}

function convolve(data: Uint8Array, image: RawImage, width: number, height: number, kernel: ResampleKernel): Uint8Array {
  const channels = image.channels;
  // Pillow >= 12.2 resizes very tall images vertically first (Image.resize): same passes, other order.
  if (image.height > image.width * 100 && height < image.height) {
    let pixels = data;
    if (height !== image.height) pixels = resampleVertical(pixels, image.width, image.height, channels, height, kernel);
    if (width !== image.width) pixels = resampleHorizontal(pixels, image.width, height, channels, width, kernel);
    return pixels;
  }
  let pixels = data;
  if (width !== image.width) pixels = resampleHorizontal(pixels, image.width, image.height, channels, width, kernel);
  if (height !== image.height) pixels = resampleVertical(pixels, width, image.height, channels, height, kernel);
  return pixels;
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
export function resizePil(image: RawImage, width: number, height: number, filter: ResampleFilter = 'bicubic'): RawImage {
  checkTargetSize(width, height);
  if (width === image.width && height === image.height) return image;
  const options = image.palette ? { palette: image.palette } : {};
  if (filter === 'nearest' || image.mode === 'P') {
    return new RawImage(resizeNearest(image.data, image.width, image.height, image.channels, width, height), width, height, image.mode, options);
  }
  const kernel = RESAMPLE_KERNELS[filter];
  if (kernel === undefined) {
    throw new VideoLlavaError('INVALID_ARGUMENT', `Unknown resampling filter ${describeValue(filter)}; expected nearest, box, bilinear, hamming, bicubic or lanczos.`, {
      field: 'filter',
      expected: 'nearest, box, bilinear, hamming, bicubic or lanczos',
      actual: filter,
    });
  }
  if (image.mode === 'LA' || image.mode === 'RGBA') {
    const channels = image.channels as 2 | 4;
    const resized = convolve(premultiply(image.data, channels), image, width, height, kernel);
    return new RawImage(unpremultiply(resized, channels), width, height, image.mode);
  }
  return new RawImage(convolve(image.data, image, width, height, kernel), width, height, image.mode);
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
