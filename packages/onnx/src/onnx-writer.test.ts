/// <reference types="node" />
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoLlavaError } from '@video-llava/core';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ExternalDataLayout,
  GraphBuilder,
  attribute,
  createModel,
  encodeModel,
  encodeModelChunks,
  encodeModelStream,
} from './index.js';

// A minimal protobuf reader used only to look at what the encoder wrote (field number -> raw values).
type Field = { field: number; wire: number; value: bigint | Uint8Array | number };
function readFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let position = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[position++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (position < bytes.length) {
    const key = Number(varint());
    const wire = key & 7;
    const field = key >> 3;
    if (wire === 0) fields.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const length = Number(varint());
      fields.push({ field, wire, value: bytes.subarray(position, position + length) });
      position += length;
    } else if (wire === 5) {
      fields.push({
        field,
        wire,
        value: new DataView(bytes.buffer, bytes.byteOffset + position, 4).getFloat32(0, true),
      });
      position += 4;
    } else throw new Error(`wire type ${wire}`);
  }
  return fields;
}
const text = (value: Field['value']): string => new TextDecoder().decode(value as Uint8Array);

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'onnx-writer-'));
  directories.push(directory);
  return directory;
}

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(model);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function gemmSoftmaxGraph(weights: Float32Array, bias: Float32Array): GraphBuilder {
  const graph = new GraphBuilder('gemm_softmax');
  const x = graph.input('x', 'float32', ['batch', 4]);
  const w = graph.initializer('w', { dataType: 'float32', dims: [4, 3], data: weights });
  const b = graph.initializer('b', { dataType: 'float32', dims: [3], data: bias });
  const gemm = graph.op('Gemm', [x, w, b], { alpha: attribute.float(1), beta: attribute.float(1) });
  graph.output(graph.op('Softmax', [gemm], { axis: -1 }), 'float32', ['batch', 3], 'y');
  return graph;
}

