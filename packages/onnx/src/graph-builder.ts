import { VideoLlavaError } from '@video-llava/core';
import { type AttributeInput, toAttributeProto } from './attribute.js';
import type { TensorDataType } from './data-type.js';
import { type TensorInit, createTensor } from './tensor.js';
import type { Dimension, GraphProto, NodeProto, TensorProto, ValueInfoProto } from './types.js';

/** Options of one {@link GraphBuilder.node} call. */
export interface NodeOptions {
  /**
   * How many outputs, or their names. Generated names are unique in the graph.
   * @default 1
   */
  outputs?: number | readonly string[];
  /** Operator domain: `"com.microsoft"` for ONNX Runtime contrib ops. @default "" (ai.onnx) */
  domain?: string;
  /** Node name. @default `<opType>_<n>`, unique in the graph */
  name?: string;
  docString?: string;
}

/** Options of one {@link GraphBuilder.op} call: {@link NodeOptions} for a node of exactly one output. */
export interface OpOptions extends Omit<NodeOptions, 'outputs'> {
  /** The output's name. @default `<node name>_output`, unique in the graph */
  output?: string;
}

/** A node's inputs by name; `""`, `null` or `undefined` leave an optional input out. */
export type NodeInputs = readonly (string | null | undefined)[];

/** A node's attributes by name; those whose value is `undefined` are left out. */
export type NodeAttributes = Record<string, AttributeInput | undefined>;

/** A typed array for a numeric constant. */
type NumericValues = ArrayLike<number> | ArrayLike<bigint>;

function typedArrayFor(dataType: TensorDataType, values: NumericValues): ArrayBufferView {
  const numbers = Array.from(values as ArrayLike<number | bigint>);
  switch (dataType) {
    case 'float32':
      return Float32Array.from(numbers, Number);
    case 'float64':
      return Float64Array.from(numbers, Number);
    case 'int64':
      return BigInt64Array.from(numbers, (value) => BigInt(value));
    case 'uint64':
      return BigUint64Array.from(numbers, (value) => BigInt(value));
    case 'int32':
      return Int32Array.from(numbers, Number);
    case 'uint32':
      return Uint32Array.from(numbers, Number);
    case 'int16':
      return Int16Array.from(numbers, Number);
    case 'uint16':
      return Uint16Array.from(numbers, Number);
    case 'int8':
      return Int8Array.from(numbers, Number);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(numbers, Number);
    default:
      throw new VideoLlavaError(
        'UNSUPPORTED',
        `GraphBuilder.constant cannot convert numbers to ${dataType}; pass a TensorInit with raw bytes to constantTensor().`,
        {
          field: 'dataType',
          expected: 'float32, float64, int8..int64, uint8..uint64 or bool',
          actual: dataType,
        },
      );
  }
}

/**
 * Builds a {@link GraphProto} step by step: inputs, initializers, constants, nodes (with unique generated
 * names), outputs. Value names are strings; every method that creates a value returns its name.
 *
 * @example
 * const graph = new GraphBuilder('gemm');
 * const x = graph.input('x', 'float32', ['batch', 4]);
 * const w = graph.initializer('w', { dataType: 'float32', dims: [4, 3], data: new Float32Array(12) });
 * graph.output(graph.op('MatMul', [x, w]), 'float32', ['batch', 3], 'y');
 * const bytes = encodeModel(createModel(graph.build()));
 */
export class GraphBuilder {
  /** The graph's name. */
  readonly name: string;
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly valueInfos: ValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly counters = new Map<string, number>();

  constructor(name = 'main') {
    this.name = name;
  }

  /** A value name not used yet in this graph, based on `base` (`base`, then `base_1`, `base_2`, ...). */
  uniqueName(base: string): string {
    return this.claim(base, this.usedNames);
  }

  private claim(base: string, used: Set<string>): string {
    let candidate = base;
    let counter = this.counters.get(base) ?? 0;
    while (used.has(candidate)) candidate = `${base}_${++counter}`;
    this.counters.set(base, counter);
    used.add(candidate);
    return candidate;
  }

