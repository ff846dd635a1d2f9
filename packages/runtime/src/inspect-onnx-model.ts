/**
 * Reads protobuf wire format just far enough to walk an ONNX `ModelProto` to its tensors.
 * Throws a plain Error on malformed bytes; {@link inspectOnnxModel} turns that into `undefined`.
 */
class WireReader {
  position: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let count = 0; count < 10; count++) {
      if (this.position >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.position++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  /** Reads one field: its number, and for length-delimited fields the reader of its contents. */
  field(): { number: number; body: WireReader | undefined; value: number | undefined } {
    const key = this.varint();
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    switch (wireType) {
      case 0:
        return { number, body: undefined, value: this.varint() };
      case 1:
        this.skip(8);
        return { number, body: undefined, value: undefined };
      case 2: {
        const length = this.varint();
        const start = this.position;
        this.skip(length);
        return { number, body: new WireReader(this.bytes, start, start + length), value: undefined };
      }
      case 5:
        this.skip(4);
        return { number, body: undefined, value: undefined };
      default:
        throw new Error(`wire type ${wireType}`);
    }
  }

  text(): string {
    return new TextDecoder().decode(this.bytes.subarray(this.position, this.end));
  }

  private skip(count: number): void {
    if (this.position + count > this.end) throw new Error('truncated field');
    this.position += count;
  }
}

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const MODEL_FUNCTIONS = 25;
const FUNCTION_NODE = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_VALUE_INFO = 13;
const GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_INT = 3;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const ATTRIBUTE_TYPE_PROTO = 14;
const ATTRIBUTE_TYPE_PROTOS = 15;
const ATTRIBUTE_SPARSE_TENSOR = 22;
const ATTRIBUTE_SPARSE_TENSORS = 23;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_DATA_TYPE = 2;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TYPE_SEQUENCE = 4;
const TYPE_OPTIONAL = 9;
const TYPE_SPARSE_TENSOR = 8;
const TENSOR_TYPE_ELEMENT = 1;
/** `TensorProto.DataType.FLOAT16`. */
const FLOAT16 = 10;
/** Attributes whose integer value is an element type (`Cast.to`, `RandomNormal.dtype`, ...). */
const TYPE_ATTRIBUTES = new Set(['to', 'dtype', 'output_dtype']);

/** What {@link inspectOnnxModel} learns about a model. */
export interface OnnxModelSummary {
  /** The external data files the model refers to (each tensor's `location`, relative to the model's folder), each once, in the order the file first names them. */
  externalDataFiles: string[];
  /**
   * Whether float16 appears anywhere: a tensor, a declared input, output or value type, or a type attribute
   * (`Cast` to float16). Backends use it to avoid devices that cannot compute in float16.
   */
  usesFloat16: boolean;
}

interface Findings {
  files: Set<string>;
  float16: boolean;
}

function readString(reader: WireReader | undefined): string | undefined {
  return reader?.text();
}

function visitTensor(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body, value } = reader.field();
    if (number === TENSOR_DATA_TYPE && value === FLOAT16) found.float16 = true;
    if (number !== TENSOR_EXTERNAL_DATA || body === undefined) continue;
    let key: string | undefined;
    let location: string | undefined;
    while (!body.done) {
      const entry = body.field();
      if (entry.number === ENTRY_KEY) key = readString(entry.body);
      else if (entry.number === ENTRY_VALUE) location = readString(entry.body);
    }
    if (key === 'location' && location !== undefined) found.files.add(location);
  }
}

function visitSparseTensor(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (body && (number === SPARSE_VALUES || number === SPARSE_INDICES)) visitTensor(body, found);
  }
}

function visitType(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (body === undefined) continue;
    if (number === TYPE_TENSOR || number === TYPE_SPARSE_TENSOR) {
      while (!body.done) {
        const field = body.field();
        if (field.number === TENSOR_TYPE_ELEMENT && field.value === FLOAT16) found.float16 = true;
      }
    } else if (number === TYPE_SEQUENCE || number === TYPE_OPTIONAL) {
      while (!body.done) {
        const field = body.field();
        if (field.number === 1 && field.body) visitType(field.body, found);
      }
    }
  }
}

function visitValueInfo(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (number === VALUE_INFO_TYPE && body) visitType(body, found);
  }
}

function visitGraph(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (body === undefined) continue;
    if (number === GRAPH_INITIALIZER) visitTensor(body, found);
    else if (number === GRAPH_SPARSE_INITIALIZER) visitSparseTensor(body, found);
    else if (number === GRAPH_NODE) visitNode(body, found);
    else if (number === GRAPH_INPUT || number === GRAPH_OUTPUT || number === GRAPH_VALUE_INFO)
      visitValueInfo(body, found);
  }
}

function visitAttribute(reader: WireReader, found: Findings): void {
  let name: string | undefined;
  let integer: number | undefined;
  while (!reader.done) {
    const { number, body, value } = reader.field();
    if (number === ATTRIBUTE_NAME) name = readString(body);
    else if (number === ATTRIBUTE_INT) integer = value;
    else if (body === undefined) continue;
    else if (number === ATTRIBUTE_TENSOR || number === ATTRIBUTE_TENSORS) visitTensor(body, found);
    else if (number === ATTRIBUTE_GRAPH || number === ATTRIBUTE_GRAPHS) visitGraph(body, found);
    else if (number === ATTRIBUTE_SPARSE_TENSOR || number === ATTRIBUTE_SPARSE_TENSORS) visitSparseTensor(body, found);
    else if (number === ATTRIBUTE_TYPE_PROTO || number === ATTRIBUTE_TYPE_PROTOS) visitType(body, found);
  }
  if (integer === FLOAT16 && name !== undefined && TYPE_ATTRIBUTES.has(name)) found.float16 = true;
}

function visitNode(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (number === NODE_ATTRIBUTE && body !== undefined) visitAttribute(body, found);
  }
}

function visitFunction(reader: WireReader, found: Findings): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (number === FUNCTION_NODE && body !== undefined) visitNode(body, found);
  }
}

/**
 * Reads what a backend needs to know about an ONNX model before loading it: the external data files it refers to
 * (including those of subgraphs and constant attributes) and whether it uses float16. Reading skips over inline
 * weights, so it is fast even for large models.
 *
 * @returns the summary, or `undefined` when the bytes are not an ONNX protobuf (ONNX Runtime then reports what is
 * wrong when it tries to load them)
 */
export function inspectOnnxModel(model: Uint8Array): OnnxModelSummary | undefined {
  const found: Findings = { files: new Set(), float16: false };
  try {
    const reader = new WireReader(model, 0, model.length);
    let sawGraph = false;
    while (!reader.done) {
      const { number, body } = reader.field();
      if (number === MODEL_GRAPH && body !== undefined) {
        sawGraph = true;
        visitGraph(body, found);
      } else if (number === MODEL_FUNCTIONS && body !== undefined) {
        visitFunction(body, found);
      }
    }
    if (!sawGraph) return undefined;
  } catch {
    return undefined;
  }
  return { externalDataFiles: [...found.files], usesFloat16: found.float16 };
}