function expectedGemmSoftmax(x: number[], weights: Float32Array, bias: Float32Array): number[] {
  const logits = [0, 1, 2].map(
    (column) => bias[column]! + x.reduce((sum, value, row) => sum + value * weights[row * 3 + column]!, 0),
  );
  const max = Math.max(...logits);
  const exps = logits.map((value) => Math.exp(value - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / total);
}

describe('encodeModel + ONNX Runtime', () => {
  const weights = Float32Array.from({ length: 12 }, (_, index) => Math.sin(index + 1));
  const bias = new Float32Array([0.1, -0.2, 0.3]);

  it('runs a Gemm + Softmax model with a symbolic batch dimension', async () => {
    const model = encodeModel(createModel(gemmSoftmaxGraph(weights, bias).build()));
    const input = [1, 2, 3, 4, 0, 0, -1, 0.5];
    const { y } = await run(model, { x: new ort.Tensor('float32', Float32Array.from(input), [2, 4]) });
    expect(y!.dims).toEqual([2, 3]);
    const expected = [
      ...expectedGemmSoftmax(input.slice(0, 4), weights, bias),
      ...expectedGemmSoftmax(input.slice(4), weights, bias),
    ];
    (y!.data as Float32Array).forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 6));
  });

  it('writes symbolic, fixed and unknown dims that ONNX Runtime reports back', async () => {
    const graph = new GraphBuilder('dims');
    const x = graph.input('x', 'float32', ['batch_size', 3, null]);
    graph.output(graph.op('Relu', [x]), 'float32', ['batch_size', 3, null], 'y');
    const session = await ort.InferenceSession.create(encodeModel(createModel(graph.build())));
    const [input] = session.inputMetadata;
    expect(input).toMatchObject({ name: 'x', isTensor: true, type: 'float32' });
    const shape = (input as { shape: readonly (number | string)[] }).shape;
    expect(shape[0]).toBe('batch_size');
    expect(shape[1]).toBe(3);
    expect(typeof shape[2]).not.toBe('number');
    await session.release();
  });

  it('encodes every attribute kind the way ONNX Runtime reads it', async () => {
    const graph = new GraphBuilder('attributes');
    const x = graph.input('x', 'float32', [2, 3]);
    // int (negative), ints
    const transposed = graph.op('Transpose', [x], { perm: [1, 0] });
    const concatenated = graph.op('Concat', [x, x], { axis: -1 });
    // float (non-integer and forced)
    const leaky = graph.op('LeakyRelu', [x], { alpha: 0.25 });
    const elu = graph.op('Elu', [x], { alpha: attribute.float(2) });
    // string
    const padded = graph.op('Pad', [x, graph.constant('int64', [0, 1, 0, 1])], { mode: 'reflect' });
    // floats, ints, strings and tensor as Constant values
    const floats = graph.op('Constant', [], { value_floats: [0.5, 1.5, -2.25] });
    const ints = graph.op('Constant', [], { value_ints: [1, -2, 2 ** 40] });
    const strings = graph.op('Constant', [], { value_strings: ['héllo', 'world'] });
    const tensor = graph.op('Constant', [], {
      value: {
        name: 'c',
        dataType: 'int64',
        dims: [2],
        rawData: new Uint8Array(new BigInt64Array([-5n, 2n ** 62n]).buffer),
      },
    });
    // graph: If with two branches
    const condition = graph.input('condition', 'bool', []);
    const thenBranch = new GraphBuilder('then');
    thenBranch.output(thenBranch.op('Constant', [], { value_float: 1.5 }), 'float32', [], 'then_out');
    const elseBranch = new GraphBuilder('else');
    elseBranch.output(elseBranch.op('Constant', [], { value_float: attribute.float(-3) }), 'float32', [], 'else_out');
    const chosen = graph.op('If', [condition], {
      then_branch: thenBranch.build(),
      else_branch: attribute.graph(elseBranch.build()),
    });
    graph.output(transposed, 'float32', [3, 2], 'transposed');
    graph.output(concatenated, 'float32', [2, 6], 'concatenated');
    graph.output(leaky, 'float32', [2, 3], 'leaky');
    graph.output(elu, 'float32', [2, 3], 'elu');
    graph.output(padded, 'float32', [2, 5], 'padded');
    graph.output(floats, 'float32', [3], 'floats');
    graph.output(ints, 'int64', [3], 'ints');
    graph.output(strings, 'string', [2], 'strings');
    graph.output(tensor, 'int64', [2], 'tensor');
    graph.output(chosen, 'float32', [], 'chosen');
    const model = encodeModel(createModel(graph.build()));
    const input = new ort.Tensor('float32', new Float32Array([1, -2, 3, -4, 5, -6]), [2, 3]);
    const outputs = await run(model, { x: input, condition: new ort.Tensor('bool', [true], []) });
    expect([...(outputs.transposed!.data as Float32Array)]).toEqual([1, -4, -2, 5, 3, -6]);
    expect([...(outputs.concatenated!.data as Float32Array)]).toEqual([1, -2, 3, 1, -2, 3, -4, 5, -6, -4, 5, -6]);
    expect([...(outputs.leaky!.data as Float32Array)]).toEqual([1, -0.5, 3, -1, 5, -1.5]);
    expect((outputs.elu!.data as Float32Array)[1]).toBeCloseTo(2 * (Math.exp(-2) - 1), 6);
    expect([...(outputs.padded!.data as Float32Array)]).toEqual([-2, 1, -2, 3, -2, 5, -4, 5, -6, 5]);
    expect([...(outputs.floats!.data as Float32Array)]).toEqual([0.5, 1.5, -2.25]);
    expect([...(outputs.ints!.data as BigInt64Array)]).toEqual([1n, -2n, 2n ** 40n]);
    expect([...(outputs.strings!.data as string[])]).toEqual(['héllo', 'world']);
    expect([...(outputs.tensor!.data as BigInt64Array)]).toEqual([-5n, 2n ** 62n]);
    expect(outputs.chosen!.data[0]).toBe(1.5);
    const otherBranch = await run(model, { x: input, condition: new ort.Tensor('bool', [false], []) });
    expect(otherBranch.chosen!.data[0]).toBe(-3);
  });

  it('writes opset imports (ai.onnx and com.microsoft), IR version, producer and metadata_props', async () => {
    const graph = new GraphBuilder('contrib');
    const x = graph.input('x', 'float32', [2, 4]);
    graph.output(graph.op('FastGelu', [x], {}, { domain: 'com.microsoft' }), 'float32', [2, 4], 'y');
    const model = createModel(graph.build(), {
      opsetImports: { '': 17, 'com.microsoft': 1 },
      producerVersion: '1.2.3',
      metadata: { model_type: 'video_llava', dtype: 'fp32' },
    });
    const bytes = encodeModel(model);
    const fields = readFields(bytes);
    expect(fields.find((field) => field.field === 1)?.value).toBe(8n);
    expect(text(fields.find((field) => field.field === 2)!.value)).toBe('video-llava.js');
    expect(text(fields.find((field) => field.field === 3)!.value)).toBe('1.2.3');
    const opsets = fields.filter((field) => field.field === 8).map((field) => readFields(field.value as Uint8Array));
    expect(opsets.map((opset) => [text(opset[0]!.value), opset[1]!.value])).toEqual([
      ['', 17n],
      ['com.microsoft', 1n],
    ]);
    const metadata = fields
      .filter((field) => field.field === 14)
      .map((field) => readFields(field.value as Uint8Array).map((entry) => text(entry.value)));
    expect(metadata).toEqual([
      ['model_type', 'video_llava'],
      ['dtype', 'fp32'],
    ]);
    const { y } = await run(bytes, {
      x: new ort.Tensor('float32', new Float32Array([0, 1, -1, 2, 0.5, -0.5, 3, -3]), [2, 4]),
    });
    const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    (y!.data as Float32Array).forEach((value, index) =>
      expect(value).toBeCloseTo(gelu([0, 1, -1, 2, 0.5, -0.5, 3, -3][index]!), 5),
    );
  });

  it('gives nodes and outputs unique names and refuses duplicates', () => {
    const graph = new GraphBuilder();
    const x = graph.input('x', 'float32', [1]);
    const a = graph.op('Relu', [x]);
    const b = graph.op('Relu', [a]);
    expect(a).not.toBe(b);
    const built = graph.build();
    expect(new Set(built.node.map((node) => node.name)).size).toBe(2);
    expect(() => graph.input('x', 'float32', [1])).toThrowError(/"x" is already used/);
    expect(() => graph.op('Relu', [x], {}, { name: built.node[0]!.name! })).toThrowError(VideoLlavaError);
    expect(graph.uniqueName('x')).toBe('x_1');
  });

  it('refuses data whose length disagrees with the dims, naming the tensor', () => {
    const graph = new GraphBuilder();
    try {
      graph.initializer('weights', { dataType: 'float32', dims: [2, 3], data: new Float32Array(5) });
      expect.unreachable();
    } catch (error) {
      expect(VideoLlavaError.isInstance(error)).toBe(true);
      expect((error as VideoLlavaError).code).toBe('SHAPE_MISMATCH');
      expect((error as VideoLlavaError).field).toBe('weights.data');
      expect((error as VideoLlavaError).expected).toBe(24);
    }
    expect(() => graph.initializer('q', { dataType: 'int4', dims: [3], data: new Uint8Array(2) })).not.toThrow();
  });
});

