import { ExternalDataLayout, GraphBuilder, createModel, createTensor, encodeModel } from '@video-llava/onnx';
import { describe, expect, it } from 'vitest';
import { inspectOnnxModel } from './inspect-onnx-model.js';
import { buildConformanceModels } from './testing/conformance-models.js';

const encode = (graph: GraphBuilder): Uint8Array => encodeModel(createModel(graph.build()));

function identity(name: string, dtype: 'float32' | 'float16' = 'float32'): GraphBuilder {
  const graph = new GraphBuilder(name);
  graph.input('x', dtype, [2]);
  graph.output(graph.op('Identity', ['x']), dtype, [2], 'y');
  return graph;
}

// Hand-written protobuf, for what the ONNX writer does not make (model-local functions).
function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}
const lengthField = (number: number, body: readonly number[]): number[] => [
  ...varint(number * 8 + 2),
  ...varint(body.length),
  ...body,
];
const integerField = (number: number, value: number): number[] => [...varint(number * 8), ...varint(value)];
const text = (value: string): number[] => [...new TextEncoder().encode(value)];

describe('inspectOnnxModel', () => {
  it('finds the external data file of the conformance model, and nothing in models without one', () => {
    const models = buildConformanceModels();
    expect(inspectOnnxModel(models.externalData)).toEqual({
      externalDataFiles: [models.externalDataFileName],
      usesFloat16: false,
    });
    expect(inspectOnnxModel(models.matmul)).toEqual({ externalDataFiles: [], usesFloat16: false });
    expect(inspectOnnxModel(models.dtypes)?.usesFloat16).toBe(false);
  });

  it('lists each file once, in the order the file first names it, from initializers, subgraphs and constant attributes', () => {
    const first = new ExternalDataLayout('first.bin');
    const second = new ExternalDataLayout('second.bin');
    const third = new ExternalDataLayout('third.bin');
    const branch = (name: string, location: ExternalDataLayout): ReturnType<GraphBuilder['build']> => {
      const graph = new GraphBuilder(name);
      graph.initializer('w', { dataType: 'float32', dims: [2], externalData: location.place(8).reference });
      graph.output('w', 'float32', [2]);
      return graph.build();
    };
    const graph = new GraphBuilder('main');
    graph.input('condition', 'bool', []);
    graph.initializer('a', { dataType: 'float32', dims: [2], externalData: second.place(8).reference });
    graph.initializer('b', { dataType: 'float32', dims: [2], externalData: second.place(8).reference });
    const chosen = graph.op('If', ['condition'], {
      then_branch: branch('then', first),
      else_branch: branch('else', second),
    });
    const constant = graph.op('Constant', [], {
      value: createTensor('c', { dataType: 'float32', dims: [2], externalData: third.place(8).reference }),
    });
    graph.output(graph.op('Add', [graph.op('Add', [chosen, constant]), 'a']), 'float32', [2], 'y');
    // Nodes come before initializers in a GraphProto: the If's branches, then the Constant, then `a` and `b`.
    expect(inspectOnnxModel(encode(graph))).toEqual({
      externalDataFiles: ['first.bin', 'second.bin', 'third.bin'],
      usesFloat16: false,
    });
  });

  it('sees float16 in inputs, in initializers, in Cast targets and in model-local functions', () => {
    expect(inspectOnnxModel(encode(identity('half', 'float16')))?.usesFloat16).toBe(true);
    expect(inspectOnnxModel(buildConformanceModels().float16)?.usesFloat16).toBe(true);

    const weights = identity('weights');
    weights.initializer('w', { dataType: 'float16', dims: [1], data: Uint16Array.from([0x3c00]) });
    expect(inspectOnnxModel(encode(weights))?.usesFloat16).toBe(true);

    const cast = new GraphBuilder('cast');
    cast.input('x', 'float32', [2]);
    cast.output(cast.op('Cast', [cast.op('Cast', ['x'], { to: 10 })], { to: 1 }), 'float32', [2], 'y');
    expect(inspectOnnxModel(encode(cast))?.usesFloat16).toBe(true);

    // A Cast to float32 (to = 1) and another attribute equal to 10 are not float16.
    const notHalf = new GraphBuilder('not_half');
    notHalf.input('x', 'float32', [2]);
    notHalf.output(
      notHalf.op('Cast', [notHalf.op('LeakyRelu', ['x'], { alpha: 0.5 })], { to: 1 }),
      'float32',
      [2],
      'y',
    );
    const withTen = new GraphBuilder('ten');
    withTen.input('x', 'float32', [2, 20]);
    withTen.output(withTen.op('Flatten', ['x'], { axis: 10 }), 'float32', [2, 20], 'y');
    expect(inspectOnnxModel(encode(notHalf))?.usesFloat16).toBe(false);
    expect(inspectOnnxModel(encode(withTen))?.usesFloat16).toBe(false);

    // ModelProto.functions (25) > FunctionProto.node (7) > NodeProto.attribute (5) > { name: "to", i: 10 }.
    const castInFunction = lengthField(
      25,
      lengthField(7, lengthField(5, [...lengthField(1, text('to')), ...integerField(3, 10)])),
    );
    const plain = encode(identity('plain'));
    expect(inspectOnnxModel(plain)?.usesFloat16).toBe(false);
    expect(inspectOnnxModel(Uint8Array.from([...plain, ...castInFunction]))?.usesFloat16).toBe(true);
  });

  it('returns undefined for bytes that are not an ONNX model', () => {
    const models = buildConformanceModels();
    expect(inspectOnnxModel(new Uint8Array(0))).toBeUndefined();
    expect(inspectOnnxModel(new TextEncoder().encode('not a model at all'))).toBeUndefined();
    expect(inspectOnnxModel(models.add.subarray(0, Math.floor(models.add.length / 2)))).toBeUndefined();
    expect(inspectOnnxModel(Uint8Array.from([8, 7, 18, 3, 0xff, 0xff, 0xff, 0x3a, 0x99]))).toBeUndefined();
    // Valid protobuf without a graph: an empty ModelProto.
    expect(inspectOnnxModel(Uint8Array.from(integerField(1, 8)))).toBeUndefined();
  });
});
