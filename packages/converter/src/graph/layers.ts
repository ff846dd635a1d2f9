import { VideoLlavaError, numberToFloat16Bits } from '@video-llava/core';
import { type GraphBuilder, TENSOR_DATA_TYPE_CODES, attribute } from '@video-llava/onnx';

/** A float type activations can have. */
export type FloatType = 'float32' | 'float16';

/** `Cast` to a type (no node when it already has it). */
export function castTo(
  graph: GraphBuilder,
  value: string,
  from: FloatType | 'int64' | 'bool',
  to: FloatType | 'int64' | 'bool',
): string {
  if (from === to) return value;
  return graph.op('Cast', [value], { to: TENSOR_DATA_TYPE_CODES[to] });
}

/** A scalar constant of a float type. */
export function scalar(graph: GraphBuilder, type: FloatType, value: number): string {
  if (type === 'float32') return graph.constant('float32', value);
  return graph.constantTensor({ dataType: 'float16', dims: [], data: new Uint16Array([numberToFloat16Bits(value)]) });
}

const SUPPORTED_ACTIVATIONS = [
  'gelu',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'quick_gelu',
  'silu',
  'swish',
  'relu',
  'sigmoid',
  'tanh',
  'linear',
] as const;

/**
 * The activation transformers' `ACT2FN[name]` computes: `gelu` (exact, erf), `gelu_new` /
 * `gelu_pytorch_tanh` / `gelu_fast` (tanh approximation), `quick_gelu` (x sigmoid(1.702 x)), `silu`/`swish`,
 * `relu`, `sigmoid`, `tanh`, `linear`.
 *
 * @param field the config field the name came from, for the error
 * @throws VideoLlavaError `UNSUPPORTED` for other names
 */
export function activation(graph: GraphBuilder, x: string, name: string, type: FloatType, field: string): string {
  switch (name) {
    case 'gelu': {
      const inner = graph.op('Erf', [graph.op('Mul', [x, scalar(graph, type, Math.SQRT1_2)])]);
      return graph.op('Mul', [
        graph.op('Mul', [x, scalar(graph, type, 0.5)]),
        graph.op('Add', [inner, scalar(graph, type, 1)]),
      ]);
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast': {
      const cube = graph.op('Mul', [graph.op('Mul', [x, x]), x]);
      const inner = graph.op('Add', [x, graph.op('Mul', [cube, scalar(graph, type, 0.044715)])]);
      const tanh = graph.op('Tanh', [graph.op('Mul', [inner, scalar(graph, type, Math.sqrt(2 / Math.PI))])]);
      return graph.op('Mul', [
        graph.op('Mul', [x, scalar(graph, type, 0.5)]),
        graph.op('Add', [tanh, scalar(graph, type, 1)]),
      ]);
    }
    case 'quick_gelu':
      return graph.op('Mul', [x, graph.op('Sigmoid', [graph.op('Mul', [x, scalar(graph, type, 1.702)])])]);
    case 'silu':
    case 'swish':
      return graph.op('Mul', [x, graph.op('Sigmoid', [x])]);
    case 'relu':
      return graph.op('Relu', [x]);
    case 'sigmoid':
      return graph.op('Sigmoid', [x]);
    case 'tanh':
      return graph.op('Tanh', [x]);
    case 'linear':
      return x;
    default:
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `config.json: ${field} is ${JSON.stringify(name)}; the converter supports ${SUPPORTED_ACTIVATIONS.join(', ')}.`,
        {
          file: 'config.json',
          field,
          expected: SUPPORTED_ACTIVATIONS,
          actual: name,
        },
      );
  }
}

/** `LayerNormalization` over the last axis (statistics in float32 whatever the input type). */
export function layerNorm(graph: GraphBuilder, x: string, weight: string, bias: string, epsilon: number): string {
  return graph.op('LayerNormalization', [x, weight, bias], {
    axis: -1,
    epsilon: attribute.float(epsilon),
    stash_type: 1,
  });
}

/**
 * LLaMA's RMSNorm exactly as transformers computes it: in float32, `x * rsqrt(mean(x^2) + eps)`, back to the
 * activation type, times the weight.
 *
 * @param inputType the type of `x` when it is not the activation type (float32 already)
 */
export function rmsNorm(
  graph: GraphBuilder,
  x: string,
  weight: string,
  epsilon: number,
  type: FloatType,
  inputType: FloatType = type,
): string {
  const wide = castTo(graph, x, inputType, 'float32');
  const variance = graph.op('ReduceMean', [graph.op('Mul', [wide, wide])], { axes: [-1], keepdims: 1 });
  const inverse = graph.op('Reciprocal', [
    graph.op('Sqrt', [graph.op('Add', [variance, graph.constant('float32', epsilon)])]),
  ]);
  const normalized = castTo(graph, graph.op('Mul', [wide, inverse]), 'float32', type);
  return graph.op('Mul', [weight, normalized]);
}

/** Softmax over the last axis, computed in float32 (like transformers' eager attention). */
export function softmax(graph: GraphBuilder, scores: string, type: FloatType): string {
  return castTo(graph, graph.op('Softmax', [castTo(graph, scores, type, 'float32')], { axis: -1 }), 'float32', type);
}
