import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';
import { describe, expect, it } from 'vitest';
import { inspectOnnxModel } from './inspect-onnx-model.js';
import { probeModelBytes } from './probe-model.js';

describe('probeModelBytes', () => {
  it('is y = Identity(x) over float32[1], opset 13, exactly as @video-llava/onnx writes it', () => {
    const graph = new GraphBuilder('probe');
    graph.input('x', 'float32', [1]);
    graph.output(graph.op('Identity', ['x']), 'float32', [1], 'y');
    const expected = encodeModel(
      createModel(graph.build(), { opsetImports: { '': 13 }, producerName: 'video-llava.js' }),
    );
    expect([...probeModelBytes()]).toEqual([...expected]);
  });

  it('returns a fresh copy each time and is a model without external data or float16', () => {
    const first = probeModelBytes();
    first[0] = 0;
    expect(probeModelBytes()[0]).not.toBe(0);
    expect(inspectOnnxModel(probeModelBytes())).toEqual({ externalDataFiles: [], usesFloat16: false });
  });
});
