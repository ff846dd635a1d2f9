import { ExternalDataLayout, GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';

/** The weights of {@link ConformanceModels.matmul} and {@link ConformanceModels.externalData}: `w` is [4, 3], `bias` is [3]. */
export interface MatMulWeights {
  w: Float32Array;
  bias: Float32Array;
}

/** The small ONNX models the conformance suite runs, built in memory. */
export interface ConformanceModels {
  /** `c = a + b`; `a`, `b`, `c`: float32[batch, 3]. */
  add: Uint8Array;
  /** `y = x @ w + bias` with `x`: float32[n, 4], `y`: float32[n, 3]; `w`, `bias` inline. */
  matmul: Uint8Array;
  /** The same as {@link matmul}, its weights in the external data file {@link externalDataFileName}. */
  externalData: Uint8Array;
  /** The external data file of {@link externalData} (`w` at offset 0, `bias` at the next 4096-byte boundary). */
  externalDataFile: Uint8Array;
  /** The name {@link externalData} refers to its data file by. */
  externalDataFileName: string;
  /** The values of `w` and `bias`. */
  weights: MatMulWeights;
  /**
   * One input of each integer and bool dtype, each returned as an output: `i64 -> i64_out` (i64 + i64),
   * `i32 -> i32_out` (i32 + i32), `i8 -> i8_out`, `u8 -> u8_out` (Identity), `flag -> flag_out` (Not).
   * Shapes are fixed: i64 [3], i32 [2], i8 [2], u8 [4], flag [3].
   */
  dtypes: Uint8Array;
  /** `f16 -> f16_out` (Identity) and `f16_as_f32` (Cast to float32), `f16`: float16[2, 2]. */
  float16: Uint8Array;
  /** `y = x * x` with `x`, `y`: float32[batch, sequence, 2]. */
  symbolic: Uint8Array;
  /**
   * A KV-cache-like step: `present = Concat(past, current, axis 1)` and `doubled = current + current`, with
   * `past`: float32[1, past_sequence, 2], `current`: float32[1, sequence, 2], `present`: float32[1, total_sequence, 2].
   */
  kvCache: Uint8Array;
}

function matmulGraph(
  weights: MatMulWeights,
  layout: ExternalDataLayout | undefined,
  dataFile: Uint8Array[],
): GraphBuilder {
  const graph = new GraphBuilder('matmul');
  const x = graph.input('x', 'float32', ['n', 4]);
  for (const [name, values, dims] of [
    ['w', weights.w, [4, 3]],
    ['bias', weights.bias, [3]],
  ] as const) {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    if (layout === undefined) {
      graph.initializer(name, { dataType: 'float32', dims, data: values });
    } else {
      const { reference, padding } = layout.place(bytes.byteLength);
      dataFile.push(new Uint8Array(padding), bytes);
      graph.initializer(name, { dataType: 'float32', dims, externalData: reference });
    }
  }
  const product = graph.op('MatMul', [x, 'w']);
  graph.output(graph.op('Add', [product, 'bias']), 'float32', ['n', 3], 'y');
  return graph;
}

function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Builds every {@link ConformanceModels} model (a few hundred bytes each) with `@video-llava/onnx`. */
export function buildConformanceModels(): ConformanceModels {
  const add = new GraphBuilder('add');
  add.input('a', 'float32', ['batch', 3]);
  add.input('b', 'float32', ['batch', 3]);
  add.output(add.op('Add', ['a', 'b']), 'float32', ['batch', 3], 'c');

  const weights: MatMulWeights = {
    w: Float32Array.from({ length: 12 }, (_, index) => (index - 5) / 4),
    bias: Float32Array.from([0.5, -1, 2]),
  };
  const externalDataFileName = 'weights.bin';
  const dataChunks: Uint8Array[] = [];
  const external = matmulGraph(weights, new ExternalDataLayout(externalDataFileName), dataChunks);

  const float16 = new GraphBuilder('float16');
  float16.input('f16', 'float16', [2, 2]);
  float16.output(float16.op('Identity', ['f16']), 'float16', [2, 2], 'f16_out');
  float16.output(float16.op('Cast', ['f16'], { to: 1 }), 'float32', [2, 2], 'f16_as_f32');

  const dtypes = new GraphBuilder('dtypes');
  dtypes.input('i64', 'int64', [3]);
  dtypes.input('i32', 'int32', [2]);
  dtypes.input('i8', 'int8', [2]);
  dtypes.input('u8', 'uint8', [4]);
  dtypes.input('flag', 'bool', [3]);
  dtypes.output(dtypes.op('Add', ['i64', 'i64']), 'int64', [3], 'i64_out');
  dtypes.output(dtypes.op('Add', ['i32', 'i32']), 'int32', [2], 'i32_out');
  dtypes.output(dtypes.op('Identity', ['i8']), 'int8', [2], 'i8_out');
  dtypes.output(dtypes.op('Identity', ['u8']), 'uint8', [4], 'u8_out');
  dtypes.output(dtypes.op('Not', ['flag']), 'bool', [3], 'flag_out');

  const symbolic = new GraphBuilder('symbolic');
  symbolic.input('x', 'float32', ['batch', 'sequence', 2]);
  symbolic.output(symbolic.op('Mul', ['x', 'x']), 'float32', ['batch', 'sequence', 2], 'y');

  const kvCache = new GraphBuilder('kv_cache');
  kvCache.input('past', 'float32', [1, 'past_sequence', 2]);
  kvCache.input('current', 'float32', [1, 'sequence', 2]);
  kvCache.output(
    kvCache.op('Concat', ['past', 'current'], { axis: 1 }),
    'float32',
    [1, 'total_sequence', 2],
    'present',
  );
  kvCache.output(kvCache.op('Add', ['current', 'current']), 'float32', [1, 'sequence', 2], 'doubled');

  const encode = (graph: GraphBuilder): Uint8Array =>
    encodeModel(createModel(graph.build(), { producerName: 'video-llava.js conformance suite' }));
  return {
    add: encode(add),
    matmul: encode(matmulGraph(weights, undefined, [])),
    externalData: encode(external),
    externalDataFile: concatenate(dataChunks),
    externalDataFileName,
    weights,
    dtypes: encode(dtypes),
    float16: encode(float16),
    symbolic: encode(symbolic),
    kvCache: encode(kvCache),
  };
}
