import { VideoLlavaError } from '@video-llava/core';
import type { AttributeProto, AttributeType, GraphProto, TensorProto } from './types.js';

/** An attribute value with its ONNX type made explicit (see {@link attribute}). */
export interface TypedAttributeValue {
  readonly attributeType: AttributeType;
  readonly value: unknown;
}

/**
 * A value for {@link GraphBuilder.node}'s attributes. Plain values are typed by shape: an integer `number` or a
 * `bigint` is `int`, any other `number` is `float`, a `string` is `string`, a `number[]` is `ints` when every
 * element is an integer and `floats` otherwise, a `string[]` is `strings`, a {@link TensorProto} is `tensor`,
 * a {@link GraphProto} is `graph`. Use {@link attribute} when the shape is ambiguous (`attribute.float(1)`).
 */
export type AttributeInput =
  | number
  | bigint
  | string
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | TensorProto
  | GraphProto
  | TypedAttributeValue;

/** Explicitly typed attribute values, for when a plain value would be read as the wrong type. */
export const attribute = {
  float: (value: number): TypedAttributeValue => ({ attributeType: 'float', value }),
  int: (value: number | bigint): TypedAttributeValue => ({ attributeType: 'int', value }),
  string: (value: string | Uint8Array): TypedAttributeValue => ({ attributeType: 'string', value }),
  tensor: (value: TensorProto): TypedAttributeValue => ({ attributeType: 'tensor', value }),
  graph: (value: GraphProto): TypedAttributeValue => ({ attributeType: 'graph', value }),
  floats: (value: readonly number[]): TypedAttributeValue => ({ attributeType: 'floats', value }),
  ints: (value: readonly (number | bigint)[]): TypedAttributeValue => ({ attributeType: 'ints', value }),
  strings: (value: readonly (string | Uint8Array)[]): TypedAttributeValue => ({ attributeType: 'strings', value }),
  tensors: (value: readonly TensorProto[]): TypedAttributeValue => ({ attributeType: 'tensors', value }),
  graphs: (value: readonly GraphProto[]): TypedAttributeValue => ({ attributeType: 'graphs', value }),
} as const;

const FIELD_OF: Record<AttributeType, keyof AttributeProto> = {
  float: 'f',
  int: 'i',
  string: 's',
  tensor: 't',
  graph: 'g',
  floats: 'floats',
  ints: 'ints',
  strings: 'strings',
  tensors: 'tensors',
  graphs: 'graphs',
};

function isTypedValue(value: unknown): value is TypedAttributeValue {
  return typeof value === 'object' && value !== null && 'attributeType' in value && 'value' in value;
}

function inferType(name: string, value: AttributeInput): TypedAttributeValue {
  if (isTypedValue(value)) return value;
  if (typeof value === 'bigint') return attribute.int(value);
  if (typeof value === 'number') return Number.isInteger(value) ? attribute.int(value) : attribute.float(value);
  if (typeof value === 'string') return attribute.string(value);
  if (Array.isArray(value)) {
    const list = value as readonly unknown[];
    if (list.every((item) => typeof item === 'string')) return attribute.strings(list as string[]);
    if (list.every((item) => typeof item === 'bigint' || (typeof item === 'number' && Number.isInteger(item))))
      return attribute.ints(list as number[]);
    if (list.every((item) => typeof item === 'number')) return attribute.floats(list as number[]);
  } else if (typeof value === 'object' && value !== null) {
    if ('dataType' in value && 'dims' in value) return attribute.tensor(value);
    if ('node' in value && 'output' in value) return attribute.graph(value);
  }
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `Attribute ${JSON.stringify(name)}: cannot tell the ONNX type of this value; wrap it with attribute.float/int/...().`,
    {
      field: name,
      expected: 'a number, bigint, string, list, TensorProto, GraphProto or attribute.*() value',
      actual: value,
    },
  );
}

/** Turns a name and an {@link AttributeInput} into an {@link AttributeProto}. */
export function toAttributeProto(name: string, value: AttributeInput): AttributeProto {
  const typed = inferType(name, value);
  return { name, type: typed.attributeType, [FIELD_OF[typed.attributeType]]: typed.value } as AttributeProto;
}
