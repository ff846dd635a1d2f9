import { VideoLlavaError, describeValue } from '@video-llava/core';

/** PIL's resampling filters, by the names of `PIL.Image.Resampling`. */
export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/** The integer codes of `PIL.Image.Resampling`, as they appear in `preprocessor_config.json` (`"resample": 3`). */
export const PIL_RESAMPLE_CODES: Readonly<Record<ResampleFilter, number>> = Object.freeze({
  nearest: 0,
  lanczos: 1,
  bilinear: 2,
  bicubic: 3,
  box: 4,
  hamming: 5,
});

const FILTER_OF_CODE: readonly ResampleFilter[] = ['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming'];

/**
 * The filter named by a PIL resample code (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming).
 *
 * @param code the code, e.g. a processor config's `resample`
 * @param field where the code came from, for the error message
 * @throws VideoLlavaError `INVALID_ARGUMENT` for any other value
 */
export function resampleFilterFromPilCode(code: number, field = 'resample'): ResampleFilter {
  const filter = Number.isInteger(code) ? FILTER_OF_CODE[code] : undefined;
  if (filter === undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `${field} ${describeValue(code)} is not a PIL resampling filter; expected 0 (nearest), 1 (lanczos), 2 (bilinear), 3 (bicubic), 4 (box) or 5 (hamming).`,
      {
        field,
        expected: '0, 1, 2, 3, 4 or 5',
        actual: code,
      },
    );
  }
  return filter;
}

/** A convolution kernel of PIL's `Resample.c`: the function and its support (half-width) at scale 1. */
export interface ResampleKernel {
  weight(x: number): number;
  support: number;
}

// The kernels are written term for term as in Pillow's src/libImaging/Resample.c, in the same order of
// operations, so that the double-precision weights (and so the fixed-point coefficients) are the same.
function boxWeight(x: number): number {
  return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

function bilinearWeight(x: number): number {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// 0.54f and 0.46f are float literals in C, widened to double.
const HAMMING_A = Math.fround(0.54);
const HAMMING_B = Math.fround(0.46);

function hammingWeight(x: number): number {
  if (x < 0.0) x = -x;
  if (x === 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * Math.PI;
  return (Math.sin(x) / x) * (HAMMING_A + HAMMING_B * Math.cos(x));
}

// Keys' cubic convolution with a = -0.5: (a + 2) = 1.5 and (a + 3) = 2.5.
function bicubicWeight(x: number): number {
  if (x < 0.0) x = -x;
  if (x < 1.0) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * -0.5;
  return 0.0;
}

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

function lanczosWeight(x: number): number {
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

/** PIL's kernels for the convolution filters (`nearest` is not a convolution: see `resizePil`). */
export const RESAMPLE_KERNELS: Readonly<Record<Exclude<ResampleFilter, 'nearest'>, ResampleKernel>> = Object.freeze({
  box: { weight: boxWeight, support: 0.5 },
  bilinear: { weight: bilinearWeight, support: 1.0 },
  hamming: { weight: hammingWeight, support: 1.0 },
  bicubic: { weight: bicubicWeight, support: 2.0 },
  lanczos: { weight: lanczosWeight, support: 3.0 },
});
