import {
  type AttributeMessage,
  AttributeType,
  DataType,
  type DataTypeCode,
  type Dim,
  encodeModel,
  type GraphMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
  valueInfo,
} from './proto.ts';

/** Default-domain opset the graphs are written against (ReduceMean/ReduceSumSquare still take `axes` attributes). */
export const OPSET = 17;

/** Attribute values: integers and integer lists, or `{ float }` for the float attributes. */
export type Attr = number | readonly number[] | string | { float: number };

/**
 * A minimal ONNX graph builder: every `op` call appends a node and returns its output value names, which
 * are unique, so the graph reads like straight-line code. Constants become initializers.
 */
export class GraphBuilder {
  readonly #nodes: NodeMessage[] = [];
  readonly #initializers: TensorMessage[] = [];
  readonly #inputs: ValueInfoMessage[] = [];
  readonly #outputs: ValueInfoMessage[] = [];
  readonly #int64Constants = new Map<string, string>();
  readonly #floatConstants = new Map<number, string>();
  #counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.#counter++}`;
  }

  input(name: string, dims: readonly Dim[], elemType: DataTypeCode = DataType.FLOAT): string {
    this.#inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares `value` as the graph output `name` (through an Identity node when the names differ). */
  output(name: string, value: string, dims: readonly Dim[], elemType: DataTypeCode = DataType.FLOAT): void {
    if (value !== name) this.#node('Identity', [value], {}, [name]);
    this.#outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 initializer (weights). */
  floats(prefix: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.fresh(prefix);
    this.#initializers.push({ name, dims: [...dims], data_type: DataType.FLOAT, raw_data: bytes(data) });
    return name;
  }

  /** A float32 scalar constant (shared between uses). */
  scalar(value: number): string {
    let name = this.#floatConstants.get(value);
    if (!name) {
      name = this.floats('c', Float32Array.of(value), []);
      this.#floatConstants.set(value, name);
    }
    return name;
  }

  /** An int64 vector constant (shapes, axes, pads), shared between uses. */
  ints(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.#int64Constants.get(key);
    if (!name) {
      name = this.fresh('i');
      const data = BigInt64Array.from(values, (v) => BigInt(v));
      this.#initializers.push({
        name,
        dims: [values.length],
        data_type: DataType.INT64,
        raw_data: bytes(data),
      });
      this.#int64Constants.set(key, name);
    }
    return name;
  }

  /** Appends a node with one output and returns the output's name. */
  op(type: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.#node(type, inputs, attrs, [this.fresh(type.toLowerCase())])[0]!;
  }

  /** Appends a node with `outputs` outputs and returns their names. */
  opN(type: string, inputs: readonly string[], outputs: number, attrs: Record<string, Attr> = {}): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(type.toLowerCase()));
    return this.#node(type, inputs, attrs, names);
  }

  /** The serialised ModelProto. */
  encode(): Uint8Array {
    const graph: GraphMessage = {
      name: this.name,
      node: this.#nodes,
      initializer: this.#initializers,
      input: this.#inputs,
      output: this.#outputs,
    };
    return encodeModel(graph, OPSET);
  }

  /** Node count by operator type (for tests and benchmarks). */
  opCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const node of this.#nodes) counts.set(node.op_type, (counts.get(node.op_type) ?? 0) + 1);
    return counts;
  }

  #node(type: string, inputs: readonly string[], attrs: Record<string, Attr>, outputs: string[]): string[] {
    this.#nodes.push({
      name: outputs[0]!,
      op_type: type,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return outputs;
  }
}

function attribute(name: string, value: Attr): AttributeMessage {
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float: ${value} } for a float`);
    return { name, type: AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

/**
 * Little-endian bytes of a typed array (ONNX raw_data is little-endian; so is every platform Node runs on).
 * A Buffer view, not a plain Uint8Array: protobufjs copies Buffers with memcpy but plain arrays byte by byte.
 */
function bytes(data: Float32Array | BigInt64Array): Uint8Array {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
