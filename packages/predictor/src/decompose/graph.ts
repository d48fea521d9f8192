// An ONNX model as a plain graph with every tensor's shape: the input to decomposition. It is read
// node by node: constants folded (fold.ts), shapes inferred (shapes.ts); the user gives the input
// shape where the model leaves dimensions dynamic.
import onnxProto from 'onnx-proto';
import { foldValues, MAX_TRACKED_ELEMENTS } from './fold.js';
import { inferShapes } from './shapes.js';
import type { Graph, OnnxNode } from './graph-types.js';

const { onnx } = onnxProto;

export type { Graph, OnnxNode } from './graph-types.js';

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

function attrValue(a: onnxProto.onnx.IAttributeProto): number | number[] | string {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return Number(a.i ?? 0);
    case T.INTS:
      return (a.ints ?? []).map(Number);
    case T.FLOAT:
      return a.f ?? 0;
    case T.FLOATS:
      return a.floats ?? [];
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.TENSOR:
      return a.t ? (tensorValues(a.t) ?? []) : [];
    default:
      return 0;
  }
}

function tensorValues(t: onnxProto.onnx.ITensorProto): number[] | undefined {
  const count = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
  if (count > MAX_TRACKED_ELEMENTS) return undefined;
  const D = onnx.TensorProto.DataType;
  if (t.int64Data?.length) return t.int64Data.map(Number);
  if (t.floatData?.length) return [...t.floatData];
  const raw = t.rawData;
  if (!raw?.length) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.dataType === D.INT64) return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  if (t.dataType === D.FLOAT) return Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
  if (t.dataType === D.INT32) return Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
  if (t.dataType === D.DOUBLE) return Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
  if (t.dataType === D.BOOL || t.dataType === D.UINT8) return Array.from({ length: count }, (_, i) => view.getUint8(i));
  return undefined;
}

const dimsOf = (v: onnxProto.onnx.IValueInfoProto) =>
  (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : -1));

/** Reads a model; `inputShape` fills dynamic input dims (and must agree with fixed ones). */
export function loadGraph(bytes: Uint8Array, inputShape?: readonly number[]): Graph {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelError(`not an ONNX model: ${(e as Error).message}`);
  }
  const g = model.graph;
  if (!g?.node?.length) throw new ModelError('the ONNX model has no graph nodes');
  const constants = new Map((g.initializer ?? []).map((t) => [t.name!, { dims: (t.dims ?? []).map(Number), values: tensorValues(t) }]));
  const inputs = (g.input ?? []).filter((i) => !constants.has(i.name!));
  if (inputs.length !== 1)
    throw new ModelError(`the model has ${inputs.length} inputs; decomposition takes models with one image or token input`);
  const declared = dimsOf(inputs[0]!);
  const shape = inputShape ? [...inputShape] : declared;
  if (inputShape) {
    if (inputShape.length !== declared.length)
      throw new ModelError(
        `--input-shape has ${inputShape.length} dims, the model's input '${inputs[0]!.name}' has ${declared.length} ` +
          `([${declared.join(', ')}])`,
      );
    declared.forEach((d, i) => {
      if (d > 0 && d !== inputShape[i]) throw new ModelError(`--input-shape dim ${i} is ${inputShape[i]}, the model fixes it to ${d}`);
    });
  }
  if (shape.some((d) => !(d > 0)))
    throw new ModelError(`the model's input '${inputs[0]!.name}' has dynamic dims [${declared.join(', ')}]; give --input-shape`);
  const nodes: OnnxNode[] = g.node.map((n, i) => ({
    name: n.name || `${n.opType}_${i}`,
    op: n.opType!,
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attrs: Object.fromEntries((n.attribute ?? []).map((a) => [a.name!, attrValue(a)])),
  }));
  const valueInfo = new Map([...(g.valueInfo ?? []), ...(g.output ?? [])].map((v) => [v.name!, dimsOf(v)]));
  const graph: Graph = {
    nodes,
    constants,
    constantTensors: new Set(constants.keys()),
    values: new Map(),
    integers: new Set(),
    folded: new Set(),
    shapes: new Map(),
    input: { name: inputs[0]!.name!, shape },
    output: g.output?.[0]?.name ?? '',
    guessedShapes: [],
  };
  graph.shapes.set(graph.input.name, shape);
  for (const [name, c] of constants) {
    graph.shapes.set(name, c.dims);
    if (c.values) graph.values.set(name, c.values);
  }
  for (const t of g.initializer ?? []) if (isIntegerType(t.dataType)) graph.integers.add(t.name!);
  g.node.forEach((raw, i) => {
    const node = nodes[i]!;
    try {
      if (node.op === 'Constant') return constantNode(graph, node, raw);
      inferShapes(graph, node, valueInfo);
      fold(graph, node);
    } catch (e) {
      throw new ModelError(`node '${node.name}' (${node.op}): ${(e as Error).message}`);
    }
  });
  return graph;
}