  private reserveExact(name: string, what: string): string {
    if (this.usedNames.has(name)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Graph ${JSON.stringify(this.name)}: ${what} name ${JSON.stringify(name)} is already used.`,
        {
          field: what,
          expected: 'a name not used yet in the graph',
          actual: name,
        },
      );
    }
    this.usedNames.add(name);
    return name;
  }

  /** Declares a graph input. `shape` entries: a size, a symbolic name, or `null` (unknown). */
  input(name: string, elemType: TensorDataType, shape?: readonly Dimension[]): string {
    this.reserveExact(name, 'input');
    this.inputs.push({ name, type: { tensorType: { elemType, shape } } });
    return name;
  }

  /**
   * Declares `value` as a graph output. With `name` different from `value`, an `Identity` node renames it.
   * @returns the output's name
   */
  output(value: string, elemType: TensorDataType, shape?: readonly Dimension[], name = value): string {
    let outputName = value;
    if (name !== value) {
      this.reserveExact(name, 'output');
      this.pushNode({
        opType: 'Identity',
        input: [value],
        output: [name],
        name: this.claim(`Identity_${name}`, this.nodeNames),
      });
      outputName = name;
    }
    this.outputs.push({ name: outputName, type: { tensorType: { elemType, shape } } });
    return outputName;
  }

  /** Records the type of an intermediate value (optional; helps tools and shape inference). */
  valueInfo(name: string, elemType: TensorDataType, shape?: readonly Dimension[]): void {
    this.valueInfos.push({ name, type: { tensorType: { elemType, shape } } });
  }

  /** Adds an initializer (a weight) named exactly `name`. */
  initializer(name: string, init: TensorInit): string {
    const tensor = createTensor(name, init);
    this.reserveExact(name, 'initializer');
    this.initializers.push(tensor);
    return name;
  }

  /** Adds an already made {@link TensorProto} as an initializer. */
  addInitializer(tensor: TensorProto): string {
    this.reserveExact(tensor.name, 'initializer');
    this.initializers.push(tensor);
    return tensor.name;
  }

  /** Adds a constant tensor as an initializer with a unique name based on `baseName`. */
  constantTensor(init: TensorInit, baseName = 'const'): string {
    const name = this.uniqueName(baseName);
    this.initializers.push(createTensor(name, init));
    return name;
  }

  /**
   * Adds a numeric constant. `dims` defaults to `[]` (a scalar) for one number and `[n]` for a list.
   * @example graph.constant('int64', [0, -1, 64]) // the shape operand of a Reshape
   */
  constant(
    dataType: TensorDataType,
    values: number | bigint | NumericValues,
    dims?: readonly number[],
    baseName = 'const',
  ): string {
    const list: NumericValues = typeof values === 'number' ? [values] : typeof values === 'bigint' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' || typeof values === 'bigint' ? [] : [list.length]);
    return this.constantTensor({ dataType, dims: shape, data: typedArrayFor(dataType, list) }, baseName);
  }

  private pushNode(node: NodeProto): void {
    this.nodes.push(node);
  }

  /**
   * Adds a node. Optional inputs may be left out with `""`, `null` or `undefined` (trailing ones are dropped).
   * Attributes whose value is `undefined` are left out.
   * @returns the names of its outputs
   */
  node(opType: string, inputs: NodeInputs, attributes: NodeAttributes = {}, options: NodeOptions = {}): string[] {
    const name =
      options.name === undefined
        ? this.claim(`${opType}_${this.nodes.length}`, this.nodeNames)
        : this.claimNodeName(options.name);
    const outputSpec = options.outputs ?? 1;
    const outputNames =
      typeof outputSpec === 'number'
        ? Array.from({ length: outputSpec }, (_, index) =>
            this.uniqueName(outputSpec === 1 ? `${name}_output` : `${name}_output_${index}`),
          )
        : outputSpec.map((output) => (output === '' ? '' : this.reserveExact(output, 'node output')));
    const inputNames = inputs.map((input) => input ?? '');
    while (inputNames.length > 0 && inputNames[inputNames.length - 1] === '') inputNames.pop();
    const attributeProtos = Object.entries(attributes)
      .filter((entry): entry is [string, AttributeInput] => entry[1] !== undefined)
      .map(([key, value]) => toAttributeProto(key, value));
    const node: NodeProto = { opType, input: inputNames, output: outputNames, name };
    if (attributeProtos.length > 0) node.attribute = attributeProtos;
    if (options.domain !== undefined && options.domain !== '') node.domain = options.domain;
    if (options.docString !== undefined) node.docString = options.docString;
    this.pushNode(node);
    return outputNames;
  }

  private claimNodeName(name: string): string {
    if (this.nodeNames.has(name)) {
      throw new VideoLlavaError(
        'INVALID_ARGUMENT',
        `Graph ${JSON.stringify(this.name)}: node name ${JSON.stringify(name)} is already used.`,
        {
          field: 'name',
          expected: 'a node name not used yet',
          actual: name,
        },
      );
    }
    this.nodeNames.add(name);
    return name;
  }

  /** Adds a node with one output and returns that output's name (see {@link node}). */
  op(opType: string, inputs: NodeInputs, attributes: NodeAttributes = {}, options: OpOptions = {}): string {
    const { output, ...rest } = options;
    return this.node(opType, inputs, attributes, { ...rest, outputs: output === undefined ? 1 : [output] })[0]!;
  }

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The initializers added so far. */
  get initializerList(): readonly TensorProto[] {
    return this.initializers;
  }

  /** The graph as a {@link GraphProto}. The builder can keep being used; later changes do not affect it. */
  build(options: { docString?: string } = {}): GraphProto {
    const graph: GraphProto = {
      name: this.name,
      node: [...this.nodes],
      initializer: [...this.initializers],
      input: [...this.inputs],
      output: [...this.outputs],
    };
    if (this.valueInfos.length > 0) graph.valueInfo = [...this.valueInfos];
    if (options.docString !== undefined) graph.docString = options.docString;
    return graph;
  }
}
