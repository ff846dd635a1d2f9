import { VideoLlavaError } from '@video-llava/core';
import { tensorDataTypeCode } from './data-type.js';
import { type MessagePart, ProtobufWriter } from './protobuf-writer.js';
import type {
  AttributeProto,
  AttributeType,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  TensorProto,
  TypeProto,
  ValueInfoProto,
} from './types.js';

// Field numbers from onnx/onnx.proto.
const ATTRIBUTE_TYPE_CODES: Record<AttributeType, number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
  strings: 8,
  tensors: 9,
  graphs: 10,
};

function writeTensor(tensor: TensorProto): ProtobufWriter {
  const writer = new ProtobufWriter();
  if (tensor.dims.length > 0) writer.packedIntegers(1, tensor.dims);
  writer.integer(2, tensorDataTypeCode(tensor.dataType));
  for (const value of tensor.stringData ?? []) writer.string(6, value);
  writer.string(8, tensor.name);
  if (tensor.rawData !== undefined && tensor.externalData !== undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Tensor ${JSON.stringify(tensor.name)} has both rawData and externalData; give one.`,
      {
        field: `${tensor.name}.externalData`,
        expected: 'rawData or externalData',
        actual: 'both',
      },
    );
  }
  if (tensor.rawData !== undefined) writer.bytes(9, tensor.rawData);
  if (tensor.docString !== undefined) writer.string(12, tensor.docString);
  if (tensor.externalData !== undefined) {
    const { location, offset, length, checksum } = tensor.externalData;
    const entries: Array<[string, string]> = [['location', location]];
    if (offset !== undefined) entries.push(['offset', String(offset)]);
    if (length !== undefined) entries.push(['length', String(length)]);
    if (checksum !== undefined) entries.push(['checksum', checksum]);
    for (const [key, value] of entries) writer.message(13, writeStringEntry(key, value));
    writer.integer(14, 1);
  }
  return writer;
}

function writeStringEntry(key: string, value: string): ProtobufWriter {
  const writer = new ProtobufWriter();
  writer.string(1, key);
  writer.string(2, value);
  return writer;
}

function writeType(type: TypeProto): ProtobufWriter {
  const tensorType = new ProtobufWriter();
  tensorType.integer(1, tensorDataTypeCode(type.tensorType.elemType));
  if (type.tensorType.shape !== undefined) {
    const shape = new ProtobufWriter();
    for (const dimension of type.tensorType.shape) {
      const dim = new ProtobufWriter();
      if (typeof dimension === 'number') dim.integer(1, dimension);
      else if (typeof dimension === 'string') dim.string(2, dimension);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  const writer = new ProtobufWriter();
  writer.message(1, tensorType);
  return writer;
}

function writeValueInfo(value: ValueInfoProto): ProtobufWriter {
  const writer = new ProtobufWriter();
  writer.string(1, value.name);
  writer.message(2, writeType(value.type));
  if (value.docString !== undefined) writer.string(3, value.docString);
  return writer;
}

function missingAttributeValue(attribute: AttributeProto, field: string): never {
  throw new VideoLlavaError(
    'INVALID_ARGUMENT',
    `Attribute ${JSON.stringify(attribute.name)} has type ${attribute.type} but no \`${field}\` value.`,
    {
      field: `${attribute.name}.${field}`,
      expected: `a value in \`${field}\``,
      actual: undefined,
    },
  );
}

function writeAttribute(attribute: AttributeProto): ProtobufWriter {
  const writer = new ProtobufWriter();
  writer.string(1, attribute.name);
  const typeCode = ATTRIBUTE_TYPE_CODES[attribute.type];
  if (typeCode === undefined) {
    throw new VideoLlavaError(
      'INVALID_ARGUMENT',
      `Attribute ${JSON.stringify(attribute.name)} has unknown type ${JSON.stringify(attribute.type)}.`,
      {
        field: `${attribute.name}.type`,
        expected: Object.keys(ATTRIBUTE_TYPE_CODES),
        actual: attribute.type,
      },
    );
  }
  switch (attribute.type) {
    case 'float':
      writer.float(2, attribute.f ?? missingAttributeValue(attribute, 'f'));
      break;
    case 'int':
      writer.integer(3, attribute.i ?? missingAttributeValue(attribute, 'i'));
      break;
    case 'string':
      writer.string(4, attribute.s ?? missingAttributeValue(attribute, 's'));
      break;
    case 'tensor':
      writer.message(5, writeTensor(attribute.t ?? missingAttributeValue(attribute, 't')));
      break;
    case 'graph':
      writer.message(6, writeGraph(attribute.g ?? missingAttributeValue(attribute, 'g')));
      break;
    case 'floats':
      writer.packedFloats(7, attribute.floats ?? missingAttributeValue(attribute, 'floats'));
      break;
    case 'ints':
      writer.packedIntegers(8, attribute.ints ?? missingAttributeValue(attribute, 'ints'));
      break;
    case 'strings':
      for (const value of attribute.strings ?? missingAttributeValue(attribute, 'strings')) writer.string(9, value);
      break;
    case 'tensors':
      for (const value of attribute.tensors ?? missingAttributeValue(attribute, 'tensors'))
        writer.message(10, writeTensor(value));
      break;
    case 'graphs':
      for (const value of attribute.graphs ?? missingAttributeValue(attribute, 'graphs'))
        writer.message(11, writeGraph(value));
      break;
  }
  if (attribute.docString !== undefined) writer.string(13, attribute.docString);
  writer.integer(20, typeCode);
  return writer;
}

