import { VideoLlavaError, elementCount } from '@video-llava/core';
import { type GraphBuilder, type TensorDataType, tensorByteLength } from '@video-llava/onnx';
import type { CheckpointTensor } from './validate-checkpoint.js';
import type { WeightFormat } from './weight-format.js';

/** One initializer a weight job writes. */
export interface WeightOutput {
  name: string;
  dataType: TensorDataType;
  dims: number[];
  byteLength: number;
}

/** How one checkpoint tensor becomes one or more initializers. Jobs read the tensor row by row. */
export type WeightJob =
  | { kind: 'float'; source: CheckpointTensor; storeAs: 'float32' | 'float16'; outputs: [WeightOutput] }
  | {
      kind: 'block-quantized';
      source: CheckpointTensor;
      bits: 4 | 8;
      blockSize: number;
      rows: number;
      columns: number;
      outputs: [WeightOutput, WeightOutput, WeightOutput];
    }
  | {
      kind: 'row-int8';
      source: CheckpointTensor;
      rows: number;
      columns: number;
      outputs: [WeightOutput, WeightOutput];
    };

function output(name: string, dataType: TensorDataType, dims: number[]): WeightOutput {
  return { name, dataType, dims, byteLength: tensorByteLength(dataType, elementCount(dims)) };
}

/**
 * Collects the weights a graph uses while the graph is built. Graph code asks for a weight by canonical name
 * and gets back value names at once; the bytes are produced later, tensor by tensor, by running {@link jobs}.
 */
export class WeightPlanner {
  /** The weight jobs in the order their initializers are written. */
  readonly jobs: WeightJob[];
  private readonly made: Map<string, string[]>;

  constructor(
    /** The graph being built. */
    readonly graph: GraphBuilder,
    private readonly tensors: ReadonlyMap<string, CheckpointTensor>,
    /** The weight format. */
    readonly format: WeightFormat,
    /** MatMulNBits block size for q4/q8. */
    readonly blockSize: number,
    /**
     * `MatMulNBits`' `accuracy_level`: the lowest precision its input may be computed in (0 = the kernel's default,
     * float32 here; 4 = int8, which lets ONNX Runtime run the quantized weights on int8 dot-product instructions).
     */
    readonly accuracyLevel: 0 | 1 | 2 | 3 | 4 = 0,
    shared?: { jobs: WeightJob[]; made: Map<string, string[]> },
  ) {
    this.jobs = shared?.jobs ?? [];
    this.made = shared?.made ?? new Map();
  }

  /**
   * A planner for another graph over the same weights: what either asks for is planned once, under one name, so
   * two graphs (the decoder's two cache layouts) can share one set of initializers and one external data file.
   */
  withGraph(graph: GraphBuilder): WeightPlanner {
    return new WeightPlanner(graph, this.tensors, this.format, this.blockSize, this.accuracyLevel, {
      jobs: this.jobs,
      made: this.made,
    });
  }

  /** The float type activations and float weights have in this format. */
  get floatType(): 'float32' | 'float16' {
    return this.format === 'fp16' ? 'float16' : 'float32';
  }

  /** Whether linear layers are quantized. */
  get quantized(): boolean {
    return this.format === 'q4' || this.format === 'q8';
  }

  private source(canonical: string): CheckpointTensor {
    const tensor = this.tensors.get(canonical);
    if (!tensor) {
      throw new VideoLlavaError(
        'INVALID_CHECKPOINT',
        `The checkpoint has no tensor "${canonical}" (validation should have caught this).`,
        {
          field: canonical,
          expected: 'a tensor',
          actual: 'missing',
        },
      );
    }
    return tensor;
  }

  private once(key: string, make: () => string[]): string[] {
    const existing = this.made.get(key);
    if (existing) return existing;
    const names = make();
    this.made.set(key, names);
    return names;
  }

