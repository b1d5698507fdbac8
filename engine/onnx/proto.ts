import protobuf from 'protobufjs';

/**
 * The subset of onnx/onnx.proto (field numbers as upstream) that the graph builder writes: a model with
 * one graph of nodes, initializers and typed inputs/outputs. Encoding the ModelProto ourselves lets the
 * graphs be built in memory, per weights and layer set, with no model files and no Python toolchain.
 */
const ONNX_SUBSET = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional int32 type = 20;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
}
`;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorMessage {
  name?: string;
  dims: number[];
  data_type: DataTypeCode;
  raw_data: Uint8Array;
}

export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
}

export interface NodeMessage {
  name: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
}

/** A dimension: a fixed size, or a name for a size only known when the session runs. */
export type Dim = number | string;

export interface ValueInfoMessage {
  name: string;
  type: {
    tensor_type: {
      elem_type: DataTypeCode;
      shape: { dim: ({ dim_value: number } | { dim_param: string })[] };
    };
  };
}

export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}

let types: { model: protobuf.Type; graph: protobuf.Type; tensor: protobuf.Type } | undefined;

/**
 * Serialises a ModelProto with one graph, importing the default ONNX opset `opset`.
 *
 * protobufjs encodes the structure; the initializers (up to ~100 MB of weights) are framed by hand into one
 * preallocated buffer, because protobufjs's growing writer copies them several times (over a second for the
 * paper's layers). Protobuf fields may come in any order and repeated fields may be appended, so the graph
 * is its encoded nodes, inputs and outputs followed by one length-delimited `initializer` (field 5) per tensor.
 */
export function encodeModel(graph: GraphMessage, opset: number): Uint8Array {
  if (!types) {
    const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
    types = {
      model: root.lookupType('onnx.ModelProto'),
      graph: root.lookupType('onnx.GraphProto'),
      tensor: root.lookupType('onnx.TensorProto'),
    };
  }
  const { initializer, ...structure } = graph;
  const parts: Uint8Array[] = [types.graph.encode(structure).finish()];
  for (const { raw_data, ...header } of initializer) {
    const head = types.tensor.encode(header).finish();
    const rawField = Uint8Array.from([...key(9), ...varint(raw_data.length)]);
    const tensorLength = head.length + rawField.length + raw_data.length;
    parts.push(Uint8Array.from([...key(5), ...varint(tensorLength)]), head, rawField, raw_data);
  }
  const graphLength = parts.reduce((n, p) => n + p.length, 0);
  // IR version 8 goes with opsets up to 18.
  const model = {
    ir_version: 8,
    producer_name: 'stylize-bot',
    opset_import: [{ domain: '', version: opset }],
  };
  parts.unshift(types.model.encode(model).finish(), Uint8Array.from([...key(7), ...varint(graphLength)]));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The key of a length-delimited field (wire type 2). */
const key = (field: number) => varint((field << 3) | 2);

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 127) {
    bytes.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

export function valueInfo(name: string, elemType: DataTypeCode, dims: readonly Dim[]): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}