function writeNode(node: NodeProto): ProtobufWriter {
  const writer = new ProtobufWriter();
  for (const input of node.input) writer.string(1, input);
  for (const output of node.output) writer.string(2, output);
  if (node.name !== undefined) writer.string(3, node.name);
  writer.string(4, node.opType);
  for (const attribute of node.attribute ?? []) writer.message(5, writeAttribute(attribute));
  if (node.docString !== undefined) writer.string(6, node.docString);
  if (node.domain !== undefined && node.domain !== '') writer.string(7, node.domain);
  return writer;
}

function writeGraph(graph: GraphProto): ProtobufWriter {
  const writer = new ProtobufWriter();
  for (const node of graph.node) writer.message(1, writeNode(node));
  writer.string(2, graph.name);
  for (const tensor of graph.initializer ?? []) writer.message(5, writeTensor(tensor));
  if (graph.docString !== undefined) writer.string(10, graph.docString);
  for (const value of graph.input) writer.message(11, writeValueInfo(value));
  for (const value of graph.output) writer.message(12, writeValueInfo(value));
  for (const value of graph.valueInfo ?? []) writer.message(13, writeValueInfo(value));
  return writer;
}

function writeOperatorSet(opset: OperatorSetId): ProtobufWriter {
  const writer = new ProtobufWriter();
  writer.string(1, opset.domain);
  writer.integer(2, opset.version);
  return writer;
}

function writeModel(model: ModelProto): ProtobufWriter {
  const writer = new ProtobufWriter();
  writer.integer(1, model.irVersion);
  if (model.producerName !== undefined) writer.string(2, model.producerName);
  if (model.producerVersion !== undefined) writer.string(3, model.producerVersion);
  if (model.domain !== undefined) writer.string(4, model.domain);
  if (model.modelVersion !== undefined) writer.integer(5, model.modelVersion);
  if (model.docString !== undefined) writer.string(6, model.docString);
  writer.message(7, writeGraph(model.graph));
  for (const opset of model.opsetImport) writer.message(8, writeOperatorSet(opset));
  for (const entry of model.metadataProps ?? []) writer.message(14, writeStringEntry(entry.key, entry.value));
  return writer;
}

/**
 * Encodes a model as a list of byte chunks whose concatenation is the `.onnx` file. Large tensor data is not
 * copied: its chunks are the caller's arrays. Write the chunks one after the other (e.g. to a file) to avoid
 * ever holding the file in one buffer.
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` when a tensor holds {@link DeferredBytes} (use {@link encodeModelStream})
 */
export function encodeModelChunks(model: ModelProto): Uint8Array[] {
  return writeModel(model)
    .finish()
    .map((part: MessagePart) => {
      if (part instanceof Uint8Array) return part;
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        'The model holds deferred tensor bytes; encode it with encodeModelStream().',
        {
          field: 'rawData',
          expected: 'Uint8Array',
          actual: 'DeferredBytes',
        },
      );
    });
}

/**
 * Encodes a model into one `Uint8Array` (the bytes of an `.onnx` file). Protobuf limits a model to 2 GiB:
 * put larger weights in external data (see {@link ExternalDataLayout}).
 *
 * @throws VideoLlavaError `INVALID_ARGUMENT` for malformed protos or deferred bytes; `UNSUPPORTED` past 2 GiB
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const chunks = encodeModelChunks(model);
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  if (total > 2 ** 31 - 1) {
    throw new VideoLlavaError(
      'UNSUPPORTED',
      `The encoded model is ${total} bytes; protobuf limits a model file to 2 GiB. Store the weights as external data.`,
      {
        field: 'initializer',
        expected: 'at most 2147483647 bytes',
        actual: total,
      },
    );
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Encodes a model as an async stream of chunks, pulling {@link DeferredBytes} (e.g. weights read from a
 * checkpoint) only when their turn comes, so memory stays bounded by the largest single chunk.
 *
 * @throws VideoLlavaError `INVALID_FILE` when deferred bytes yield a different length than they declared
 */
export async function* encodeModelStream(model: ModelProto): AsyncGenerator<Uint8Array, void, undefined> {
  for (const part of writeModel(model).finish()) {
    if (part instanceof Uint8Array) {
      yield part;
      continue;
    }
    let produced = 0;
    for await (const chunk of part.chunks()) {
      produced += chunk.byteLength;
      if (produced > part.byteLength) break;
      yield chunk;
    }
    if (produced !== part.byteLength) {
      throw new VideoLlavaError(
        'INVALID_FILE',
        `Deferred tensor bytes declared ${part.byteLength} bytes but produced ${produced}.`,
        {
          field: 'rawData',
          expected: part.byteLength,
          actual: produced,
        },
      );
    }
  }
}
