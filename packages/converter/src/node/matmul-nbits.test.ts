import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeBlockwise } from '../quantize.js';
import { WeightError } from '../weight-error.js';

// The q8/q4 layout the converter writes is the one ONNX Runtime's MatMulNBits reads: one MatMulNBits node on
// quantizeBlockwise's bytes must compute x (dequantized W)^T, with the dequantized weights computed here in JS
// from the documented formula (q - zero_point) * scale. Tolerance 1e-5 (float32 sums in another order).

function randomValues(count: number, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32 - 0.45) * 0.2;
  });
}

function dequantize(
  packed: Uint8Array,
  scales: Float32Array,
  zeroPoints: Uint8Array,
  rows: number,
  columns: number,
  bits: 4 | 8,
  blockSize: number,
): Float32Array {
  const blocks = Math.ceil(columns / blockSize);
  const blob = (blockSize * bits) / 8;
  const zeroPointBytes = Math.ceil((blocks * bits) / 8);
  const out = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const block = Math.floor(column / blockSize);
      const index = column % blockSize;
      const byte = packed[(row * blocks + block) * blob + (bits === 8 ? index : index >> 1)]!;
      const level = bits === 8 ? byte : index & 1 ? byte >> 4 : byte & 15;
      const zeroByte = zeroPoints[row * zeroPointBytes + ((block * bits) >> 3)]!;
      const zero = bits === 8 ? zeroByte : block & 1 ? zeroByte >> 4 : zeroByte & 15;
      out[row * columns + column] = (level - zero) * scales[row * blocks + block]!;
    }
  }
  return out;
}

describe('quantizeBlockwise feeds MatMulNBits', () => {
  it.each([
    [4, 32, 64, 48],
    [4, 16, 40, 24], // K not a multiple of the block size: the last block is padded
    [8, 32, 64, 48],
    [8, 64, 72, 8],
  ] as const)('bits %i, block %i, K %i, N %i', async (bits, blockSize, columns, rows) => {
    const weights = randomValues(rows * columns, rows * 31 + columns);
    const error = new WeightError();
    const { packed, scales, zeroPoints } = quantizeBlockwise(weights, rows, columns, bits, blockSize, error);
    const dequantized = dequantize(packed, scales, zeroPoints, rows, columns, bits, blockSize);
    // The error the report states is the real one, and small against the block ranges.
    let maxError = 0;
    for (let index = 0; index < weights.length; index++)
      maxError = Math.max(maxError, Math.abs(weights[index]! - dequantized[index]!));
    expect(error.maxAbsError).toBeCloseTo(maxError, 7);
    expect(maxError).toBeLessThanOrEqual(Math.max(...scales) / 2 + 1e-7);

    const blocks = Math.ceil(columns / blockSize);
    const graph = new GraphBuilder('nbits');
    const x = graph.input('x', 'float32', [3, columns]);
    const b = graph.initializer('b', { dataType: 'uint8', dims: [rows, blocks, (blockSize * bits) / 8], data: packed });
    const s = graph.initializer('s', { dataType: 'float32', dims: [rows * blocks], data: scales });
    const z = graph.initializer('z', { dataType: 'uint8', dims: [zeroPoints.length], data: zeroPoints });
    graph.output(
      graph.op(
        'MatMulNBits',
        [x, b, s, z],
        { K: columns, N: rows, bits, block_size: blockSize, accuracy_level: 0 },
        { domain: 'com.microsoft' },
      ),
      'float32',
      [3, rows],
      'y',
    );
    const session = await ort.InferenceSession.create(
      encodeModel(createModel(graph.build(), { opsetImports: { '': 17, 'com.microsoft': 1 } })),
      { logSeverityLevel: 3 },
    );
    const input = randomValues(3 * columns, 7);
    const { y } = await session.run({ x: new ort.Tensor('float32', input, [3, columns]) });
    await session.release();
    const actual = y!.data as Float32Array;
    for (let row = 0; row < 3; row++) {
      for (let output = 0; output < rows; output++) {
        let sum = 0;
        for (let k = 0; k < columns; k++) sum += input[row * columns + k]! * dequantized[output * columns + k]!;
        expect(Math.abs(actual[row * rows + output]! - sum)).toBeLessThanOrEqual(1e-5);
      }
    }
  });
});
