// An ONNX model as a plain graph with every tensor's shape: the input to decomposition. Shapes
// are inferred here for the operators vision models use; the user gives the input shape where
// the model leaves dimensions dynamic.
import onnxProto from 'onnx-proto';

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
    default: return 0;
  }
}

function tensorValues(t: onnxProto.onnx.ITensorProto): number[] | undefined {
  const count = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
  if (count > 64) return undefined;
  const D = onnx.TensorProto.DataType;
  if (t.int64Data?.length) return t.int64Data.map(Number);
  if (t.floatData?.length) return [...t.floatData];
  const raw = t.rawData;
  if (!raw?.length) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.dataType === D.INT64) return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  if (t.dataType === D.FLOAT) return Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
  if (t.dataType === D.INT32) return Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
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
  const graph: Graph = { nodes, constants, shapes: new Map(), input: { name: inputs[0]!.name!, shape }, output: g.output?.[0]?.name ?? '', guessedShapes: [] };
  graph.shapes.set(graph.input.name, shape);
  for (const [name, c] of constants) graph.shapes.set(name, c.dims);
  for (const node of nodes) inferShapes(graph, node, valueInfo);
  return graph;
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
  const constant = (i: number) => g.constants.get(node.inputs[i] ?? '')?.values;
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
    case 'Identity': case 'Dropout': case 'Neg': case 'Exp': case 'Reciprocal': case 'Cast':
      return set(x);
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min': return set(broadcast(x, shape(1)));
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
    case 'ReduceMean': case 'ReduceMax': case 'ReduceSum': {
      const axes = (constant(1) ?? (a.axes as number[] | undefined) ?? x.map((_, i) => i)).map((v) => norm(v, x.length));
      const keep = (a.keepdims as number | undefined) ?? 1;
      return set(keep ? x.map((v, i) => (axes.includes(i) ? 1 : v)) : x.filter((_, i) => !axes.includes(i)));
    }
  }
  // An operator this module does not model: take the shape the model declares, else guess.
  g.guessedShapes.push(node.op);
  node.outputs.forEach((o) => g.shapes.set(o, valueInfo.get(o)?.every((d) => d > 0) ? valueInfo.get(o)! : x));
}
