// An ONNX model as a plain graph with every tensor's shape: the input to decomposition. Shapes
// are inferred here for the operators vision models use; the user gives the input shape where
// the model leaves dimensions dynamic.
import onnxProto from 'onnx-proto';
import { foldValues, MAX_TRACKED_ELEMENTS } from './fold.js';

const { onnx } = onnxProto;
type Shape = number[];

export interface OnnxNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, number | number[] | string>;
}

export interface Graph {
  nodes: OnnxNode[];
  /** Initializer dims, and int64/float values where small (shape and axis constants). */
  constants: Map<string, { dims: Shape; values?: number[] }>;
  /** Every tensor known before the model runs: initializers, Constant nodes, and what folds from them. */
  constantTensors: Set<string>;
  /** Values of the small constant tensors (shapes, axes, scales), folded through the nodes that compute them. */
  values: Map<string, number[]>;
  /** The tensors among those of an integer type (their Div truncates). */
  integers: Set<string>;
  /** Nodes whose inputs are all constant: the runtime computes them once, at load (constant folding). */
  folded: Set<OnnxNode>;
  shapes: Map<string, Shape>;
  input: { name: string; shape: Shape };
  output: string;
  /** Ops whose output shape could not be inferred (the graph's value_info was used, or the first input's shape). */
  guessedShapes: string[];
}

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

