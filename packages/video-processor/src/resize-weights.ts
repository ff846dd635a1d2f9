/**
 * Interpolation taps of PyTorch's antialiased bicubic and bilinear (`_upsample_bicubic2d_aa`,
 * `_upsample_bilinear2d_aa`) along one axis.
 *
 * Ported from `HelperInterpBase::_compute_indices_min_size_weights_aa` and
 * `_compute_index_ranges_int16_weights` in aten/src/ATen/native/cpu/UpSampleKernel.cpp: the filter (Keys' cubic
 * with `a = -0.5` over 4 taps, or the triangle over 2) has its support widened by the scale when downscaling, the
 * taps of each output are normalised to sum to one, and for uint8 images they are turned into fixed-point integers
 * with a precision chosen from the largest tap (as Pillow does, but with PyTorch's own rounding).
 */
export interface AxisTaps {
  /** First source index of each output index. */
  readonly start: Int32Array;
  /** Number of taps of each output index. */
  readonly count: Int32Array;
  /** Taps, `stride` per output index (only the first `count[i]` are used). */
  readonly weights: Float64Array;
  /** Slots per output index in `weights` (PyTorch's `max_interp_size`). */
  readonly stride: number;
}

/** {@link AxisTaps} turned into fixed-point integers for the uint8 path. */
export interface AxisIntegerTaps extends Omit<AxisTaps, 'weights'> {
  /** int16 taps, `stride` per output index. */
  readonly weights: Int32Array;
  /** Fractional bits of the taps (PyTorch's `weights_precision`). */
  readonly precision: number;
}

/** The antialiased filters of PyTorch's separable resize that torchvision reaches on tensors. */
export type TorchvisionFilter = 'bicubic' | 'bilinear';

/** Taps a filter spans at scale 1 (PyTorch's `interp_size`). */
const INTERPOLATION_SIZE: Readonly<Record<TorchvisionFilter, number>> = { bicubic: 4, bilinear: 2 };

const CUBIC_A = -0.5;

/** Keys' cubic convolution kernel with a = -0.5, in the same operation order as PyTorch's `aa_filter`. */
function cubicFilter(value: number): number {
  const x = Math.abs(value);
  if (x < 1) return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
  if (x < 2) return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
  return 0;
}

/** The triangle of `HelperInterpLinear::aa_filter`. */
function linearFilter(value: number): number {
  const x = Math.abs(value);
  return x < 1 ? 1 - x : 0;
}

/** C's `static_cast<int64_t>(double)`: truncation toward zero. */
function truncate(value: number): number {
  return Math.trunc(value);
}

/**
 * The double-precision taps of one axis, with the largest normalised tap (used to choose the fixed-point
 * precision).
 *
 * @param inputSize source length along the axis
 * @param outputSize target length along the axis
 * @param filter the filter
 * @default filter 'bicubic'
 */
export function computeAxisTaps(
  inputSize: number,
  outputSize: number,
  filter: TorchvisionFilter = 'bicubic',
): AxisTaps & { maxWeight: number } {
  // area_pixel_compute_scale without align_corners and without an explicit scale factor
  const scale = inputSize / outputSize;
  const interpolationSize = INTERPOLATION_SIZE[filter];
  const weightOf = filter === 'bilinear' ? linearFilter : cubicFilter;
  const support = scale >= 1 ? interpolationSize * 0.5 * scale : interpolationSize * 0.5;
  const stride = Math.ceil(support) * 2 + 1;
  const inverseScale = scale >= 1 ? 1 / scale : 1;
  const start = new Int32Array(outputSize);
  const count = new Int32Array(outputSize);
  const weights = new Float64Array(outputSize * stride);
  let maxWeight = 0;
  for (let index = 0; index < outputSize; index++) {
    const center = scale * (index + 0.5);
    const first = Math.max(truncate(center - support + 0.5), 0);
    let size = Math.min(truncate(center + support + 0.5), inputSize) - first;
    size = Math.min(Math.max(size, 0), stride);
    const offset = index * stride;
    let total = 0;
    for (let tap = 0; tap < size; tap++) {
      const weight = weightOf((tap + first - center + 0.5) * inverseScale);
      weights[offset + tap] = weight;
      total += weight;
    }
    if (total !== 0) {
      for (let tap = 0; tap < size; tap++) {
        const weight = weights[offset + tap]! / total;
        weights[offset + tap] = weight;
        if (weight > maxWeight) maxWeight = weight;
      }
    }
    start[index] = first;
    count[index] = size;
  }
  return { start, count, weights, stride, maxWeight };
}

