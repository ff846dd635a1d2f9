export type {
  AttributeProto,
  AttributeType,
  DeferredBytes,
  Dimension,
  ExternalDataReference,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  StringStringEntry,
  TensorProto,
  TypeProto,
  ValueInfoProto,
} from './types.js';
export { TENSOR_DATA_TYPE_CODES, isTensorDataType, tensorByteLength, tensorDataTypeCode } from './data-type.js';
export type { TensorDataType } from './data-type.js';
export { attribute, toAttributeProto } from './attribute.js';
export type { AttributeInput, TypedAttributeValue } from './attribute.js';
export { createTensor } from './tensor.js';
export type { TensorInit } from './tensor.js';
export { GraphBuilder } from './graph-builder.js';
export type { NodeAttributes, NodeInputs, NodeOptions, OpOptions } from './graph-builder.js';
export { createModel } from './create-model.js';
export type { CreateModelOptions } from './create-model.js';
export { encodeModel, encodeModelChunks, encodeModelStream } from './encode.js';
export { ExternalDataLayout } from './external-data-layout.js';
export type { ExternalDataLayoutOptions, ExternalDataPlacement } from './external-data-layout.js';
export { ProtobufWriter } from './protobuf-writer.js';
export type { MessagePart } from './protobuf-writer.js';