const INTEGER_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13]);
const isIntegerType = (t: number | null | undefined) => INTEGER_TYPES.has(t ?? 0);

/** A Constant node: its tensor's dims and (small) values, known at load. */
function constantNode(g: Graph, node: OnnxNode, raw: onnxProto.onnx.INodeProto): void {
  const out = node.outputs[0];
  if (!out) return;
  const a = raw.attribute?.[0];
  const tensor = a?.t;
  const values = tensor
    ? tensorValues(tensor)
    : ([] as number[]).concat((node.attrs[a?.name ?? ''] as number | number[] | undefined) ?? []);
  const dims = tensor ? (tensor.dims ?? []).map(Number) : a?.name?.endsWith('s') ? [values?.length ?? 0] : [];
  g.shapes.set(out, dims);
  g.constantTensors.add(out);
  if (tensor ? isIntegerType(tensor.dataType) : a?.name?.startsWith('value_int')) g.integers.add(out);
  if (values) g.values.set(out, values);
}

/** Marks a node folded when all its inputs are constant (or it reads only a static shape), and folds its values. */
function fold(g: Graph, node: OnnxNode): void {
  const inputs = node.inputs.filter((t) => t !== '');
  const staticShape = node.op === 'Shape' && (g.shapes.get(inputs[0] ?? '') ?? []).every((d) => d > 0);
  if (!staticShape && (inputs.length === 0 || !inputs.every((t) => g.constantTensors.has(t)))) return;
  g.folded.add(node);
  node.outputs.forEach((t) => g.constantTensors.add(t));
  const out = node.outputs[0];
  const outShape = g.shapes.get(out ?? '') ?? [];
  const integer =
    node.op === 'Shape' || (node.op === 'Cast' ? isIntegerType(node.attrs.to as number) : inputs.every((t) => g.integers.has(t)));
  if (integer) node.outputs.forEach((t) => g.integers.add(t));
  const values = foldValues(
    node.op,
    node.inputs.map((t) => g.values.get(t)),
    node.inputs.map((t) => g.shapes.get(t) ?? []),
    node.attrs,
    outShape,
    integer,
  );
  if (out && values && values.length <= MAX_TRACKED_ELEMENTS) g.values.set(out, values);
}

/**
 * The number of nodes in a model's main graph, read from the protobuf wire format without decoding
 * a node (a 300,000-node model is counted in milliseconds, before anyone spends seconds parsing
 * it); undefined where the bytes are not a well-formed ModelProto (the parser then says why).
 * Written by hand: protobufjs decodes whole messages, and this needs two tags of two messages.
 */
export function countGraphNodes(bytes: Uint8Array): number | undefined {
  const graph = lengthDelimited(bytes, 0, bytes.length, MODEL_GRAPH_FIELD);
  if (graph === undefined) return undefined;
  let nodes = 0;
  const ok = walk(bytes, graph[0], graph[1], (field) => {
    if (field === GRAPH_NODE_FIELD) nodes++;
  });
  return ok ? nodes : undefined;
}

/** ModelProto.graph and GraphProto.node (onnx.proto). */
const MODEL_GRAPH_FIELD = 7;
const GRAPH_NODE_FIELD = 1;

function varint(b: Uint8Array, at: number, end: number): [value: number, next: number] | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < end && shift < 64; shift += 7, i++) {
    value += (b[i]! & 0x7f) * 2 ** shift;
    if ((b[i]! & 0x80) === 0) return [value, i + 1];
  }
  return undefined;
}

/** Calls `on` with each field of the message in b[start, end); false where the bytes are malformed. */
function walk(b: Uint8Array, start: number, end: number, on: (field: number, valueStart: number, valueEnd: number) => void): boolean {
  for (let at = start; at < end;) {
    const key = varint(b, at, end);
    if (!key) return false;
    const [tag, next] = key;
    const field = Math.floor(tag / 8),
      wire = tag % 8;
    let valueEnd: number;
    if (wire === 0) {
      const v = varint(b, next, end);
      if (!v) return false;
      valueEnd = v[1];
    } else if (wire === 1) valueEnd = next + 8;
    else if (wire === 5) valueEnd = next + 4;
    else if (wire === 2) {
      const len = varint(b, next, end);
      if (!len) return false;
      on(field, len[1], len[1] + len[0]);
      valueEnd = len[1] + len[0];
    } else return false;
    if (valueEnd > end) return false;
    at = valueEnd;
  }
  return true;
}

function lengthDelimited(b: Uint8Array, start: number, end: number, wanted: number): [number, number] | undefined {
  let found: [number, number] | undefined;
  return walk(b, start, end, (field, s, e) => {
    if (field === wanted) found = [s, e];
  })
    ? found
    : undefined;
}
