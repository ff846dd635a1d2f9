import { VideoLlavaError } from '@video-llava/core';
import type { WeightError } from './weight-error.js';

/** Rows of a `[N, K]` weight quantized for ONNX Runtime's `MatMulNBits` (com.microsoft). */
export interface BlockQuantizedRows {
  /** `[rows, blocks, blockSize * bits / 8]` bytes; 4-bit values packed two per byte, low nibble first. */
  packed: Uint8Array;
  /** `[rows * blocks]` float32 scales. */
  scales: Float32Array;
  /** `[rows * ceil(blocks * bits / 8)]` zero points (4-bit packed like the values). */
  zeroPoints: Uint8Array;
}

/** Checks a `MatMulNBits` block size: a power of two, at least 16. */
/** The `MatMulNBits` block size the converter uses unless told otherwise (ONNX Runtime's quantizer's default). */
export const DEFAULT_BLOCK_SIZE = 128;

export function checkBlockSize(blockSize: number): void {
  if (!Number.isSafeInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `blockSize must be a power of two of at least 16 (MatMulNBits), found ${blockSize}.`,
      {
        field: 'blockSize',
        expected: '16, 32, 64, 128, ...',
        actual: blockSize,
      },
    );
  }
}

/**
 * Quantizes rows of a row-major `[rows, columns]` weight block by block along the columns, asymmetric
 * (a scale and a zero point per block, the range widened to include 0), the layout `MatMulNBits` reads:
 * `weight ~= (q - zeroPoint) * scale`. The last block of a row is padded with the zero point.
 *
 * @param error accumulates the difference between the weights and their dequantized values
 */
export function quantizeBlockwise(
  values: Float32Array,
  rows: number,
  columns: number,
  bits: 4 | 8,
  blockSize: number,
  error?: WeightError,
): BlockQuantizedRows {
  checkBlockSize(blockSize);
  const blocks = Math.ceil(columns / blockSize);
  const blob = (blockSize * bits) / 8;
  const zeroPointBytes = Math.ceil((blocks * bits) / 8);
  const maxLevel = (1 << bits) - 1;
  const packed = new Uint8Array(rows * blocks * blob);
  const scales = new Float32Array(rows * blocks);
  const zeroPoints = new Uint8Array(rows * zeroPointBytes);
  for (let row = 0; row < rows; row++) {
    const rowOffset = row * columns;
    for (let block = 0; block < blocks; block++) {
      const begin = block * blockSize;
      const end = Math.min(columns, begin + blockSize);
      let minimum = 0;
      let maximum = 0;
      for (let column = begin; column < end; column++) {
        const value = values[rowOffset + column]!;
        if (value < minimum) minimum = value;
        if (value > maximum) maximum = value;
      }
      let scale = Math.fround((maximum - minimum) / maxLevel);
      if (scale === 0) scale = 1;
      const zeroPoint = Math.min(maxLevel, Math.max(0, Math.round(-minimum / scale)));
      scales[row * blocks + block] = scale;
      const zeroIndex = row * zeroPointBytes + ((block * bits) >> 3);
      if (bits === 8) zeroPoints[zeroIndex] = zeroPoint;
      else zeroPoints[zeroIndex]! |= block & 1 ? zeroPoint << 4 : zeroPoint;
      const blobOffset = (row * blocks + block) * blob;
      for (let index = 0; index < blockSize; index++) {
        const column = begin + index;
        let level = zeroPoint;
        if (column < end) {
          const value = values[rowOffset + column]!;
          level = Math.min(maxLevel, Math.max(0, Math.round(value / scale) + zeroPoint));
          error?.add(value, (level - zeroPoint) * scale);
        }
        if (bits === 8) packed[blobOffset + index] = level;
        else packed[blobOffset + (index >> 1)]! |= index & 1 ? level << 4 : level;
      }
    }
  }
  return { packed, scales, zeroPoints };
}

/** Rows quantized to int8 with one symmetric scale per row: `weight ~= q * scale`. */
export interface RowQuantized {
  /** `[rows, columns]` int8 levels. */
  values: Int8Array;
  /** `[rows]` float32 scales. */
  scales: Float32Array;
}

/** Quantizes each row of a `[rows, columns]` weight to int8 with a per-row scale (absmax / 127). */
export function quantizeRowsInt8(
  values: Float32Array,
  rows: number,
  columns: number,
  error?: WeightError,
): RowQuantized {
  const out = new Int8Array(rows * columns);
  const scales = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    const offset = row * columns;
    let absMax = 0;
    for (let column = 0; column < columns; column++) absMax = Math.max(absMax, Math.abs(values[offset + column]!));
    let scale = Math.fround(absMax / 127);
    if (scale === 0) scale = 1;
    scales[row] = scale;
    for (let column = 0; column < columns; column++) {
      const value = values[offset + column]!;
      const level = Math.max(-127, Math.min(127, Math.round(value / scale)));
      out[offset + column] = level;
      error?.add(value, level * scale);
    }
  }
  return { values: out, scales };
}