function attrValue(a: onnxProto.onnx.IAttributeProto): number | number[] | string {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT: return Number(a.i ?? 0);
    case T.INTS: return (a.ints ?? []).map(Number);
    case T.FLOAT: return a.f ?? 0;
    case T.FLOATS: return a.floats ?? [];
    case T.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.TENSOR: return a.t ? tensorValues(a.t) ?? [] : [];
    default: return 0;
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
  if (inputs.length !== 1) throw new ModelError(`the model has ${inputs.length} inputs; decomposition takes models with one image or token input`);
  const declared = dimsOf(inputs[0]!);
  const shape = inputShape ? [...inputShape] : declared;
  if (inputShape) {
    if (inputShape.length !== declared.length) throw new ModelError(`--input-shape has ${inputShape.length} dims, the model's input '${inputs[0]!.name}' has ${declared.length} ([${declared.join(', ')}])`);
    declared.forEach((d, i) => {
      if (d > 0 && d !== inputShape[i]) throw new ModelError(`--input-shape dim ${i} is ${inputShape[i]}, the model fixes it to ${d}`);
    });
  }
  if (shape.some((d) => !(d > 0))) throw new ModelError(`the model's input '${inputs[0]!.name}' has dynamic dims [${declared.join(', ')}]; give --input-shape`);
  const nodes: OnnxNode[] = g.node.map((n, i) => ({
    name: n.name || `${n.opType}_${i}`, op: n.opType!, inputs: n.input ?? [], outputs: n.output ?? [],
    attrs: Object.fromEntries((n.attribute ?? []).map((a) => [a.name!, attrValue(a)])),
  }));
  const valueInfo = new Map([...(g.valueInfo ?? []), ...(g.output ?? [])].map((v) => [v.name!, dimsOf(v)]));
  const graph: Graph = {
    nodes, constants, constantTensors: new Set(constants.keys()), values: new Map(), integers: new Set(), folded: new Set(), shapes: new Map(),
    input: { name: inputs[0]!.name!, shape }, output: g.output?.[0]?.name ?? '', guessedShapes: [],
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
  const values = tensor ? tensorValues(tensor) : ([] as number[]).concat((node.attrs[a?.name ?? ''] as number | number[] | undefined) ?? []);
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
  const integer = node.op === 'Shape' || (node.op === 'Cast' ? isIntegerType(node.attrs.to as number) : inputs.every((t) => g.integers.has(t)));
  if (integer) node.outputs.forEach((t) => g.integers.add(t));
  const values = foldValues(node.op, node.inputs.map((t) => g.values.get(t)), node.inputs.map((t) => g.shapes.get(t) ?? []), node.attrs, outShape, integer);
  if (out && values && values.length <= MAX_TRACKED_ELEMENTS) g.values.set(out, values);
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

function window(x: Shape, node: OnnxNode, channels: number): Shape {
  const k = (node.attrs.kernel_shape as number[] | undefined) ?? [];
  const s = (node.attrs.strides as number[] | undefined) ?? k.map(() => 1);
  const p = (node.attrs.pads as number[] | undefined) ?? [...k, ...k].map(() => 0);
  const d = (node.attrs.dilations as number[] | undefined) ?? k.map(() => 1);
  if (node.attrs.auto_pad && node.attrs.auto_pad !== 'NOTSET') {
    return [x[0]!, channels, ...k.map((_, i) => Math.ceil(x[2 + i]! / s[i]!))];
  }
  return [x[0]!, channels, ...k.map((kk, i) => Math.floor((x[2 + i]! + p[i]! + p[i + k.length]! - d[i]! * (kk - 1) - 1) / s[i]!) + 1)];
}

function inferShapes(g: Graph, node: OnnxNode, valueInfo: Map<string, number[]>): void {
  const shape = (i: number) => g.shapes.get(node.inputs[i] ?? '') ?? [];
  const constant = (i: number) => g.values.get(node.inputs[i] ?? '');
  const x = shape(0);
  const set = (...outs: Shape[]) => outs.forEach((s, i) => node.outputs[i] && g.shapes.set(node.outputs[i]!, s));
  const a = node.attrs;
  switch (node.op) {
    case 'Conv': {
      const w = shape(1);
      if (!a.kernel_shape) a.kernel_shape = w.slice(2);
      return set(window(x, node, w[0]!));
    }
    case 'MaxPool': case 'AveragePool': return set(window(x, node, x[1]!));
    case 'GlobalAveragePool': case 'GlobalMaxPool': return set([...x.slice(0, 2), ...x.slice(2).map(() => 1)]);
    case 'Relu': case 'Clip': case 'HardSwish': case 'HardSigmoid': case 'Sigmoid': case 'Tanh': case 'LeakyRelu':
    case 'Sqrt': case 'Erf': case 'Gelu': case 'Softmax': case 'LayerNormalization': case 'BatchNormalization':
    case 'Identity': case 'Dropout': case 'Neg': case 'Exp': case 'Reciprocal': case 'Cast': case 'PRelu': case 'Mish':
    case 'Softplus': case 'Sin': case 'Cos': case 'CumSum': case 'Floor': case 'Ceil': case 'Abs': case 'Log': case 'Not':
    case 'Elu': case 'Selu': case 'Celu': case 'ThresholdedRelu': case 'Round': case 'Sign': case 'HardMax': case 'LogSoftmax':
    case 'InstanceNormalization': case 'GroupNormalization': case 'LpNormalization':
      return set(x);
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min': case 'Equal': case 'Greater': case 'Less':
    case 'And': case 'Or': case 'Mod':
      return set(node.inputs.slice(1).reduce((s, _, i) => broadcast(s, shape(i + 1)), x));
    case 'Where': return set(broadcast(broadcast(x, shape(1)), shape(2)));
    case 'Shape': {
      const start = norm((a.start as number | undefined) ?? 0, x.length);
      const end = a.end === undefined ? x.length : Math.min(x.length, norm(a.end as number, x.length));
      return set([Math.max(0, end - start)]);
    }
    case 'ConstantOfShape': {
      const dims = constant(0);
      if (!dims) break;
      return set(dims);
    }
    case 'Expand': {
      const to = constant(1);
      if (!to) break;
      return set(broadcast(x, to));
    }
    case 'Range': {
      const [start, limit, delta] = [constant(0), constant(1), constant(2)];
      if (!start || !limit || !delta || delta[0] === 0) break;
      return set([Math.max(0, Math.ceil((limit[0]! - start[0]!) / delta[0]!))]);
    }
    case 'Gather': {
      const axis = norm((a.axis as number | undefined) ?? 0, x.length);
      return set([...x.slice(0, axis), ...shape(1), ...x.slice(axis + 1)]);
    }
    case 'Pad': {
      const pads = constant(1) ?? (a.pads as number[] | undefined);
      if (!pads) break;
      const axes = (constant(3) ?? x.map((_, i) => i)).map((v) => norm(v, x.length));
      const out = [...x];
      axes.forEach((ax, j) => (out[ax] = x[ax]! + pads[j]! + pads[j + axes.length]!));
      return set(out);
    }
    case 'Resize': case 'Upsample': {
      const sizes = constant(3);
      const scales = constant(node.op === 'Upsample' ? 1 : 2);
      if (sizes?.length === x.length) return set(sizes);
      if (scales?.length === x.length) return set(x.map((v, i) => Math.floor(v * scales[i]!)));
      break;
    }
    case 'Gemm': {
      const w = shape(1);
      return set([a.transA ? x[1]! : x[0]!, a.transB ? w[0]! : w[1]!]);
    }
    case 'MatMul': {
      const w = shape(1);
      const batch = broadcast(x.slice(0, -2), w.slice(0, -2));
      return set([...batch, x[x.length - 2]!, w[w.length - 1]!]);
    }
    case 'Flatten': {
      const axis = norm((a.axis as number | undefined) ?? 1, x.length);
      const prod = (s: Shape) => s.reduce((p, v) => p * v, 1);
      return set([prod(x.slice(0, axis)), prod(x.slice(axis))]);
    }
    case 'Reshape': {
      const target = constant(1);
      if (!target) break;
      const out = target.map((v, i) => (v === 0 ? x[i]! : v));
      const known = out.filter((v) => v > 0).reduce((p, v) => p * v, 1);
      return set(out.map((v) => (v === -1 ? x.reduce((p, q) => p * q, 1) / known : v)));
    }
    case 'Transpose': {
      const perm = (a.perm as number[] | undefined) ?? x.map((_, i) => x.length - 1 - i);
      return set(perm.map((p) => x[p]!));
    }
    case 'Concat': {
      const axis = norm(a.axis as number, x.length);
      const out = [...x];
      out[axis] = node.inputs.reduce((s, _, i) => s + shape(i)[axis]!, 0);
      return set(out);
    }
    case 'Split': {
      const axis = norm((a.axis as number | undefined) ?? 0, x.length);
      const n = node.outputs.length;
      const sizes = constant(1) ?? (a.split as number[] | undefined) ?? Array.from({ length: n }, (_, i) => Math.ceil(x[axis]! / n) - (i === n - 1 ? n * Math.ceil(x[axis]! / n) - x[axis]! : 0));
      return set(...sizes.map((s) => x.map((v, i) => (i === axis ? s : v))));
    }
    case 'Slice': {
      const [starts, ends, axes, steps] = [constant(1), constant(2), constant(3), constant(4)];
      if (!starts || !ends) break;
      const out = [...x];
      starts.forEach((s, j) => {
        const axis = norm(axes?.[j] ?? j, x.length);
        const dim = x[axis]!;
        const clamp = (v: number) => Math.max(0, Math.min(dim, v < 0 ? v + dim : v));
        out[axis] = Math.max(0, Math.ceil((clamp(ends[j]!) - clamp(s)) / (steps?.[j] ?? 1)));
      });
      return set(out);
    }
    case 'Squeeze': {
      const axes = (constant(1) ?? (a.axes as number[] | undefined) ?? x.flatMap((v, i) => (v === 1 ? [i] : []))).map((v) => norm(v, x.length));
      return set(x.filter((_, i) => !axes.includes(i)));
    }
    case 'Unsqueeze': {
      const axes = constant(1) ?? (a.axes as number[] | undefined) ?? [];
      const out = [...x];
      for (const ax of axes.map((v) => norm(v, x.length + axes.length)).sort((p, q) => p - q)) out.splice(ax, 0, 1);
      return set(out);
    }
    case 'ReduceMean': case 'ReduceMax': case 'ReduceSum': case 'ReduceL2': case 'ReduceMin': case 'ReduceProd': {
      const axes = (constant(1) ?? (a.axes as number[] | undefined) ?? x.map((_, i) => i)).map((v) => norm(v, x.length));
      const keep = (a.keepdims as number | undefined) ?? 1;
      return set(keep ? x.map((v, i) => (axes.includes(i) ? 1 : v)) : x.filter((_, i) => !axes.includes(i)));
    }
  }
  // An operator this module does not model: take the shape the model declares, else guess.
  g.guessedShapes.push(node.op);
  node.outputs.forEach((o) => g.shapes.set(o, valueInfo.get(o)?.every((d) => d > 0) ? valueInfo.get(o)! : x));
}