describe('large models: external data and streaming', () => {
  const weights = Float32Array.from({ length: 12 }, (_, index) => index / 7 - 0.8);
  const bias = new Float32Array([0.5, 0, -0.5]);

  it('loads weights from an external data file written tensor by tensor with aligned offsets', async () => {
    const directory = temporaryDirectory();
    const layout = new ExternalDataLayout('model.onnx_data', { alignment: 64 });
    const pieces: Uint8Array[] = [];
    const graph = new GraphBuilder('external');
    const x = graph.input('x', 'float32', ['batch', 4]);
    for (const [name, data, dims] of [
      ['w', weights, [4, 3]],
      ['b', bias, [3]],
    ] as const) {
      const { reference, padding } = layout.place(data.byteLength);
      pieces.push(new Uint8Array(padding), new Uint8Array(data.buffer));
      graph.initializer(name, { dataType: 'float32', dims, externalData: reference });
      expect(reference.offset % 64).toBe(0);
    }
    graph.output(graph.op('Softmax', [graph.op('Gemm', [x, 'w', 'b'])], { axis: -1 }), 'float32', ['batch', 3], 'y');
    const model = encodeModel(createModel(graph.build()));
    expect(model.byteLength).toBeLessThan(600);
    writeFileSync(join(directory, 'model.onnx'), model);
    writeFileSync(join(directory, 'model.onnx_data'), Buffer.concat(pieces));
    const session = await ort.InferenceSession.create(join(directory, 'model.onnx'));
    const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) });
    await session.release();
    const expected = expectedGemmSoftmax([1, 2, 3, 4], weights, bias);
    (y!.data as Float32Array).forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 6));
  });

  it('streams deferred tensor bytes into the same file encodeModel writes, without copying large tensors', async () => {
    const inline = encodeModel(createModel(gemmSoftmaxGraph(weights, bias).build()));
    const deferredGraph = new GraphBuilder('gemm_softmax');
    const x = deferredGraph.input('x', 'float32', ['batch', 4]);
    const bytes = new Uint8Array(weights.buffer);
    deferredGraph.initializer('w', {
      dataType: 'float32',
      dims: [4, 3],
      data: {
        byteLength: bytes.byteLength,
        chunks: async function* () {
          yield bytes.subarray(0, 20);
          yield bytes.subarray(20);
        },
      },
    });
    deferredGraph.initializer('b', { dataType: 'float32', dims: [3], data: bias });
    const gemm = deferredGraph.op('Gemm', [x, 'w', 'b'], { alpha: attribute.float(1), beta: attribute.float(1) });
    deferredGraph.output(deferredGraph.op('Softmax', [gemm], { axis: -1 }), 'float32', ['batch', 3], 'y');
    const model = createModel(deferredGraph.build());
    expect(() => encodeModel(model)).toThrowError(/encodeModelStream/);
    const streamed: Uint8Array[] = [];
    for await (const chunk of encodeModelStream(model)) streamed.push(chunk);
    expect(Buffer.concat(streamed).equals(Buffer.from(inline))).toBe(true);

    const big = new Float32Array(1 << 17);
    const graph = new GraphBuilder('big');
    graph.initializer('big', { dataType: 'float32', dims: [big.length], data: big });
    graph.output('big', 'float32', [big.length]);
    const chunks = encodeModelChunks(createModel(graph.build()));
    expect(chunks.some((chunk) => chunk.buffer === big.buffer)).toBe(true);
  });

  it('refuses deferred bytes that yield fewer bytes than declared', async () => {
    const graph = new GraphBuilder('short');
    graph.initializer('w', {
      dataType: 'float32',
      dims: [4],
      data: { byteLength: 16, chunks: () => [new Uint8Array(8)] },
    });
    graph.output('w', 'float32', [4]);
    const consume = async () => {
      for await (const _ of encodeModelStream(createModel(graph.build()))) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: 'INVALID_FILE', expected: 16, actual: 8 });
  });
});
