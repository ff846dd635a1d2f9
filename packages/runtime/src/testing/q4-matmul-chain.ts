import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';

/**
 * A chain of `layers` 4-bit `MatMulNBits` (`width` x `width`, blocks of 32, zero points, int8 compute: the layout
 * the converter writes for q4 weights), `y = a W0 W1 ...` on `a [rows, width]`, with pseudo-random weights from
 * `seed`. For tests of what onnxruntime does with such weights (prepacking them, keeping them on disk).
 * @returns the model's bytes and an input `a` for it
 */
export function buildQ4MatMulChain(
  width: number,
  layers: number,
  seed: number,
  rows = 2,
): { model: Uint8Array; input: Float32Array; rows: number } {
  const blockSize = 32;
  const blocks = Math.ceil(width / blockSize);
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const graph = new GraphBuilder('q4_chain');
  let y = graph.input('a', 'float32', [rows, width]);
  for (let layer = 0; layer < layers; layer++) {
    const weights = graph.initializer(`b${layer}`, {
      dataType: 'uint8',
      dims: [width, blocks, blockSize / 2],
      data: Uint8Array.from({ length: width * blocks * (blockSize / 2) }, () => Math.floor(next() * 256)),
    });
    const scales = graph.initializer(`scales${layer}`, {
      dataType: 'float32',
      dims: [width * blocks],
      data: Float32Array.from({ length: width * blocks }, () => (0.5 + next()) / width),
    });
    const zeroPoints = graph.initializer(`zero_points${layer}`, {
      dataType: 'uint8',
      dims: [width * Math.ceil(blocks / 2)],
      data: Uint8Array.from({ length: width * Math.ceil(blocks / 2) }, () => Math.floor(next() * 256)),
    });
    const attributes = { K: width, N: width, bits: 4, block_size: blockSize, accuracy_level: 4 };
    y = graph.op('MatMulNBits', [y, weights, scales, zeroPoints], attributes, { domain: 'com.microsoft' });
  }
  graph.output(y, 'float32', [rows, width], 'y');
  const model = encodeModel(createModel(graph.build(), { opsetImports: { '': 17, 'com.microsoft': 1 } }));
  return { model, input: Float32Array.from({ length: rows * width }, () => next() - 0.5), rows };
}