/**
 * The fixed-point taps of one axis for uint8 images (PyTorch's `_compute_index_ranges_int16_weights`).
 *
 * @param inputSize source length along the axis
 * @param outputSize target length along the axis
 * @param filter the filter
 * @default filter 'bicubic'
 */
export function computeAxisIntegerTaps(
  inputSize: number,
  outputSize: number,
  filter: TorchvisionFilter = 'bicubic',
): AxisIntegerTaps {
  const taps = computeAxisTaps(inputSize, outputSize, filter);
  let precision = 0;
  for (precision = 0; precision < 22; precision++) {
    const next = truncate(0.5 + taps.maxWeight * 2 ** (precision + 1));
    if (next >= 1 << 15) break;
  }
  const factor = 2 ** precision;
  const weights = new Int32Array(taps.weights.length);
  for (let index = 0; index < weights.length; index++) {
    const value = taps.weights[index]! * factor;
    weights[index] = value < 0 ? truncate(-0.5 + value) : truncate(0.5 + value);
  }
  return { start: taps.start, count: taps.count, weights, stride: taps.stride, precision };
}

const f32 = Math.fround;

/** Keys' cubic (a = -0.5) evaluated in float32, as PyTorch's `aa_filter<float>`. */
function cubicFilterFloat32(value: number): number {
  const x = Math.abs(f32(value));
  const a = -0.5;
  if (x < 1) return f32(f32(f32(f32(f32(f32(a + 2) * x) - f32(a + 3)) * x) * x) + 1);
  if (x < 2) return f32(f32(f32(f32(f32(f32(a * x) - f32(5 * a)) * x) + f32(8 * a)) * x) - f32(4 * a));
  return 0;
}

/** The triangle evaluated in float32, as PyTorch's `HelperInterpLinear::aa_filter<float>`. */
function linearFilterFloat32(value: number): number {
  const x = Math.abs(f32(value));
  return x < 1 ? f32(1 - x) : 0;
}

/**
 * The float32 taps of one axis, for float images (PyTorch's `_compute_index_ranges_weights<float>`): the same
 * rule as {@link computeAxisTaps} with the scale, centre, support and weights held in float32.
 *
 * @param inputSize source length along the axis
 * @param outputSize target length along the axis
 * @param filter the filter
 * @default filter 'bicubic'
 */
export function computeAxisTapsFloat32(
  inputSize: number,
  outputSize: number,
  filter: TorchvisionFilter = 'bicubic',
): AxisTaps {
  const scale = f32(f32(inputSize) / f32(outputSize));
  const halfSize = INTERPOLATION_SIZE[filter] / 2;
  const support = f32(scale >= 1 ? halfSize * scale : halfSize);
  const weightOf = filter === 'bilinear' ? linearFilterFloat32 : cubicFilterFloat32;
  const stride = Math.ceil(support) * 2 + 1;
  const inverseScale = f32(scale >= 1 ? 1 / scale : 1);
  const start = new Int32Array(outputSize);
  const count = new Int32Array(outputSize);
  const weights = new Float64Array(outputSize * stride);
  for (let index = 0; index < outputSize; index++) {
    const center = f32(scale * (index + 0.5));
    const first = Math.max(truncate(f32(center - support) + 0.5), 0);
    let size = Math.min(truncate(f32(center + support) + 0.5), inputSize) - first;
    size = Math.min(Math.max(size, 0), stride);
    const offset = index * stride;
    let total = 0;
    for (let tap = 0; tap < size; tap++) {
      const weight = weightOf((f32(f32(tap + first) - center) + 0.5) * inverseScale);
      weights[offset + tap] = weight;
      total = f32(total + weight);
    }
    if (total !== 0) {
      for (let tap = 0; tap < size; tap++) weights[offset + tap] = f32(weights[offset + tap]! / total);
    }
    start[index] = first;
    count[index] = size;
  }
  return { start, count, weights, stride };
}
