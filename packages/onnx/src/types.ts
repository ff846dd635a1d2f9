import type { TensorDataType } from './data-type.js';

/**
 * Bytes that are produced later, piece by piece (e.g. a weight read from a checkpoint file when the model
 * is written). Only {@link encodeModelStream} accepts them; the synchronous encoders refuse them.
 */
export interface DeferredBytes {
  /** The exact number of bytes {@link chunks} yields in all. */
  readonly byteLength: number;
  /** Yields the bytes in order. */
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** Where a tensor's bytes sit outside the `.onnx` file (`data_location: EXTERNAL`). */
export interface ExternalDataReference {
  /** The data file, relative to the `.onnx` file's folder (e.g. `decoder_model_merged.onnx_data`). */
  location: string;
  /** Byte offset in that file. @default 0 */
  offset?: number;
  /** Number of bytes. @default the rest of the file */
  length?: number;
  /** Optional SHA-1 checksum as ONNX defines it. */
  checksum?: string;
}

/** `TensorProto`: a named tensor with its bytes inline (`rawData`) or in an external file (`externalData`). */
export interface TensorProto {
  name: string;
  dataType: TensorDataType;
  /** Dimensions, outermost first. A scalar has `[]`. */
  dims: readonly number[];
  /** Little-endian element bytes (4-bit types packed two per byte, low nibble first). */
  rawData?: Uint8Array | DeferredBytes;
  /** Elements of a `string` tensor. */
  stringData?: readonly (string | Uint8Array)[];
  /** Set for a tensor whose bytes are in an external data file. */
  externalData?: ExternalDataReference;
  docString?: string;
}

/** One dimension of a tensor type: a fixed size, a symbolic name (`"batch_size"`), or `null` for unknown. */
export type Dimension = number | string | null;

/** `TypeProto` (tensor types only). */
export interface TypeProto {
  tensorType: {
    elemType: TensorDataType;
    /** The shape; `undefined` leaves the rank unknown. */
    shape?: readonly Dimension[] | undefined;
  };
}

/** `ValueInfoProto`: a graph input, output or intermediate value with its type. */
export interface ValueInfoProto {
  name: string;
  type: TypeProto;
  docString?: string;
}

/** The kinds of {@link AttributeProto}. */
export type AttributeType =
  | 'float'
  | 'int'
  | 'string'
  | 'tensor'
  | 'graph'
  | 'floats'
  | 'ints'
  | 'strings'
  | 'tensors'
  | 'graphs';

/** `AttributeProto`: a named attribute of a node. Fill the one field its `type` names. */
export interface AttributeProto {
  name: string;
  type: AttributeType;
  f?: number;
  i?: number | bigint;
  s?: string | Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: readonly number[];
  ints?: readonly (number | bigint)[];
  strings?: readonly (string | Uint8Array)[];
  tensors?: readonly TensorProto[];
  graphs?: readonly GraphProto[];
  docString?: string;
}

/** `NodeProto`: one operator call. An empty input name (`""`) skips an optional input. */
export interface NodeProto {
  opType: string;
  input: readonly string[];
  output: readonly string[];
  name?: string;
  /** Operator set domain: `""` (or absent) for `ai.onnx`, `"com.microsoft"` for ONNX Runtime contrib ops. */
  domain?: string;
  attribute?: readonly AttributeProto[];
  docString?: string;
}

/** `GraphProto`. */
export interface GraphProto {
  name: string;
  node: readonly NodeProto[];
  initializer?: readonly TensorProto[];
  input: readonly ValueInfoProto[];
  output: readonly ValueInfoProto[];
  valueInfo?: readonly ValueInfoProto[];
  docString?: string;
}

/** `OperatorSetIdProto`: an operator set the model uses. */
export interface OperatorSetId {
  /** `""` for `ai.onnx`; `"com.microsoft"` for ONNX Runtime contrib ops. */
  domain: string;
  version: number;
}

/** `StringStringEntryProto`. */
export interface StringStringEntry {
  key: string;
  value: string;
}

/** `ModelProto`: the root of an `.onnx` file. */
export interface ModelProto {
  /** ONNX IR version (8 covers opsets up to 18, 9 up to 20, 10 up to 21). */
  irVersion: number;
  opsetImport: readonly OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  /** Free-form key/value metadata (ONNX Runtime exposes it as custom metadata). */
  metadataProps?: readonly StringStringEntry[];
}