  /** A float weight as an initializer in {@link floatType} (float32 in quantized formats), optionally reshaped. */
  tensor(canonical: string, dims?: number[], storeAs: 'float32' | 'float16' = this.floatType): string {
    return this.once(`float:${storeAs}:${canonical}:${dims?.join(',') ?? ''}`, () => {
      const source = this.source(canonical);
      const shape = dims ?? source.shape;
      const name = dims ? `${canonical}_${dims.join('x')}` : canonical;
      const out = output(name, storeAs, shape);
      this.jobs.push({ kind: 'float', source, storeAs, outputs: [out] });
      return [name];
    })[0]!;
  }

  /**
   * `y = x W^T + b` for a `[out, in]` checkpoint weight, on `x` of shape `[..., in]`. Float formats use
   * `Gemm(transB=1)` on the weight as stored (no transpose, so it converts row by row); q4/q8 use
   * `MatMulNBits`.
   */
  linear(x: string, weight: string, bias?: string): string {
    const graph = this.graph;
    const source = this.source(weight);
    const [rows, columns] = source.shape as [number, number];
    let y: string;
    if (this.quantized) {
      const bits = this.format === 'q4' ? 4 : 8;
      const [packed, scales, zeroPoints] = this.once(`nbits:${weight}`, () => {
        const blocks = Math.ceil(columns / this.blockSize);
        const outputs: [WeightOutput, WeightOutput, WeightOutput] = [
          output(`${weight}_q${bits}`, 'uint8', [rows, blocks, (this.blockSize * bits) / 8]),
          output(`${weight}_scales`, 'float32', [rows * blocks]),
          output(`${weight}_zero_points`, 'uint8', [rows * Math.ceil((blocks * bits) / 8)]),
        ];
        this.jobs.push({ kind: 'block-quantized', source, bits, blockSize: this.blockSize, rows, columns, outputs });
        return outputs.map((item) => item.name);
      }) as [string, string, string];
      y = graph.op(
        'MatMulNBits',
        [x, packed, scales, zeroPoints],
        { K: columns, N: rows, bits, block_size: this.blockSize, accuracy_level: this.accuracyLevel },
        { domain: 'com.microsoft' },
      );
      if (bias !== undefined) y = graph.op('Add', [y, this.tensor(bias)]);
      return y;
    }
    const w = this.tensor(weight);
    const flat = graph.op('Reshape', [x, graph.constant('int64', [-1, columns])]);
    const product = graph.op('Gemm', [flat, w, bias === undefined ? undefined : this.tensor(bias)], { transB: 1 });
    const leading = graph.op('Shape', [x], { end: -1 });
    const shape = graph.op('Concat', [leading, graph.constant('int64', [rows])], { axis: 0 });
    return graph.op('Reshape', [product, shape]);
  }

  /** Rows of an embedding table `[vocab, dim]` gathered by `ids`, in {@link floatType}. */
  embedding(ids: string, table: string): string {
    const graph = this.graph;
    if (!this.quantized) return graph.op('Gather', [this.tensor(table), ids], { axis: 0 });
    const source = this.source(table);
    const [rows, columns] = source.shape as [number, number];
    const [values, scales] = this.once(`rows:${table}`, () => {
      const outputs: [WeightOutput, WeightOutput] = [
        output(`${table}_int8`, 'int8', [rows, columns]),
        output(`${table}_row_scales`, 'float32', [rows]),
      ];
      this.jobs.push({ kind: 'row-int8', source, rows, columns, outputs });
      return outputs.map((item) => item.name);
    }) as [string, string];
    const gathered = graph.op('Cast', [graph.op('Gather', [values, ids], { axis: 0 })], { to: 1 });
    const rowScales = graph.op('Unsqueeze', [
      graph.op('Gather', [scales, ids], { axis: 0 }),
      graph.constant('int64', [-1]),
    ]);
    return graph.op('Mul', [gathered, rowScales]);
  }
}
