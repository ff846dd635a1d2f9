/**
 * Reads protobuf wire format just far enough to walk an ONNX `ModelProto` to its tensors.
 * Throws a plain Error on malformed bytes; {@link findExternalDataFiles} turns that into `undefined`.
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
  field(): { number: number; body: WireReader | undefined } {
    const key = this.varint();
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    switch (wireType) {
      case 0:
        this.varint();
        return { number, body: undefined };
      case 1:
        this.skip(8);
        return { number, body: undefined };
      case 2: {
        const length = this.varint();
        const start = this.position;
        this.skip(length);
        return { number, body: new WireReader(this.bytes, start, start + length) };
      }
      case 5:
        this.skip(4);
        return { number, body: undefined };
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
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const ATTRIBUTE_SPARSE_TENSOR = 22;
const ATTRIBUTE_SPARSE_TENSORS = 23;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

function visitTensor(reader: WireReader, found: Set<string>): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (number !== TENSOR_EXTERNAL_DATA || body === undefined) continue;
    let key: string | undefined;
    let value: string | undefined;
    while (!body.done) {
      const entry = body.field();
      if (entry.number === ENTRY_KEY && entry.body) key = entry.body.text();
      else if (entry.number === ENTRY_VALUE && entry.body) value = entry.body.text();
    }
    if (key === 'location' && value !== undefined) found.add(value);
  }
}

function visitSparseTensor(reader: WireReader, found: Set<string>): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (body && (number === SPARSE_VALUES || number === SPARSE_INDICES)) visitTensor(body, found);
  }
}

function visitGraph(reader: WireReader, found: Set<string>): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (body === undefined) continue;
    if (number === GRAPH_INITIALIZER) visitTensor(body, found);
    else if (number === GRAPH_SPARSE_INITIALIZER) visitSparseTensor(body, found);
    else if (number === GRAPH_NODE) visitNode(body, found);
  }
}

function visitNode(reader: WireReader, found: Set<string>): void {
  while (!reader.done) {
    const { number, body } = reader.field();
    if (number !== NODE_ATTRIBUTE || body === undefined) continue;
    while (!body.done) {
      const attribute = body.field();
      if (attribute.body === undefined) continue;
      if (attribute.number === ATTRIBUTE_TENSOR || attribute.number === ATTRIBUTE_TENSORS) visitTensor(attribute.body, found);
      else if (attribute.number === ATTRIBUTE_GRAPH || attribute.number === ATTRIBUTE_GRAPHS) visitGraph(attribute.body, found);
      else if (attribute.number === ATTRIBUTE_SPARSE_TENSOR || attribute.number === ATTRIBUTE_SPARSE_TENSORS) visitSparseTensor(attribute.body, found);
    }
  }
}

/**
 * The external data files an ONNX model refers to (each tensor's `location`, relative to the model's folder),
 * in the order they first appear, including those of subgraphs and constant attributes. Reading skips over
 * inline weights, so it is fast even for large models.
 *
 * @returns the file names, or `undefined` when the bytes are not an ONNX protobuf (ONNX Runtime then reports
 * what is wrong when it tries to load them)
 */
export function findExternalDataFiles(model: Uint8Array): string[] | undefined {
  const found = new Set<string>();
  try {
    const reader = new WireReader(model, 0, model.length);
    let sawGraph = false;
    while (!reader.done) {
      const { number, body } = reader.field();
      if (number === MODEL_GRAPH && body !== undefined) {
        sawGraph = true;
        visitGraph(body, found);
      }
    }
    if (!sawGraph) return undefined;
  } catch {
    return undefined;
  }
  return [...found];
}
